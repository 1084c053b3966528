"""The control channel and the process life cycle (ready line, signals, link)."""

import json
import os
import signal
import socket

import pytest

from fixtures_sim import CORE_FAMILIES, SimError, final_result, info_lines


@pytest.fixture
def sim(sim_factory):
    return sim_factory(families=CORE_FAMILIES)


def test_ready_line_names_the_link_and_link_is_a_pty(sim):
    assert sim.ready_line == "ubxsim ready %s\n" % sim.link
    assert os.path.islink(sim.link)
    assert os.readlink(sim.link).startswith("/dev/pts/")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_cleanly_and_removes_the_link(sim, sig):
    sim.proc.send_signal(sig)
    assert sim.proc.wait(10) == 0
    assert not os.path.lexists(sim.link)


def test_urc_verb(sim, at):
    at.send("ATE0")
    assert sim.control("urc", line="+UUSECPRF: 0,13,0,2") is None
    assert at.read_until(rb"\r\n\+UU.*\r\n") == b"\r\n+UUSECPRF: 0,13,0,2\r\n"


def test_urc_verb_rejects_multiline(sim):
    with pytest.raises(SimError):
        sim.control("urc", line="+UUA: 1\r\nOK")


def test_restart_verb_resets_session_state(sim, at):
    at.send("ATE0")
    sim.control("restart")
    assert sim.control("status")["echo"] is True


def test_guard_verb(sim):
    sim.control("guard", seconds=1.5)
    assert sim.control("status")["guard_seconds"] == 1.5
    with pytest.raises(SimError):
        sim.control("guard", seconds=0)


def test_status_verb_follows_the_session(sim, at):
    at.send("AT+CMEE=2")
    status = sim.control("status")
    assert status["cmee"] == 2 and status["state"] == "command" and status["baud"] == 0
    assert status["guard_seconds"] == 2.0  # the fixture's --guard-seconds


def test_device_control_verbs_get_keyword_arguments(sim, at):
    sim.control("fs_write", name="seeded", data="abc")
    assert info_lines(at.send('AT+URDFILE="seeded"')) == ['+URDFILE: "seeded",3,"abc"']
    assert sim.control("fs_list") == ["seeded"]
    chip = sim.control("chip_id")
    assert info_lines(at.send("AT+USECCHIP")) == ['+USECCHIP: "%s"' % chip]


def test_device_control_errors_are_reported(sim):
    with pytest.raises(SimError, match="CmeError"):
        sim.control("fs_read", name="missing")


def test_unknown_verb_is_an_error(sim):
    with pytest.raises(SimError, match="unknown verb"):
        sim.control("no_such_verb")


def test_one_connection_many_requests_and_bad_json(sim):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(sim.control_path)
        stream = sock.makefile("rwb")
        for request in (b"not json\n", b'{"verb": "status"}\n', b'["verb"]\n'):
            stream.write(request)
            stream.flush()
        replies = [json.loads(stream.readline()) for _ in range(3)]
    assert [r["ok"] for r in replies] == [False, True, False]
    assert replies[1]["result"]["state"] == "command"


def test_faults_verb_sets_and_reports(sim, at):
    sim.control("faults", spec={"seed": 3, "spurious_error": {"times": 1}})
    assert final_result(at.send("AT")) == "ERROR"
    assert final_result(at.send("AT")) == "OK"
    assert sim.control("faults")["fired"] == {"spurious_error": 1}
    with pytest.raises(SimError, match="unknown fault kind"):
        sim.control("faults", spec={"no_such_fault": {}})


# -- over TCP ------------------------------------------------------------------

def test_tcp_control_listens_on_127_0_0_1_and_needs_no_token_there(sim_factory):
    from fixtures_sim import AtClient
    sim = sim_factory(families=CORE_FAMILIES, control="tcp:0")
    assert sim.control_path.startswith("tcp:127.0.0.1:") and sim.token is None
    assert sim.control("status")["state"] == "command"
    at = AtClient(sim.link)
    try:
        at.send("ATE0")
        sim.control("urc", line="+UUSECPRF: 1,13,0,2")
        assert at.read_until(rb"\r\n\+UU.*\r\n") == b"\r\n+UUSECPRF: 1,13,0,2\r\n"
    finally:
        at.close()


def test_tcp_control_on_a_given_host_refuses_every_command_without_its_token(sim_factory):
    from rigctl import Control, ControlError
    sim = sim_factory(families=CORE_FAMILIES, control="tcp:127.0.0.1:0")
    assert len(sim.token or "") == 32, sim.token
    for token in (None, "0" * 32, ""):
        for verb, kw in (("status", {}), ("urc", {"line": "+UUX: 1"}), ("restart", {}),
                         ("fs_write", {"name": "x", "data": "y"})):
            with pytest.raises(ControlError, match="(no|wrong) token.*printed at start"):
                Control(sim.control_path, token)(verb, **kw)
    assert sim.control("fs_list") == []           # nothing ran; the token opens it
    sim.control("fs_write", name="seeded", data="abc")
    assert Control(sim.control_path, sim.token)("fs_list") == ["seeded"]


@pytest.mark.parametrize("bad", ["tcp:", "tcp:x", "tcp:70000", "tcp::5"])
def test_a_bad_tcp_address_is_refused_at_start(bad):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "ubxsim", "--link", "/tmp/unused.tty", "--control", bad],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "tcp:[HOST:]PORT" in proc.stderr, proc.stderr
