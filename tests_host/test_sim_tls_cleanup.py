"""A TLS connection that fails after the handshake started is closed, never leaked."""

import threading

import pytest

from ubxsim import tls

from test_sim_tls import at, device, https_get, pki, reason, serve, trust  # noqa: F401 (fixtures)


@pytest.fixture
def tls_sockets(monkeypatch):
    """Every SSLSocket tls.connect builds, whether connect returns it or not."""
    made = []
    real_check = tls.check_peer

    def recording_check(sslsock, *args):
        made.append(sslsock)
        return real_check(sslsock, *args)
    monkeypatch.setattr(tls, "check_peer", recording_check)
    return made


def test_failed_hostname_check_closes_the_tls_socket(device, pki, serve, tls_sockets):
    serve()
    trust(device, pki, level=2)
    at(device, 'AT+USECPRF=2,4,"elsewhere.test"')
    assert https_get(device) == 0
    assert "does not match host" in reason(device)
    assert len(tls_sockets) == 1 and tls_sockets[0].fileno() == -1


def test_failure_in_session_handling_closes_the_tls_socket(device, pki, serve, tls_sockets,
                                                         monkeypatch):
    serve()
    trust(device, pki)
    at(device, "AT+USECPRF=2,13,0,1")

    def broken(*args):
        raise RuntimeError("session store failed")
    monkeypatch.setattr(device.profiles, "session_established", broken)
    assert https_get(device) == 0
    assert "session store failed" in reason(device)
    assert len(tls_sockets) == 1 and tls_sockets[0].fileno() == -1


def test_request_changes_module_state_only_on_the_engine_thread(device, pki, serve, monkeypatch):
    """The worker never writes the file system or a profile itself (device.call does)."""
    import concurrent.futures
    serve()
    trust(device, pki)
    at(device, "AT+USECPRF=2,13,0,1")
    engine = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="stand-in-engine")
    device.call_sink = lambda fn: engine.submit(fn).result()
    writers = []
    real_write, real_established = device.fs.write, device.profiles.session_established

    def write(*args):
        writers.append(("fs", threading.current_thread().name))
        return real_write(*args)

    def established(*args):
        writers.append(("profile", threading.current_thread().name))
        return real_established(*args)
    monkeypatch.setattr(device.fs, "write", write)
    monkeypatch.setattr(device.profiles, "session_established", established)
    try:
        assert https_get(device) == 1
    finally:
        engine.shutdown()
    assert sorted(kind for kind, _ in writers) == ["fs", "profile"]
    assert all(name.startswith("stand-in-engine") for _, name in writers)
