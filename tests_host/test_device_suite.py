"""The on-target tests (tests_device/test_*.py) as pytest results: one case
per file, run after a soft reset on the board with the library deployed as
.mpy. The default target is the virtual rig, on each virtual board (unix64,
wasm32; VBOARD=<name> picks one): the library and the tests are
deployed once per board to a flash, then each file gets a fresh simulator
and a fresh board booted from that flash. PORT=<mpremote connect string>
(BOARD=<boards/ file> when the board cannot name itself) runs them once on a real board
wired to a real module instead.

Some files need the host beside them while they run (HOST_SIDES): the
simulator's control channel sends what the device cannot cause itself (URCs,
a finished TLS handshake) and the host checks the device's report against
what the simulator did. With PORT, RIG_CONTROL names the rig's module side
(the simulator's control socket, or tcp:HOST:PORT with RIG_TOKEN: rigctl);
without it (a real module) those files are skipped, except where the host's
part is only an extra check.

A module keeps its state between runs: every device test removes what it
creates, and with PORT the suite first clears what an interrupted run left
(tests_device/cleanup.py, clear_leftovers), so runs in a row pass on one rig.

HIL_TESTS_DIR=<dir> runs the test_*.py of another directory (it must hold
runner.py and what its tests import); the harness's own tests use it.
"""

import os
import re
import threading
import time
from pathlib import Path

import pytest

import harness
import rigctl
from fixtures_board import board_missing, boards_under_test

TESTS_DIR = Path(os.environ.get("HIL_TESTS_DIR") or harness.TESTS_DEVICE)
DEVICE_TESTS = sorted(p.stem for p in TESTS_DIR.glob("test_*.py"))


def reported(output, key):
    """The value of the device's `HOST <key> <value>` line."""
    found = re.findall(r"^HOST %s (\S+)\s*$" % re.escape(key), output, re.M)
    assert len(found) == 1, "the device printed %d `HOST %s` lines:\n%s" % (len(found), key, output)
    return found[0]


def echo_on(sim):
    """The Feeders below start once the device's library has sent ATE0: a
    module that keeps its state (a rig's, between files and runs) may have
    echo off already, so it is power-cycled first (echo on, as at power-up)."""
    if not sim.control("status")["echo"]:
        sim.control("restart")
        for _ in range(200):
            if sim.control("status")["state"] == "command":
                return
            time.sleep(0.05)
        raise AssertionError("the module did not finish booting after a restart")


class Feeder(threading.Thread):
    """Calls send(n) for n = 1, 2, ... every `interval` seconds until stopped,
    from when the device's library has started (sent ATE0): what the module
    sends before the device listens would be lost or half read."""

    def __init__(self, sim, send, interval):
        super().__init__(daemon=True)
        self.sim = sim
        self.send = send
        self.interval = interval
        self.sent = 0
        self.halt = threading.Event()

    def run(self):
        while self.sim.control("status")["echo"]:
            if self.halt.wait(0.01):
                return
        while not self.halt.wait(self.interval):
            self.send(self.sent + 1)
            self.sent += 1

    def stop(self):
        self.halt.set()
        self.join()


class UrcSide:
    """tests_device/test_urcs.py: numbered URCs (+UUSEQ: n) from the control
    channel at any moment, and seeded bursts (+UUBURST: 1/2) after bytes the
    module receives inside '>' transfers and between the lines of responses.
    Every burst line the simulator sent must have reached the device's handler."""

    needs_sim = True
    BURST_LINES = ["+UUBURST: 1", "+UUBURST: 2"]
    BURST_COUNT = 2
    FAULTS = {"seed": 7, "urc_burst": {"p": 0.02, "where": ["transfer", "response"],
                                       "lines": BURST_LINES, "count": BURST_COUNT}}

    def __init__(self, sim):
        self.sim = sim
        self.feeder = Feeder(sim, lambda n: sim.control("urc", line="+UUSEQ: %d" % n), 0.01)

    def start(self):
        echo_on(self.sim)
        self.sim.control("faults", spec=self.FAULTS)
        self.feeder.start()

    def stop(self):
        self.feeder.stop()
        self.fired = self.sim.control("faults")["fired"].get("urc_burst", 0)
        self.sim.control("faults", spec={})

    def check(self, result):
        assert self.fired > 0, "no URC burst fired: the test proves nothing"
        lines = self.fired * self.BURST_COUNT * len(self.BURST_LINES)
        assert int(reported(result.output, "burst-urcs")) == lines
        seen = int(reported(result.output, "seq-urcs"))
        assert 0 < seen <= self.feeder.sent


