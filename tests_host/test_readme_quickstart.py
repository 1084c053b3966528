"""README's REPL quickstart, as a newcomer follows it on the virtual rig.

Its shell lines run as written (the port `build/vboard/board.tty` becomes
this test's own virtual board): `make deploy PORT=...`, then `.venv/bin/mpremote
connect ... cp ... + repl`, whose REPL gets each `>>> ` line typed in.
What the REPL prints must be what the README shows under the line, with two
allowances the README itself states: a line commented `# 16 hex digits`
prints some 16 hex digits, and `  ...` stands for a traceback's file lines.
"""

import os
import re
import select
import shlex
import subprocess
import time


from harness import ROOT

README = ROOT / "README.md"
README_PORT = "build/vboard/board.tty"
PROMPT = b">>> "


def quickstart():
    """(shell lines, [(typed line, [expected output lines])]) of the section."""
    text = README.read_text()
    section = text[text.index("## REPL quickstart"):]
    section = section[:section.index("On a real board")]
    shell, session = [], []
    for line in section.splitlines():
        if not line.startswith("    "):
            continue
        line = line[4:]
        if line.startswith(">>> "):
            session.append((line[4:], []))
        elif session:
            session[-1][1].append(line)
        elif line.startswith(("make deploy", ".venv/bin/mpremote")):
            shell.append(line)
    return shell, session


def _expected(typed, line):
    if "# 16 hex digits" in typed and line.startswith("'"):
        return re.compile(r"'[0-9A-F]{16}'$")
    return re.compile(re.escape(line) + "$")


def _matches(typed, expected, got):
    got = list(got)
    for i, line in enumerate(expected):
        if line == "  ...":   # a traceback's File lines, up to the next expected line
            while got and got[0].startswith("  File "):
                got.pop(0)
            continue
        if not got or not _expected(typed, line).match(got[0]):
            return False
        got.pop(0)
    return not got


class Terminal:
    """A program on a pty, as in a terminal."""

    def __init__(self, argv):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=str(ROOT),
                                     start_new_session=True)
        os.close(slave)
        self.seen = b""

    def read_until(self, marker, timeout=60.0):
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError("no %r in %r" % (marker, self.seen[-2000:]))
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:
                    if self.proc.poll() is not None:
                        raise AssertionError("exited: %r" % self.seen[-2000:])
        i = self.seen.index(marker) + len(marker)
        out, self.seen = self.seen[:i], self.seen[i:]
        return out

    def settle(self, quiet=0.5):
        """Read until nothing has come for `quiet` seconds; forget it all."""
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                os.read(self.master, 4096)
                last = time.monotonic()
        self.seen = b""

    def type(self, text):
        os.write(self.master, text.encode())

    def close(self):
        if self.proc.poll() is None:
            self.type("\x1d")   # Ctrl-]: leave mpremote's REPL
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)


def test_readme_lists_what_the_test_runs():
    shell, session = quickstart()
    assert [s.split()[0] for s in shell] == ["make", ".venv/bin/mpremote"], shell
    assert shell[1].endswith("+ repl") and README_PORT in shell[0] and README_PORT in shell[1]
    assert len(session) >= 8


def test_readme_quickstart_on_the_virtual_rig(rig):
    shell, session = quickstart()
    make_deploy, mpremote = [line.replace(README_PORT, rig.connect) for line in shell]
    proc = subprocess.run(shlex.split(make_deploy), cwd=str(ROOT), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "board virtual" in proc.stdout, proc.stdout

    term = Terminal(shlex.split(mpremote))
    try:
        term.read_until(b"Use Ctrl-] or Ctrl-x to exit this shell")
        term.type("\r")
        term.read_until(PROMPT)
        term.settle()   # the prompt may come twice: the board's own and the Enter's
        for typed, expected in session:
            term.type(typed + "\r")
            out = term.read_until(PROMPT)[:-len(PROMPT)].decode()
            echo, _, rest = out.partition("\r\n")
            assert echo == typed, (typed, out)
            got = rest.split("\r\n")[:-1] if rest else []
            assert "\n" not in "".join(got), "bare LF in %r" % rest   # CR LF line ends
            assert _matches(typed, expected, got), \
                "README shows %r after %r, the REPL printed %r" % (expected, typed, got)
    finally:
        term.close()
