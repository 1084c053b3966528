"""ubxsec.health.report() against the FakeUart: the listing, profiles 0-4 and
the clock as a module answers them."""

import ubxsec
import ubxsec.health
from fakeuart import FakeUart, reply, OK

LISTING = ('"CA","RootCA","Root","2030/01/01"', '"CA","OldCA","Old","2026/11/30"',
           '"CC","Client","ubx-client","2026/12/20"', '"PK","Key"',
           '"CA","ubx_digicert_global_root_g2","DigiCert Global Root G2","2038/01/15 12:00:00"',
           '"CA","ubx_baltimore_cybertrust_root","Baltimore CyberTrust Root","2025/05/12 23:59:00"')
# profile -> op -> value as the module reads it back
PROFILES = {1: {0: "1", 3: '"OldCA"', 5: '"Client"', 6: '"Key"'},
            2: {0: "3", 3: '"ubx_digicert_global_root_g2"', 12: '"GoneSC",0'},
            3: {3: '"GoneCA"'}}
DEFAULTS = {0: "0", 3: '""', 5: '""', 6: '""', 12: '"",0'}


def _module(cclk="15/01/01,00:00:09+00", pin_refused=False):
    def responder(line):
        line = line.decode()
        if line == "AT+USECMNG=3":
            return reply(*(LISTING + ("OK",)))
        if line == "AT+CCLK?":
            return reply('+CCLK: "%s"' % cclk, "OK")
        if line.startswith("AT+USECPRF="):
            n, op = (int(x) for x in line[11:].split(","))
            if op == 12 and pin_refused:
                return reply("+CME ERROR: operation not supported")
            value = PROFILES.get(n, {}).get(op, DEFAULTS[op])
            return reply("+USECPRF: %d,%d,%s" % (n, op, value), "OK")
        return OK
    uart = FakeUart(responder)
    return ubxsec.Module(uart), uart


def _rows(r):
    return dict((row[1], row) for row in r.credentials)


def test_rows_statuses_and_profiles():
    m, _ = _module()
    r = ubxsec.health.report(m, now=(2026, 12, 7, 10, 0, 0))
    rows = _rows(r)
    assert rows["RootCA"] == ("CA", "RootCA", "Root", "2030/01/01", 1121, "ok", [])
    assert rows["OldCA"][4:] == (-7, "expired", [1])
    assert rows["Client"][4:] == (13, "expires soon", [1])
    assert rows["Key"][3:] == (None, None, "-", [1])
    # a pre-installed root only when a profile uses it
    assert rows["ubx_digicert_global_root_g2"][4:] == (4057, "ok", [2])
    assert "ubx_baltimore_cybertrust_root" not in rows
    assert r.free == 6 and r.clock == (2015, 1, 1, 0, 0, 9, 0, False)


def test_dangling_references_and_the_unset_clock():
    m, _ = _module()
    r = ubxsec.health.report(m, now=(2026, 12, 7))
    assert r.dangling == [(2, "pinning", "SC", "GoneSC"), (3, "ca_name", "CA", "GoneCA")]
    assert "profile 2: validation level 3 while the module's clock is not set (2015/01/01): " \
           "set it with m.set_clock() or wait for network time" in r.problems
    assert "CA 'OldCA' expired on 2026/11/30: import its successor and point profile 1 at it" \
        in r.problems
    assert "CC 'Client' expires on 2026/12/20: import its successor and point profile 1 at it" \
        in r.problems


def test_warn_days_and_the_module_clock_as_today():
    m, _ = _module(cclk="26/12/07,10:00:00+00")
    r = ubxsec.health.report(m, warn_days=10)
    assert _rows(r)["Client"][4:6] == (13, "ok")
    assert not any("validation level 3" in p for p in r.problems)


def test_a_setting_the_module_does_not_read_is_skipped():
    m, _ = _module(pin_refused=True)
    r = ubxsec.health.report(m, now=(2026, 12, 7))
    assert r.dangling == [(3, "ca_name", "CA", "GoneCA")]


def test_the_table():
    m, _ = _module()
    text = repr(ubxsec.health.report(m, now=(2026, 12, 7)))
    lines = text.split("\n")
    assert lines[0].split() == ["kind", "name", "CN", "expiry", "days", "status", "profiles"]
    assert lines[2].split() == ["CA", "OldCA", "Old", "2026/11/30", "-7", "expired", "1"]
    assert lines[4].split() == ["PK", "Key", "-", "-", "1"]   # no CN, no expiry
    assert lines[-1] == "free slots: 6 of 10"
    assert lines[0].index("name") == lines[1].index("RootCA")   # columns line up
