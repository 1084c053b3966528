"""The on-target tests (tests_device/test_*.py) as pytest results: one case
per file, run after a soft reset on the board with the library deployed as
.mpy. The default target is the virtual rig (a fresh simulator and board per
file); PORT=<mpremote connect string> (and BOARD=<boards/ file>, default
pico) runs them on a real board wired to a real module.

HIL_TESTS_DIR=<dir> runs the test_*.py of another directory (it must hold
runner.py and what its tests import); the harness's own tests use it.
"""

import os
from pathlib import Path

import pytest

import harness

TESTS_DIR = Path(os.environ.get("HIL_TESTS_DIR") or harness.TESTS_DEVICE)
DEVICE_TESTS = sorted(p.stem for p in TESTS_DIR.glob("test_*.py"))


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


@pytest.fixture(scope="session")
def real_board(mpy_build):
    """$PORT with the library and tests deployed once, or None."""
    target = harness.target_from_env()
    if target is not None:
        harness.deploy(target, mpy_build(target), os.environ.get("BOARD") or "pico", tests_dir=TESTS_DIR)
    return target


@pytest.fixture
def hil_target(request, real_board, mpy_build):
    if real_board is not None:
        return real_board
    rig = request.getfixturevalue("rig")
    target = harness.Target(rig.connect)
    harness.deploy(target, mpy_build(target), "virtual", tests_dir=TESTS_DIR)
    return target


@pytest.mark.parametrize("name", DEVICE_TESTS)
def test_on_device(hil_target, name):
    harness.run_device_test(hil_target, name).check()
