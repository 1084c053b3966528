"""README's asyncio section: its example is examples/aio_provision.py word
for word, and that file runs as shown on the virtual rig (unix64): deployed
with `make deploy`, ca.pem copied to the board, run with `mpremote run`,
while the simulator sends +UUSECPRF URCs for the example's URC task."""

import re
import subprocess
import sys
import threading

import pytest

from harness import ROOT

README = ROOT / "README.md"
EXAMPLE = ROOT / "examples" / "aio_provision.py"
MPREMOTE = str((ROOT / ".venv" / "bin" / "mpremote"))


def readme_example():
    text = README.read_text()
    section = text[text.index("## asyncio"):]
    section = section[:section.index("\n## ", 1)]
    lines, inside = [], False
    for line in section.splitlines():
        if line.startswith("    ") or (inside and not line):
            inside = True
            lines.append(line[4:])
        elif inside:
            break
    return "\n".join(lines).strip("\n") + "\n"


def test_readme_shows_the_example_verbatim():
    assert readme_example() == EXAMPLE.read_text()


@pytest.mark.parametrize("board", ["unix64"])
def test_the_example_runs_on_the_virtual_rig(rig_factory, board):
    rig = rig_factory(board=board)
    proc = subprocess.run(["make", "deploy", "PORT=" + rig.connect], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run([sys.executable, MPREMOTE, "connect", rig.connect, "cp",
                           str(ROOT / "tests_device" / "data" / "thawte.pem"), ":ca.pem"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stop = threading.Event()

    def urcs():   # the module's session URC, now and then, for the URC task
        while not stop.wait(0.3):
            rig.sim.control("urc", line="+UUSECPRF: 2,13,0,2")

    sender = threading.Thread(target=urcs, daemon=True)
    sender.start()
    try:
        proc = subprocess.run([sys.executable, MPREMOTE, "connect", rig.connect, "run",
                               str(EXAMPLE)], capture_output=True, text=True, timeout=120)
    finally:
        stop.set()
        sender.join()
    out = proc.stdout.replace("\r\n", "\n")
    assert proc.returncode == 0, out + proc.stderr
    assert re.search(r"^chip id \d+ characters$", out, re.M), out
    assert re.search(r"^imported AioCA, MD5 [0-9a-f]{32}$", out, re.M), out
    assert "profile 2 trusts AioCA\n" in out, out
    assert "URC +UUSECPRF: 2,13,0,2\n" in out, out
    assert "heartbeat ran: True\n" in out, out
