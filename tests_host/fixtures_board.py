"""pytest plugin: the virtual board (boards/unix/launch.py) and the full rig.

    vboard_factory(uart=None, heapsize=None, flash=None, mount=None)
                    start the launcher (REPL link and flash in tmp_path unless
                    flash= names a directory; the flash mounted at $VBOARD_MOUNT,
                    "/" by default, "/flash" as on stm32); returns a VBoard with .connect
                    (the mpremote connect string), .flash, .log(), .stop()
    vboard          vboard_factory() with no UART wired
    rig_factory(baud=115200, heapsize=None, **sim_opts)
                    the simulator (sim_factory from fixtures_sim) and a virtual
                    board wired to it; returns a Rig with .connect, .sim, .board
    rig             rig_factory() with the defaults

Every process started here is stopped on teardown (SIGTERM, then SIGKILL).
"""

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = ROOT / "boards" / "unix" / "launch.py"
_VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(_VENV_PYTHON) if _VENV_PYTHON.exists() else sys.executable
READY_TIMEOUT = 30.0


class BoardError(Exception):
    pass


class VBoard:
    """One launcher process: the virtual board."""

    def __init__(self, workdir, uart=None, heapsize=None, flash=None, mount=None):
        workdir = Path(workdir)
        tag = "%x" % id(self)
        self.connect = str(workdir / ("vboard-%s.tty" % tag))
        self.flash = str(flash) if flash is not None else str(workdir / ("flash-%s" % tag))
        self.log_path = workdir / ("vboard-%s.log" % tag)
        cmd = [PYTHON, str(LAUNCHER), "--link", self.connect, "--flash", self.flash]
        if uart is not None:
            cmd += ["--uart", str(uart)]
        if heapsize is not None:
            cmd += ["--heapsize", str(heapsize)]
        mount = mount or os.environ.get("VBOARD_MOUNT")
        if mount:
            cmd += ["--mount", mount]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, cwd=str(ROOT))
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                seen += line
                if line.startswith(b"vboard ready "):
                    return
            if self.proc.poll() is not None:
                break
        self.stop()
        raise BoardError("virtual board not ready (stdout %r):\n%s" % (seen, self.log()))

    def log(self):
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, grace=5.0):
        """SIGTERM, SIGKILL if it lingers; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


class Rig:
    """The simulator and a virtual board whose UART 0 is wired to it."""

    def __init__(self, sim, board):
        self.sim = sim
        self.board = board
        self.connect = board.connect


@pytest.fixture
def vboard_factory(tmp_path):
    started = []

    def start(uart=None, heapsize=None, flash=None, mount=None):
        board = VBoard(tmp_path, uart=uart, heapsize=heapsize, flash=flash, mount=mount)
        started.append(board)
        return board
    yield start
    for board in reversed(started):
        board.stop()


@pytest.fixture
def vboard(vboard_factory):
    return vboard_factory()


@pytest.fixture
def rig_factory(request, vboard_factory):
    try:
        sim_factory = request.getfixturevalue("sim_factory")
    except pytest.FixtureLookupError:
        pytest.fail("the simulator fixture sim_factory (fixtures_sim) is not loaded", pytrace=False)

    def start(baud=115200, heapsize=None, **sim_opts):
        sim = sim_factory(baud=baud, **sim_opts)
        board = vboard_factory(uart=sim.link, heapsize=heapsize)
        return Rig(sim, board)
    return start


@pytest.fixture
def rig(rig_factory):
    return rig_factory()
