"""README's "Module clock, health report and doctor", as a reader follows it.

On a virtual rig of its own (the rig's pty and control socket stand for
build/vboard/...): `make rig-https` runs as its recipe does (tools/rig_https.py
against the rig's control socket), `make deploy PORT=...` and the mpremote line
run as written, and each `>>> ` line is typed into the board's REPL; what it
prints must be what the README shows, except the health report's numbers and
column widths (today's date decides them). The `make doctor` lines run as
written and print exactly what the README shows.
"""

import os
import re
import shlex
import subprocess
import sys

from harness import ROOT
from test_readme_quickstart import PROMPT, Terminal, _matches

README = ROOT / "README.md"
TTY = "build/vboard/board.tty"
ROOT_PEM = "build/vboard/rig-root.pem"


def section():
    """(shell lines, [(typed, [expected])], [(doctor command, [expected])])."""
    text = README.read_text()
    text = text[text.index("## Module clock, health report and doctor"):]
    text = text[:text.index("\n## ", 5)]
    shell, session, doctor = [], [], []
    for line in text.splitlines():
        if not line.startswith("    "):
            continue
        line = line[4:]
        if line.startswith(">>> "):
            session.append((line[4:], []))
        elif line.startswith("make doctor"):
            doctor.append((line, []))
        elif doctor:
            doctor[-1][1].append(line)
        elif session:
            session[-1][1].append(line)
        else:
            shell.append(line.split("#")[0].strip())
    return shell, session, doctor


def _shape(lines):
    """A report's lines with numbers and runs of spaces made alike."""
    return [re.sub(r" +", " ", re.sub(r"\d+", "N", line)) for line in lines]


def test_readme_shows_what_the_test_runs():
    shell, session, doctor = section()
    assert shell[0] == "make rig-https"
    assert shell[1] == "make deploy PORT=%s" % TTY
    assert shell[2].endswith("cp %s :rig-root.pem + repl" % ROOT_PEM)
    assert any("report(m)" in typed for typed, _ in session)
    assert any("Traceback" in " ".join(expected) for _, expected in session)
    assert len(doctor) == 2


def test_readme_doctor_lines():
    # as a reader types them in a shell: under `make test` the inherited
    # MAKELEVEL/MAKEFLAGS would make the line a sub-make that prints
    # "make[1]: Entering directory"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    for command, expected in section()[2]:
        proc = subprocess.run(shlex.split(command), cwd=str(ROOT), capture_output=True,
                              text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.splitlines() == expected, (command, proc.stdout)


def test_readme_clock_and_health_on_the_virtual_rig(rig, tmp_path):
    shell, session, _ = section()
    root_pem = tmp_path / "rig-root.pem"
    server = subprocess.Popen([sys.executable, str(ROOT / "tools" / "rig_https.py"),
                               "--control", rig.sim.control_path, "--root", str(root_pem)],
                              stdout=subprocess.PIPE, text=True)
    term = None
    try:
        assert server.stdout.readline().startswith("rig-https: serving https://server.test/")
        deploy = shell[1].replace(TTY, rig.connect)
        proc = subprocess.run(shlex.split(deploy), cwd=str(ROOT), capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        term = Terminal(shlex.split(shell[2].replace(TTY, rig.connect).replace(ROOT_PEM,
                                                                              str(root_pem))))
        term.read_until(b"Use Ctrl-] or Ctrl-x to exit this shell")
        term.type("\r")
        term.read_until(PROMPT)
        term.settle()
        for typed, expected in session:
            term.type(typed + "\r")
            out = term.read_until(PROMPT, timeout=120)[:-len(PROMPT)].decode()
            echo, _, rest = out.partition("\r\n")
            assert echo == typed, (typed, out)
            got = rest.split("\r\n")[:-1] if rest else []
            if "report(" in typed:
                assert _shape(got) == _shape(expected), (expected, got)
            else:
                assert _matches(typed, expected, got), \
                    "README shows %r after %r, the REPL printed %r" % (expected, typed, got)
    finally:
        if term is not None:
            term.close()
        server.terminate()
        server.wait(10)
