"""The device suite (tests_device/test_*.py) against every module model
but "spec" (test_device_suite.py runs that one): the library on the virtual
board, the simulator behaving as a real series (ubxsim --model, models.py).

One simulator and one board per model serve all the files in turn (a soft
reset between files and a module power cycle, as on a real rig): the files
leave the module as they found it. The host's part of the files that need one (HOST_SIDES) is the
same as in test_device_suite.py. Always on the virtual rig, PORT or not: a
real board has the one module it is wired to (test_device_suite.py runs
there).
"""

import os

import pytest

import harness
from fixtures_board import VBoard
from fixtures_sim import SimProcess
from test_device_suite import DEVICE_TESTS, TESTS_DIR, run_with_host_side
from ubxsim import models

MODELS = [name for name in sorted(models.MODELS) if name != models.DEFAULT]
# Models whose whole device suite runs only with DEVICE_MODELS_FULL=1 (make
# test-models): `make test` runs a sample of their files (CI time).
SAMPLED = {"sara-u2": ("test_certs", "test_errors")}
FULL = os.environ.get("DEVICE_MODELS_FULL") == "1"
PAIRS = [(model, name) for model in MODELS for name in DEVICE_TESTS
         if FULL or model not in SAMPLED or name in SAMPLED[model]]

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


@pytest.fixture(scope="module")
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


@pytest.mark.parametrize("model_rig, name", PAIRS, indirect=["model_rig"])
def test_on_device_model(model_rig, name):
    model, sim, target = model_rig
    assert sim.control("status")["model"] == model
    sim.control("restart")      # a power cycle between files: echo on, as the sides expect
    sim.wait_booted()
    run_with_host_side(sim, target, name)


# -- long names and one-line PEMs through the library, on every model ---------------

def _one_line(pem):
    return b"".join(pem.split(b"\n"))


def _body_one_line(pem):
    lines = pem.strip().split(b"\n")
    return lines[0] + b"\n" + b"".join(lines[1:-1]) + b"\n" + lines[-1] + b"\n"


def _import_each(sim, imports):
    """tests_device/import_each.py on the unix port against sim: its report."""
    import json
    import subprocess
    from pathlib import Path
    import toolchain
    root = Path(__file__).resolve().parent.parent
    micropython = toolchain.MICROPYTHON
    toolchain.require(micropython)
    path = ":".join(str(p) for p in (root / "lib", root / "boards" / "unix" / "lib",
                                     root / "tests_device"))
    proc = subprocess.run([str(micropython), str(root / "tests_device" / "import_each.py")],
                          input=json.dumps({"link": sim.link, "imports": imports}).encode() + b"\n",
                          capture_output=True, env=dict(os.environ, MICROPYPATH=path),
                          cwd=str(root), timeout=300)
    out = proc.stdout.decode(errors="replace")
    lines = [l for l in out.splitlines() if l.startswith("R ")]
    assert proc.returncode == 0 and len(lines) == 1, out + proc.stderr.decode(errors="replace")
    return json.loads(lines[0][2:])


@pytest.mark.parametrize("model", sorted(models.MODELS))
def test_long_names_and_one_line_pems_on_every_model(sim_factory, tmp_path, model):
    """Names of 34, 36, 43 and 58 characters (seen on real modules) and
    PEMs with a one-line body import where the series takes them, and fail
    with the module's own error where it does not."""
    import hashlib
    import pki
    issued = pki.TestPki().client
    md5 = hashlib.md5(issued.der).hexdigest()
    table = models.MODELS[model]
    files = {"lines.pem": issued.pem, "whole.pem": _one_line(issued.pem),
             "body.pem": _body_one_line(issued.pem)}
    for fname, data in files.items():
        (tmp_path / fname).write_bytes(data)
    cases = []      # (import, expected result)
    for length in (34, 36, 43, 58, 65, 200):
        name = ("n%d_" % length + "x" * length)[:length]
        ok = length <= table.name_max
        cases.append(({"path": str(tmp_path / "lines.pem"), "kind": 1, "name": name},
                      None if ok else ("CmeError", 24, "text string too long")))
    refused = ("CmeError", None, "USECMNG invalid certificate/key format") \
        if model == "lena-r8" else None
    cases.append(({"path": str(tmp_path / "body.pem"), "kind": 1, "name": "body"}, refused))
    if model == "spec":   # the spec model's strict PEM parser
        refused = ("CmeError", 50, "incorrect parameters")
    cases.append(({"path": str(tmp_path / "whole.pem"), "kind": 1, "name": "whole"}, refused))
    sim = sim_factory(baud=0, model=model, families=("basic", "filesystem", "usecmng"))
    report = _import_each(sim, [c[0] for c in cases])
    for (item, want), got in zip(cases, report["results"]):
        what = (model, len(item["name"]), item["path"].rsplit("/", 1)[1])
        if want is None:
            assert got == {"md5": md5, "md5_read": md5, "listed": True}, (what, got)
        else:
            assert (got["err"], got["code"], got["text"]) == want, (what, got)
    assert report["dropped"] == 0 and report["stray"] == 0
