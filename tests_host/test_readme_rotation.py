"""README's "Rotating credentials" lines, typed into the REPL of a virtual rig
(mpremote repl), compared with what the README shows under each line.
The rig is prepared as the section says: profile 2 trusting MyCA (the test
PKI's root), newca.pem the root renewed, wrongca.pem another root, and
server.test a local HTTPS server with a chain of the first root.
The last line's comment is no output: resume() finds nothing open."""

import shlex

import pytest

import harness
import test_readme_quickstart as quick
from fixtures_board import board_missing, board_name
from https_server import HttpsServer
from pki import TestPki

README = harness.ROOT / "README.md"


def section():
    """[(typed line, [expected output lines])] of the section."""
    text = README.read_text()
    part = text[text.index("## Rotating credentials"):]
    part = part[:part.index("\n## ")]
    session = []
    for line in part.splitlines():
        if line.startswith("    >>> "):
            session.append((line[8:], []))
        elif line.startswith("    ") and session:
            session[-1][1].append(line[4:])
    return session


def test_section_is_where_the_readme_says():
    text = README.read_text()
    assert 0 < text.index("## Rotating credentials") < text.index("## Where things are")
    assert len(section()) >= 10


def test_readme_rotation_on_the_virtual_rig(rig_factory, tmp_path):
    # one board, as the quickstart's test: $VBOARD or unix64 (the wasm32
    # board's friendly REPL ends a result with a bare LF, which both tests
    # refuse)
    board = board_name()
    import sys
    sys.path.insert(0, str(harness.ROOT / "tools"))
    import powercut
    missing = board_missing(board)
    if missing:
        pytest.fail(missing, pytrace=False)
    pki = TestPki()
    rig = rig_factory(board=board, baud=0)
    target = harness.Target(rig.connect)
    harness.deploy(target, harness.compile_lib(target.mpy_info(), tmp_path / "mpy"), "virtual")
    where = target.layout()
    files = {"myca.pem": pki.root.pem, "newca.pem": powercut.renewed(pki.root).pem,
             "wrongca.pem": pki.other_root.pem}
    args = ["resume"]
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        args += ["cp", str(tmp_path / name), ":" + where.path(name), "+"]
    target.mpremote(*args[:-1])
    server = HttpsServer(pki.write_server_files(str(tmp_path), pki.server, "srv")).start()
    term = None
    try:
        rig.sim.control("hosts", map={"server.test": ["127.0.0.1", server.port]})
        target.exec("import ubxsec\nfrom board import uart\nm = ubxsec.Module(uart())\n"
                    "m.certs.import_file('myca.pem', 'CA', 'MyCA')\np = m.profile(2)\n"
                    "p.validation_level(1); p.ca_name('MyCA')")
        term = quick.Terminal(shlex.split(".venv/bin/mpremote connect %s repl" % rig.connect))
        term.read_until(b"Use Ctrl-] or Ctrl-x to exit this shell")
        term.type("\r")
        term.read_until(quick.PROMPT)
        term.settle()
        for typed, expected in section():
            term.type(typed + "\r")
            out = term.read_until(quick.PROMPT, timeout=120)[:-len(quick.PROMPT)].decode()
            echo, _, rest = out.partition("\r\n")
            assert echo == typed, (typed, out)
            got = rest.split("\r\n")[:-1] if rest else []
            assert quick._matches(typed, expected, got), \
                "README shows %r after %r, the REPL printed %r" % (expected, typed, out)
    finally:
        if term is not None:
            term.close()
        server.stop()
