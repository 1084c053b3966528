"""A CA rotation on a running virtual rig (simulator + virtual board through
mpremote, the library deployed as .mpy), checked by an HTTPS GET through the
module's HTTP client against the local test server:

- from one root to another: the server moves to a chain of the new root; the
  new CA, tested on a scratch profile, passes; switch and commit; the live
  profile serves, the old root is gone;
- with a check that fails (the new root does not sign the server's chain):
  rolled back, the new name gone, the old CA still serves.
"""

import pytest

import harness
from fixtures_board import board_missing, boards_under_test
from https_server import HttpsServer
from pki import TestPki

HOST = "server.test"

SETUP = """
import ubxsec
from board import uart
from ubxsec.rotate import Rotation, RotationError, https_check
m = ubxsec.Module(uart())
check = https_check(m, "https://%s/")
def serves(pid):
    try:
        return check(pid)
    except ubxsec.UbxError as exc:
        return "no: %%s" %% exc
def gens():
    return [e.name for e in m.certs.list(ubxsec.CA) if e.name.startswith("p2-")]
""" % HOST

PROVISION = SETUP + """
m.certs.import_file("oldroot.pem", ubxsec.CA, "OldRoot")
p = m.profile(2)
p.reset(); p.validation_level(1); p.ca_name("OldRoot")
print("LIVE", serves(2))
"""

ROTATE = SETUP + """
print("BEFORE", serves(2))
r = Rotation(m)
print("BEGIN", r.begin(2, ca="newroot.pem"))
r.test(check, scratch_profile=4)
print("TESTED", m.profile(4).ca_name() == "")
r.switch(); r.commit()
print("AFTER", serves(2), m.profile(2).ca_name(), gens())
print("OLD", [e.name for e in m.certs.list(ubxsec.CA) if e.name == "OldRoot"])
"""

FAILING = SETUP + """
print("BEFORE", serves(2))
r = Rotation(m)
print("BEGIN", r.begin(2, ca="newroot.pem"))
try:
    r.test(check, scratch_profile=4)
    print("TEST passed")
except RotationError as exc:
    print("TEST", exc)
print("AFTER", serves(2), m.profile(2).ca_name(), gens(), Rotation.resume(m))
"""


@pytest.fixture(scope="module")
def pki():
    return TestPki()


def _server(pki, tmp_path, leaf, name):
    return HttpsServer(pki.write_server_files(str(tmp_path), leaf, name)).start()


def _lines(out, tag):
    return [line[len(tag) + 1:] for line in out.splitlines() if line.startswith(tag + " ")]


@pytest.mark.parametrize("board", boards_under_test())
def test_ca_rotation_on_a_running_rig(rig_factory, pki, tmp_path, board):
    missing = board_missing(board)
    if missing:
        pytest.fail(missing, pytrace=False)
    rig = rig_factory(board=board, baud=0)
    target = harness.Target(rig.connect)
    harness.deploy(target, harness.compile_lib(target.mpy_info(), tmp_path / "mpy"), "virtual")
    old_pem, new_pem = tmp_path / "old.pem", tmp_path / "new.pem"
    old_pem.write_bytes(pki.root.pem)
    new_pem.write_bytes(pki.other_root.pem)
    where = target.layout()
    target.mpremote("resume", "cp", str(old_pem), ":" + where.path("oldroot.pem"), "+",
                    "cp", str(new_pem), ":" + where.path("newroot.pem"))
    old_server = _server(pki, tmp_path, pki.server, "old")      # chain of the old root
    new_server = _server(pki, tmp_path, pki.other, "new")       # chain of the new root
    try:
        rig.sim.control("hosts", map={HOST: ["127.0.0.1", old_server.port]})
        out = target.exec(PROVISION)
        assert _lines(out, "LIVE") == ["True"], out

        # a check that fails: the new root does not sign the old server's chain
        out = target.exec(FAILING)
        assert _lines(out, "BEGIN") == ["{'ca': 'p2-CA-g1'}"], out
        test = _lines(out, "TEST")
        assert test and "failed" in test[0] and "rolled back" in test[0], out
        assert _lines(out, "AFTER") == ["True OldRoot [] None"], out

        # the server moves to the new root: only the rotation brings the profile back
        rig.sim.control("hosts", map={HOST: ["127.0.0.1", new_server.port]})
        out = target.exec(ROTATE)
        assert _lines(out, "BEFORE")[0].startswith("no: "), out
        assert _lines(out, "BEGIN") == ["{'ca': 'p2-CA-g1'}"], out
        assert _lines(out, "TESTED") == ["True"], out
        assert _lines(out, "AFTER") == ["True p2-CA-g1 ['p2-CA-g1']"], out
        assert _lines(out, "OLD") == ["[]"], out
        assert new_server.handshakes and not new_server.handshakes[-1]["error"], \
            new_server.handshakes
    finally:
        old_server.stop()
        new_server.stop()
