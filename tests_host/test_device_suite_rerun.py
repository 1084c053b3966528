"""The HIL suite leaves a rig as it found it: run twice in a row against one
module that keeps its state (a rig's, as every real one does), through PORT
with the module side on the TCP control channel (RIG_CONTROL, RIG_TOKEN) and
no BOARD (the board names itself), every file runs (none skipped) and passes
both times; the first run leaves the module's certificates, files and
profiles as they were; leftovers of an interrupted run (a half-uploaded module
file, a test certificate, a changed profile, a board file) are cleared at the
second run's start.

`make test` runs the files that write to the module's file system and
drive the module side (SAMPLE); `make hil-twice` (HIL_RERUN=all) every file.
"""

import json
import os
import subprocess
import sys

import harness
from test_device_suite import DEVICE_TESTS

SAMPLE = ("test_certs", "test_errors", "test_urcs")
FILES = DEVICE_TESTS if os.environ.get("HIL_RERUN") == "all" else [n for n in DEVICE_TESTS if n in SAMPLE]

SNAPSHOT = """\
import json, ubxsec
from board import uart
m = ubxsec.Module(uart())
names = []
for line in m.at.command('+ULSTFILE=0'):
    names += [n.strip('"') for n in line[10:].strip().split(',') if n.strip('"')]
print('=', json.dumps({'certs': sorted('%s %s' % (e.kind, e.name) for e in m.certs.list()),
                       'files': sorted(names),
                       'profiles': [m.profile(n).read_all() for n in range(5)]}))
"""


def snapshot(target):
    out = target.exec(SNAPSHOT, timeout=120)
    return json.loads([line[2:] for line in out.splitlines() if line.startswith("= ")][0])


def run_suite(board, sim):
    env = dict(os.environ, PORT=board.connect, RIG_CONTROL=sim.control_path,
               RIG_TOKEN=sim.token or "", VBOARD="unix64")
    env.pop("BOARD", None)
    env.pop("HIL_TESTS_DIR", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-s", "-p", "no:cacheprovider",
                           str(harness.ROOT / "tests_host" / "test_device_suite.py"),
                           "-k", " or ".join("[%s-" % name for name in FILES)],
                          cwd=str(harness.ROOT), env=env, capture_output=True, text=True, timeout=1200)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    assert "%d passed" % len(FILES) in summary and "skipped" not in summary, summary
    return proc.stdout


def test_the_suite_twice_on_one_rig(sim_factory, vboard_factory, tmp_path):
    sim = sim_factory(baud=115200, state=tmp_path / "module", control="tcp:127.0.0.1:0")
    board = vboard_factory(uart=sim.link, flash=tmp_path / "flash")
    target = harness.Target(board.connect)
    harness.deploy(target, harness.compile_lib(target.mpy_info(), tmp_path / "mpy"))
    found = snapshot(target)

    first = run_suite(board, sim)
    assert "cleared from an earlier run" not in first, first
    assert snapshot(target) == found          # as the first run found it

    # what a run killed half way leaves: a half-uploaded module file (a
    # second upload would append to it), a test certificate, a changed
    # profile, a board file
    sim.control("fs_write", name="rig_thawte.pem", data="-----BEGIN CERT")
    target.exec("import ubxsec\nfrom board import uart\nm = ubxsec.Module(uart())\n"
                "m.certs.import_file('tests/data/thawte.pem', 'CA', 'rigThawte')\n"
                "m.profile(3).validation_level(3)\n"
                "open('rig_session.json', 'w').write('{}')")
    second = run_suite(board, sim)
    for left in ("module file rig_thawte.pem", "CA rigThawte", "board file rig_session.json"):
        assert "cleared from an earlier run: " + left in second, second
    assert snapshot(target) == found
