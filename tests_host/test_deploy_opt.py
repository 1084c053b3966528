"""`make deploy OPT=0`: a developer's deploy keeps line numbers in the
library's tracebacks; without OPT what ships stays -O3 (no line numbers)."""

import re
import subprocess

import pytest

import harness
from harness import ROOT

# check_int raises from a line well below its def: at -O3 every frame says line 1
RAISE = ("from ubxsec import params\ntry:\n params.check_int(7, range(4), 'level')\n"
         "except ValueError as e:\n import sys\n sys.print_exception(e)\n")
FRAME = re.compile(r'File "ubxsec/params\.py", line (\d+)')


def _deploy_and_raise(rig, *make_args):
    proc = subprocess.run(["make", "--no-print-directory", "deploy", "PORT=%s" % rig.connect,
                           "BOARD=virtual"] + list(make_args),
                          cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = harness.Target(rig.connect).exec(RAISE)
    lines = [int(n) for n in FRAME.findall(out)]
    assert lines, out
    return proc.stdout, lines


def test_opt0_deploys_line_numbers_and_the_default_stays_O3(rig):
    said, lines = _deploy_and_raise(rig, "OPT=0")
    assert "-O0" in said, said
    assert min(lines) > 1, lines
    said, lines = _deploy_and_raise(rig)
    assert "-O3" in said, said
    assert set(lines) == {1}, lines


@pytest.mark.parametrize("env, flag", [("", "-O3"), ("0", "-O0"), ("3", "-O3")])
def test_mpy_opt_reads_make_s_opt(monkeypatch, env, flag):
    monkeypatch.setenv("MPY_OPT", env)
    assert harness.mpy_opt() == flag


@pytest.mark.parametrize("bad", ["4", "-O3", "s"])
def test_a_bad_opt_says_what_is_accepted(monkeypatch, bad):
    monkeypatch.setenv("MPY_OPT", bad)
    with pytest.raises(harness.HarnessError, match=r"OPT \(MPY_OPT\) %s: want 0 .* to 3" % re.escape(bad)):
        harness.mpy_opt()