class SessionSide:
    """tests_device/test_session.py: the simulator's "session" control verb
    stands in for a TLS handshake on profile 4 that ends with a session
    ticket: once the device enables session resumption there, the module
    stores TICKET and sends +UUSECPRF: 4,13,0,2. Every status URC the device
    counted was one the simulator sent, and after the device's last test
    (a profile reset) a handshake makes the module send nothing."""

    needs_sim = True
    PROFILE = 4
    # the device computes the same bytes (test_session.TICKET)
    TICKET = bytes((i * 13 + 5) & 0xFF for i in range(96))
    STATUS_URC = "+UUSECPRF: 4,13,0,2"

    def __init__(self, sim):
        self.sim = sim
        self.sent_urcs = []
        self.feeder = Feeder(sim, lambda n: self.sent_urcs.extend(self._handshake()), 0.05)

    def _handshake(self):
        return self.sim.control("session", profile_id=self.PROFILE,
                                ticket=self.TICKET.hex())["urcs"]

    def start(self):
        echo_on(self.sim)
        self.feeder.start()

    def stop(self):
        self.feeder.stop()
        self.urcs_after_end = self._handshake()

    def check(self, result):
        assert set(self.sent_urcs) == {self.STATUS_URC}, self.sent_urcs
        seen = int(reported(result.output, "session-urcs"))
        assert 0 < seen <= len(self.sent_urcs), (seen, len(self.sent_urcs))
        assert self.urcs_after_end == [], "resumption still enabled after the device's reset"


class ChipSide:
    """tests_device/test_chip.py: the chip ID the library read is the one the
    simulator holds (on a real board the device's own checks remain)."""

    needs_sim = False

    def __init__(self, sim):
        self.sim = sim

    def start(self):
        pass

    def stop(self):
        pass

    def check(self, result):
        assert reported(result.output, "chip-id") == self.sim.control("chip_id")


class AioSide:
    """tests_device/test_aio.py: +UUSECPRF: 3,13,0,2 every 50 ms for its URC
    task, and a local HTTPS server the module reaches as aio.test; the
    device saw the URCs, and its GET (where its asyncio runs) was served."""

    needs_sim = True
    LINE = "+UUSECPRF: 3,13,0,2"
    HOST = "aio.test"

    def __init__(self, sim):
        self.sim = sim
        self.feeder = Feeder(sim, lambda n: sim.control("urc", line=self.LINE), 0.05)
        self.server = None

    def start(self):
        import tempfile
        from https_server import HttpsServer
        from pki import TestPki
        pki = TestPki()
        directory = tempfile.mkdtemp(prefix="aio-https-")
        self.server = HttpsServer(chain=pki.write_server_files(directory, pki.server, "server"))
        self.server.start()
        self.sim.control("hosts", map={self.HOST: ["127.0.0.1", self.server.port]})
        self.feeder.start()

    def stop(self):
        self.feeder.stop()
        self.server.stop()

    def check(self, result):
        assert int(reported(result.output, "aio-urcs")) == 3
        assert self.feeder.sent >= 3
        got = reported(result.output, "aio-https")
        if got != "none":   # "none": a port without asyncio.run (wasm32)
            assert got == "200", got
            assert any(h["request"] == "GET / HTTP/1.1" for h in self.server.handshakes), \
                self.server.handshakes


HOST_SIDES = {"test_urcs": UrcSide, "test_session": SessionSide, "test_chip": ChipSide,
              "test_aio": AioSide}


@pytest.fixture(scope="session")
def mpy_build(tmp_path_factory):
    """The library compiled once per session, for the target's arch."""
    cache = {}

    def build(target):
        info = target.mpy_info()
        if info not in cache:
            cache[info] = harness.compile_lib(info, tmp_path_factory.mktemp("mpy"))
        return cache[info]
    return build


