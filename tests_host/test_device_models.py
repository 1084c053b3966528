"""The device suite (tests_device/test_*.py) against every module model
but "spec" (test_device_suite.py runs that one): the library on the virtual
board, the simulator behaving as a real series (ubxsim --model, models.py).

One simulator and one board per model serve all the files in turn (a soft
reset between files and a module power cycle, as on a real rig): the files
leave the module as they found it. The host's part of the files that need one (HOST_SIDES) is the
same as in test_device_suite.py. Virtual rig only: a real board has the one
module it is wired to (test_device_suite.py runs on it).
"""

import os

import pytest

import harness
from fixtures_board import VBoard
from fixtures_sim import SimProcess
from test_device_suite import DEVICE_TESTS, HOST_SIDES, TESTS_DIR
from ubxsim import models

MODELS = [name for name in sorted(models.MODELS) if name != models.DEFAULT]

pytestmark = pytest.mark.skipif(bool(os.environ.get("PORT", "").strip()),
                                reason="module models are for the virtual rig")


@pytest.fixture(scope="module")
def models_flash(tmp_path_factory):
    """A board flash with the library and the device tests, deployed once."""
    workdir = tmp_path_factory.mktemp("models-flash")
    board = VBoard(workdir, flash=workdir / "flash")
    try:
        target = harness.Target(board.connect)
        build = harness.compile_lib(target.mpy_info(), workdir / "mpy")
        harness.deploy(target, build, "virtual", tests_dir=TESTS_DIR)
    finally:
        board.stop()
    return workdir / "flash"


@pytest.fixture(scope="module", params=MODELS)
def model_rig(request, tmp_path_factory, models_flash):
    """(model, simulator, Target): one module of the model and one board."""
    workdir = tmp_path_factory.mktemp("model-" + request.param)
    sim = SimProcess(workdir, baud=115200, model=request.param)
    try:
        board = VBoard(workdir, uart=sim.link, flash=models_flash)
    except BaseException:
        sim.stop()
        raise
    yield request.param, sim, harness.Target(board.connect)
    board.stop()
    sim.stop()


@pytest.mark.parametrize("name", DEVICE_TESTS)
def test_on_device_model(model_rig, name):
    model, sim, target = model_rig
    assert sim.control("status")["model"] == model
    sim.control("restart")      # a power cycle between files: echo on, as the sides expect
    sim.wait_booted()
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
