"""pytest plugin: the virtual boards and the full rig.

Two virtual boards share one interface (a launcher that links a pty REPL and
prints `vboard ready LINK`): VIRTUAL_BOARDS maps their names to launchers.
    unix64  boards/unix/launch.py   MicroPython's unix port (64-bit)
    wasm32  boards/wasm32/launch.py MicroPython's WebAssembly port under node (32-bit)
A VBoard without board= is $VBOARD's (default unix64).

    vboard_factory(uart=None, heapsize=None, flash=None, mount=None, board=None)
                    start the launcher (REPL link and flash in tmp_path unless
                    flash= names a directory; the flash mounted at $VBOARD_MOUNT,
                    "/" by default, "/flash" as on stm32); returns a VBoard with .connect
                    (the mpremote connect string), .flash, .log(), .stop()
    vboard          vboard_factory() with no UART wired
    rig_factory(baud=115200, heapsize=None, board=None, **sim_opts)
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
VIRTUAL_BOARDS = {
    "unix64": LAUNCHER,
    "wasm32": ROOT / "boards" / "wasm32" / "launch.py",
}
WASM_RUNTIME = (ROOT / "build" / "wasm32" / "node_modules" / "@micropython"
                / "micropython-webassembly-pyscript" / "micropython.mjs")
_VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(_VENV_PYTHON) if _VENV_PYTHON.exists() else sys.executable
READY_TIMEOUT = 30.0


class BoardError(Exception):
    pass


def boards_under_test():
    """The virtual boards the device tests run on: $VBOARD alone when set, else all."""
    chosen = os.environ.get("VBOARD", "").strip()
    return [board_name(chosen)] if chosen else sorted(VIRTUAL_BOARDS)


def board_name(board=None):
    """board, or $VBOARD, or unix64; BoardError if it is not a virtual board."""
    name = board or os.environ.get("VBOARD") or "unix64"
    if name not in VIRTUAL_BOARDS:
        raise BoardError("no virtual board %r (known: %s)" % (name, ", ".join(VIRTUAL_BOARDS)))
    return name


def board_missing(board):
    """Why `board` cannot start here (what to install), or None."""
    if board == "wasm32" and not WASM_RUNTIME.exists():
        return "the WebAssembly port is not installed: run `make wasm32`"
    return None


class VBoard:
    """One launcher process: a virtual board (unix64 or wasm32)."""

    def __init__(self, workdir, uart=None, heapsize=None, flash=None, mount=None, board=None):
        self.board = board_name(board)
        launcher = VIRTUAL_BOARDS[self.board]
        workdir = Path(workdir)
        tag = "%x" % id(self)
        self.connect = str(workdir / ("vboard-%s.tty" % tag))
        self.flash = str(flash) if flash is not None else str(workdir / ("flash-%s" % tag))
        self.log_path = workdir / ("vboard-%s.log" % tag)
        cmd = [PYTHON, str(launcher), "--link", self.connect, "--flash", self.flash]
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

    def start(uart=None, heapsize=None, flash=None, mount=None, board=None):
        board = VBoard(tmp_path, uart=uart, heapsize=heapsize, flash=flash, mount=mount, board=board)
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

    def start(baud=115200, heapsize=None, board=None, **sim_opts):
        sim = sim_factory(baud=baud, **sim_opts)
        board = vboard_factory(uart=sim.link, heapsize=heapsize, board=board)
        return Rig(sim, board)
    return start


@pytest.fixture
def rig(rig_factory):
    return rig_factory()
