"""Trust health on the virtual rig: the module clock decides level 3, a failed
HTTPS GET names its cause, and ubxsec.health reports what needs doing.

The library runs on the virtual board (deployed as .mpy, as `make deploy`
does) against the simulator, with a local HTTPS server for server.test
whose chain ends in a throw-away root the module imports as TestRoot.
"""

import ast
import datetime

import pytest

import harness
from https_server import HttpsServer
from pki import DAY, TestPki, _issue, write_bytes

HOST = "server.test"
SETUP = """\
import ubxsec
from board import uart
from ubxsec.http import Http, HttpError
m = ubxsec.Module(uart())
"""


@pytest.fixture(scope="module")
def pki():
    return TestPki()


def _deploy(connect, pki, workdir):
    """A Target with the library and the test's PEM files on the board."""
    now = datetime.datetime.now(datetime.timezone.utc)
    soon = _issue("soon.test", pki.intermediate, not_after=now + 10 * DAY)
    files = {"root.pem": pki.root.pem, "expired.pem": pki.expired.pem, "soon.pem": soon.pem}
    target = harness.Target(connect)
    mpy = harness.compile_lib(target.mpy_info(), workdir / "mpy")
    extra = [(write_bytes(str(workdir / name), data), name) for name, data in files.items()]
    harness.deploy(target, mpy, "virtual", extra=extra)
    return target


@pytest.fixture
def board(rig, pki, tmp_path):
    """A fresh module and board, and server.test served for them."""
    server = HttpsServer(pki.write_server_files(str(tmp_path), pki.server, "srv")).start()
    rig.sim.control("hosts", map={HOST: ["127.0.0.1", server.port]})
    yield _deploy(rig.connect, pki, tmp_path)
    server.stop()


def _lines(out, tag):
    return [line[len(tag) + 1:] for line in out.splitlines() if line.startswith(tag + " ")]


def _today():
    t = datetime.datetime.now(datetime.timezone.utc)
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


def test_level_3_get_fails_on_the_unset_clock_and_passes_once_set(board):
    out = board.exec(SETUP + """\
m.certs.import_file("root.pem", "CA", "TestRoot")
p = m.profile(2); p.validation_level(3); p.ca_name("TestRoot"); p.server_hostname("%s")
h = Http(m.at, 0); h.server("%s"); h.secure(2)
print("CLOCK", m.clock())
try:
    h.get("/", "https.resp", 30000)
    print("GET1 ok")
except HttpError as e:
    print("GET1", e)
    print("CODE", e.err_class, e.err_code)
m.set_clock(%r)
print("CLOCK", m.clock())
h.get("/", "https.resp", 30000)
print("GET2 ok")
""" % (HOST, HOST, _today()), timeout=120)
    clocks = [ast.literal_eval(c) for c in _lines(out, "CLOCK")]
    assert clocks[0][:3] == (2015, 1, 1) and clocks[0][7] is False, out
    assert _lines(out, "GET1") == [
        "GET / on profile 2: the server's certificate is not yet valid by the module's clock "
        "(2015/01/01), which is not set: set it with m.set_clock() or wait for network time "
        "(+UHTTPER: 0,3,203)"], out
    assert _lines(out, "CODE") == ["3 203"]
    assert clocks[1][:3] == _today()[:3] and clocks[1][7] is True, out
    assert _lines(out, "GET2") == ["ok"], out


def test_unknown_ca_get_names_the_profiles_ca(board, pki):
    out = board.exec(SETUP + """\
m.certs.import_file("expired.pem", "CA", "ThawteCA")   # not the server's root
p = m.profile(2); p.validation_level(1); p.ca_name("ThawteCA")
h = Http(m.at, 0); h.server("%s"); h.secure(2)
try:
    h.get("/", "https.resp", 30000)
except HttpError as e:
    print("GET", e)
""" % HOST, timeout=120)
    assert _lines(out, "GET") == [
        "GET / on profile 2: the server's certificate is not signed by CA 'ThawteCA' "
        "(+UHTTPER: 0,3,73)"], out


HEALTH = SETUP + """\
import ubxsec.health
m.certs.import_file("root.pem", "CA", "TestRoot")
m.certs.import_file("expired.pem", "CA", "OldCA")
m.certs.import_file("soon.pem", "CC", "SoonCert")
p = m.profile(1); p.validation_level(1); p.ca_name("OldCA"); p.client_cert_name("SoonCert")
p.client_key_name("GoneKey")
p = m.profile(2); p.validation_level(3); p.ca_name("TestRoot")
p = m.profile(3); p.ca_name("GoneCA")
r = ubxsec.health.report(m, now=%r)
for row in r.credentials:
    print("ROW", repr(row))
for d in r.dangling:
    print("DANGLING", repr(d))
for line in r.problems:
    print("PROBLEM", line)
print("FREE", r.free)
print(repr(r))
"""


@pytest.fixture(scope="module")
def health(pki, tmp_path_factory):
    """The report's output, from one rig that the four tests below read."""
    workdir = tmp_path_factory.mktemp("health")
    with harness.VirtualRig(workdir) as rig:
        return _deploy(rig.connect, pki, workdir).exec(HEALTH % (_today(),), timeout=180)


def _rows(out):
    return {row[1]: row for row in map(ast.literal_eval, _lines(out, "ROW"))}


def test_health_lists_an_expired_certificate(health):
    row = _rows(health)["OldCA"]
    assert row[0] == "CA" and row[2] == "expired.test" and row[5] == "expired", health
    assert -3 <= row[4] <= -1 and row[6] == [1]
    assert any(p.startswith("CA 'OldCA' expired on ") and "point profile 1 at it" in p
               for p in _lines(health, "PROBLEM")), health


def test_health_lists_one_expiring_within_the_warning_window(health):
    rows = _rows(health)
    soon = rows["SoonCert"]
    assert soon[0] == "CC" and soon[5] == "expires soon" and 9 <= soon[4] <= 11, health
    assert soon[6] == [1]
    root = rows["TestRoot"]
    assert root[5] == "ok" and root[4] > 300 and root[6] == [2]


def test_health_lists_dangling_profile_references(health):
    dangling = [ast.literal_eval(d) for d in _lines(health, "DANGLING")]
    assert sorted(dangling) == [(1, "client_key_name", "PK", "GoneKey"),
                                (3, "ca_name", "CA", "GoneCA")], health
    assert "profile 3: ca_name 'GoneCA' (CA) is not on the module: import it or change " \
           "the setting" in _lines(health, "PROBLEM")


def test_health_flags_level_3_while_the_clock_is_not_set_and_counts_slots(health):
    assert "profile 2: validation level 3 while the module's clock is not set (2015/01/01): " \
           "set it with m.set_clock() or wait for network time" in _lines(health, "PROBLEM")
    assert _lines(health, "FREE") == ["7"]
    table = health[health.index("kind "):]
    assert table.splitlines()[0].split() == ["kind", "name", "CN", "expiry", "days", "status",
                                              "profiles"]
    assert "free slots: 7 of 10" in table
