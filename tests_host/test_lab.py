"""`make lab` / `make test-lab`, sampled so they do not rot (make test installs
the lab's venv and ser2net first: mk/lab.mk): a one-rig lab on its own
coordinator port refuses to run on a place this client has not acquired,
runs a device test file through the place once acquired (board port over
RFC 2217, module side over the TCP control channel, a JUnit XML for the
place), `make station LAB=1` provisions the acquired place, and its ser2net
listens on 127.0.0.1 only and takes one client at a time. The whole suite on
every place is `make test-lab RIGS=N`."""

import importlib.util
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

import harness

sys.path.insert(0, str(harness.ROOT / "tools"))
import lab  # noqa: E402

WRAPPER = harness.ROOT / "lab" / "bin" / "ser2net"


def _conftest():
    spec = importlib.util.spec_from_file_location("lab_conftest", harness.ROOT / "lab" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_worker_gets_its_own_place():
    place_for = _conftest().place_for
    places = ["rig1", "rig2", "rig3"]
    assert [place_for("gw%d" % i, places) for i in range(3)] == places
    with pytest.raises(pytest.UsageError, match="worker gw3 has no place"):
        place_for("gw3", places)
    with pytest.raises(pytest.UsageError, match="LAB_PLACES is empty"):
        place_for("gw0", [])


def test_the_ser2net_wrapper_binds_127_0_0_1_and_takes_one_client(tmp_path):
    shown = tmp_path / "args"
    fake = tmp_path / "ser2net"
    fake.write_text('#!/bin/sh\nfor a do printf "%%s\\n" "$a"; done > %s\n' % shown)
    fake.chmod(0o755)
    args = ["-d", "-n", "-Y", "connection: &con01#  accepter: telnet(rfc2217,mode=server),tcp,4001",
            "-Y", "  connector: serialdev(nouucplock=true),/dev/pts/3,115200n81,local",
            "-Y", "  options:", "-Y", "    max-connections: 10"]
    subprocess.run([str(WRAPPER)] + args, env=dict(os.environ, SER2NET=str(fake)), check=True)
    assert shown.read_text().splitlines() == [
        "-d", "-n", "-Y", "connection: &con01#  accepter: telnet(rfc2217,mode=server),tcp,127.0.0.1,4001",
        "-Y", "  connector: serialdev(nouucplock=true),/dev/pts/3,115200n81,local",
        "-Y", "  options:", "-Y", "    max-connections: 1"]


def test_exporter_config_and_tags():
    assert lab.exporter_config([("rig1", "/dev/pts/3")]) == (
        "rig1:\n  RawSerialPort:\n    port: /dev/pts/3\n    speed: 115200\n")
    assert lab.tag_value("SARA-R510M8S") == "sara_r510m8s"


def _listening(port):
    """The local addresses listening on TCP port (from /proc/net/tcp)."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, hexport = local.split(":")
        if state == "0A" and int(hexport, 16) == port:
            found.append(socket.inet_ntoa(bytes.fromhex(addr)[::-1]))
    return found


def _ser2net_port(log, seconds=30):
    """The port of the ser2net the exporter runs now (its last start not yet stopped)."""
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = log.read_text()
        started = re.findall(r"started ser2net for \S+ on port (\d+)", text)
        stopped = re.findall(r"stopped ser2net for \S+ on port (\d+)", text)
        if started and started[-1] not in stopped:
            return int(started[-1])
        time.sleep(0.2)
    raise AssertionError("no ser2net running after acquiring:\n" + log.read_text()[-3000:])


def test_a_one_rig_lab_refuses_an_unacquired_place_and_runs_on_an_acquired_one(tmp_path):
    if not (lab.LAB_VENV / "bin" / "labgrid-client").exists():
        pytest.fail("labgrid is not installed in %s: run `make lab` (make test installs it)"
                    % lab.LAB_VENV, pytrace=False)
    with socket.socket() as probe:     # a coordinator port of its own, beside any `make lab`
        probe.bind(("127.0.0.1", 0))
        coordinator = "127.0.0.1:%d" % probe.getsockname()[1]
    rig = lab.Lab(1, workdir=tmp_path / "lab", coordinator=coordinator)
    try:
        places = rig.start()
        assert places == ["rig1"]
        shown = rig.client("-p", "rig1", "show").stdout
        assert re.search(r"tags:.*board=virtual", shown) and "module=spec" in shown, shown
        assert "control_port=" in shown, shown

        refused = lab.run_tests(rig, places, acquire=False, select="test_chip",
                                junit_dir=tmp_path / "junit", capture=True)
        out = refused.stdout + refused.stderr
        assert refused.returncode != 0 and "place rig1 is not acquired by this client" in out, out
        assert " passed" not in out.splitlines()[-1], out

        ran = lab.run_tests(rig, places, select="test_chip", junit_dir=tmp_path / "junit", capture=True)
        assert ran.returncode == 0, ran.stdout[-6000:] + ran.stderr[-2000:]
        suite = ElementTree.parse(str(tmp_path / "junit" / "junit-rig1.xml")).getroot()
        assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("1", "0", "0")
        assert "acquired: None" in rig.client("-p", "rig1", "show").stdout   # released

        # the exporter runs ser2net while the place is acquired: on 127.0.0.1, one client
        rig.client("-p", "rig1", "acquire")
        try:
            # make station LAB=1: the acquired places' ports, through labgrid
            config = tmp_path / "station.json"
            config.write_text('{"certificates": [{"file": "%s", "type": "CA", "name": "LabCA"}]}'
                              % (harness.TESTS_DEVICE / "data" / "thawte.pem"))
            station = subprocess.run([sys.executable, str(harness.ROOT / "tools" / "station.py"), str(config),
                                      "--lab", "--record", str(tmp_path / "records.jsonl")],
                                     env=dict(os.environ, LAB_COORDINATOR=coordinator),
                                     capture_output=True, text=True, timeout=300)
            assert station.returncode == 0, station.stdout + station.stderr
            assert "1 board(s): 1 provisioned" in station.stdout and "rfc2217://127.0.0.1:" in station.stdout
            port = _ser2net_port(tmp_path / "lab" / "exporter.log")
            assert _listening(port) == ["127.0.0.1"], (port, _listening(port))
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                with socket.create_connection(("127.0.0.1", port), timeout=5) as second:
                    second.settimeout(5)
                    data = b""
                    try:
                        while True:
                            more = second.recv(4096)
                            if not more:
                                break
                            data += more
                    except ConnectionResetError:
                        pass
                    # telnet negotiation, then ser2net's refusal, then the close
                    assert data.endswith(b"Port already in use\r\n"), data
        finally:
            rig.client("-p", "rig1", "release", check=False)
    finally:
        rig.stop()
