"""A module restart ends every HTTP request in flight: no busy profile, no URC, no file."""

import socket

import pytest

from fixtures_sim import AtClient, final_result, info_lines

HOST = "server.test"


class SilentServer:
    """Accepts connections and answers only when the test says so."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.conns = []

    def accept(self):
        conn, _ = self.sock.accept()
        conn.settimeout(10)
        self.conns.append(conn)
        return conn

    def answer(self, conn, body):
        conn.recv(4096)  # the request
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(4096):  # until the module closes: its request is over
            pass

    def close(self):
        for conn in self.conns:
            conn.close()
        self.sock.close()


@pytest.fixture
def server():
    srv = SilentServer()
    yield srv
    srv.close()


def test_restart_orphans_a_running_request(sim_factory, server):
    sim = sim_factory(boot_seconds=0)
    sim.control("hosts", map={HOST: ["127.0.0.1", server.port]})
    at = AtClient(sim.link)
    try:
        at.send("ATE0")
        assert final_result(at.send('AT+UHTTP=0,1,"%s"' % HOST)) == "OK"
        assert final_result(at.send('AT+UHTTPC=0,1,"/","old.resp"')) == "OK"
        old = server.accept()  # the request hangs: the server never answers it
        assert final_result(at.send("AT+CFUN=16")) == "OK"
        sim.wait_booted()

        at.send("ATE0")
        assert final_result(at.send('AT+UHTTP=0,1,"%s"' % HOST)) == "OK"
        # the profile is free again at once
        assert final_result(at.send('AT+UHTTPC=0,1,"/","new.resp"')) == "OK"
        new = server.accept()
        server.answer(old, b"old")  # the orphan ends first ...
        server.answer(new, b"new")
        seen = at.read_until(rb"\+UUHTTPCR: [^\r]*\r\n", timeout=10)
        seen += at.send("AT")  # a round trip: anything else queued comes first
        assert seen.count(b"+UUHTTPCR:") == 1 and b"+UUHTTPCR: 0,1,1" in seen
        raw = at.send("AT+ULSTFILE=")
        assert info_lines(raw) == ['+ULSTFILE: "new.resp"']
    finally:
        at.close()