_CLEAN = """\
import sys, os
sys.path.insert(0, os.getcwd().rstrip('/') + '/tests')
import cleanup
cleanup.clean()
"""


def clear_leftovers(target):
    """Remove what an interrupted run left on the rig (tests_device/cleanup.py);
    returns the LEFTOVER lines the device printed."""
    out = target.exec(_CLEAN, timeout=300, check=False)
    text = out.stdout + out.stderr
    if out.returncode or not re.search(r"^CLEAN \d+\s*$", text, re.M):
        raise harness.HarnessError("clearing the rig's leftovers failed:\n" + text[-3000:])
    return [line.strip() for line in text.splitlines() if line.startswith("LEFTOVER ")]


@pytest.fixture(scope="session")
def real_board(mpy_build):
    """$PORT with the library and tests deployed once, what an interrupted
    run left cleared (when the suite has a cleanup.py), or None."""
    target = harness.target_from_env()
    if target is not None:
        harness.deploy(target, mpy_build(target), os.environ.get("BOARD") or None, tests_dir=TESTS_DIR)
        if (TESTS_DIR / "cleanup.py").exists():
            for line in clear_leftovers(target):
                print("cleared from an earlier run: " + line[len("LEFTOVER "):])
    return target


@pytest.fixture(scope="session")
def module_side():
    """The rig's module side from $RIG_CONTROL (rigctl.Control), or None."""
    return rigctl.from_env()


@pytest.fixture(scope="session")
def deployed_flash(tmp_path_factory, mpy_build):
    """deployed_flash(board): a virtual board's flash directory with the
    library and the tests deployed (once per board: deploying is most of a
    file's run time)."""
    from fixtures_board import VBoard
    flashes = {}

    def deploy(board):
        if board not in flashes:
            workdir = tmp_path_factory.mktemp("vflash-" + board)
            vb = VBoard(workdir, flash=workdir / "flash", board=board)
            try:
                target = harness.Target(vb.connect)
                harness.deploy(target, mpy_build(target), "virtual", tests_dir=TESTS_DIR)
            finally:
                vb.stop()
            flashes[board] = workdir / "flash"
        return flashes[board]
    return deploy


@pytest.fixture
def virtual_rig(deployed_flash, sim_factory, vboard_factory):
    """virtual_rig(board) -> (simulator, Target): a fresh module and a fresh
    board on the deployed flash."""
    def start(board):
        flash = deployed_flash(board)
        sim = sim_factory(baud=115200)
        vb = vboard_factory(uart=sim.link, flash=flash, board=board)
        return sim, harness.Target(vb.connect)
    return start


@pytest.mark.parametrize("board", boards_under_test())
@pytest.mark.parametrize("name", DEVICE_TESTS)
def test_on_device(request, real_board, name, board):
    side_class = HOST_SIDES.get(name)
    if real_board is not None:
        if board != boards_under_test()[0]:
            pytest.skip("PORT is set: the device tests run once, on the real board")
        ctl = request.getfixturevalue("module_side")
        if ctl is not None:
            run_with_host_side(ctl, real_board, name)
            return
        if side_class is not None and side_class.needs_sim:
            pytest.skip("%s needs the rig's module side (RIG_CONTROL: the simulator's "
                        "control channel)" % name)
        harness.run_device_test(real_board, name).check()
        return
    missing = board_missing(board)
    if missing:   # as toolchain.require: a broken toolchain fails, never skips
        pytest.fail(missing, pytrace=False)
    sim, target = request.getfixturevalue("virtual_rig")(board)
    run_with_host_side(sim, target, name)


def run_with_host_side(sim, target, name):
    """Run one device test file on target, with its HOST_SIDES helper (if
    it has one) driving the simulator beside it; fails with the device's
    messages or the side's findings."""
    side_class = HOST_SIDES.get(name)
    side = side_class(sim) if side_class is not None else None
    if side is not None:
        side.start()
    try:
        result = harness.run_device_test(target, name)
    finally:
        if side is not None:
            side.stop()
    result.check()
    if side is not None:
        side.check(result)
