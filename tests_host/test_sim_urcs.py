"""Foreign URCs (ubxsim --urcs, ubxsim.urcs): 3GPP URCs at line boundaries
of responses, before prompts and inside data phases, never inside a line,
never touching the data a transfer carries; seeded; counted."""

import hashlib
import re

import pytest

import pki
from fixtures_sim import AtClient, final_result
from ubxsim import urcs

URC_LINES = set(urcs.ALL_LINES)
FAMILIES = ("basic", "filesystem", "usecmng")


@pytest.fixture(scope="module")
def issued():
    return pki.TestPki().client


def lines_of(raw):
    """Every CRLF-delimited line of a raw answer (the echo ends at its CR)."""
    return [l.decode("latin-1") for l in re.split(rb"\r\n|\r", raw) if l]


def split(raw):
    """(the answer's own lines, the URC lines) of a raw answer."""
    own, foreign = [], []
    for line in lines_of(raw):
        (foreign if line in URC_LINES else own).append(line)
    return own, foreign


def start(sim_factory, **opts):
    sim = sim_factory(families=FAMILIES, **opts)
    at = AtClient(sim.link)
    at.send("ATE0")
    return sim, at


def test_urcs_come_between_the_lines_of_a_response_and_are_counted(sim_factory):
    sim, at = start(sim_factory)
    sim.control("urcs", rate=1.0, seed=3)
    try:
        raw = at.send("AT+CGMI;+CGMM;+ULSTFILE=1")
        sim.control("urcs", rate=0)
        own, foreign = split(raw)
        assert own == ["u-blox", "SARA-R510S", "+ULSTFILE: %d" % (1024 * 1024), "OK"]
        # rate 1: a URC at every boundary (before each of the 3 information
        # texts' lines and before OK), each a whole line of its own
        assert len(foreign) == 4
        for line in foreign:
            assert b"\r\n" + line.encode() + b"\r\n" in raw
        status = sim.control("status")["urcs"]
        assert status["by_place"]["line"] == 4 and status["sent"] == 4
        assert sum(status["by_prefix"].values()) == status["sent"]
    finally:
        at.close()


def test_no_urc_lands_inside_a_line_that_holds_line_breaks(sim_factory):
    sim, at = start(sim_factory, urcs=1.0, urcs_seed=5)
    try:
        content = b"line one\r\nline two\r\n\r\nend"
        at.write('AT+UDWNFILE="f.txt",%d\r' % len(content))
        at.read_until(rb">")
        assert final_result(at.send_data(content)) == "OK"
        raw = at.send('AT+URDFILE="f.txt"')
        # the file's bytes arrive whole, inside their one +URDFILE line
        assert b'+URDFILE: "f.txt",%d,"' % len(content) + content + b'"\r\n' in raw
    finally:
        at.close()


def test_urcs_during_a_transfer_never_touch_the_data(sim_factory, issued):
    sim, at = start(sim_factory)
    sim.control("urcs", rate=0.5, seed=11)
    try:
        pem = issued.pem
        got = b""
        for i in range(6):
            at.write('AT+USECMNG=0,1,"cc%d",%d\r' % (i, len(pem)))
            got += at.read_until(rb">")
            for off in range(0, len(pem), 50):       # the data in pieces, as a UART sends it
                at.write(pem[off:off + 50])
            raw = at.read_until(rb"\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n")
            got += raw
            own, _ = split(raw)
            md5 = hashlib.md5(issued.der).hexdigest()
            assert own == ['+USECMNG: 0,1,"cc%d","%s"' % (i, md5), "OK"]
        sim.control("urcs", rate=0)             # the counts stay
        got += at.read_for(0.2)                 # idle ones after the last OK
        status = sim.control("status")["urcs"]
        assert status["by_place"]["transfer"] > 0 and status["by_place"]["prompt"] > 0
        assert len(split(got)[1]) == status["sent"]
    finally:
        at.close()


def run_traffic(sim_factory, issued, seed):
    sim, at = start(sim_factory)
    sim.control("urcs", rate=0.4, seed=seed)
    try:
        raw = b""
        for _ in range(3):
            raw += at.send("AT+CGMI;+CGMM;+USECMNG=3")
            at.write('AT+USECMNG=0,1,"cc",%d\r' % len(issued.der))
            raw += at.read_until(rb">")
            raw += at.send_data(issued.der)
        sim.control("urcs", rate=0)
        return raw, sim.control("urcs")
    finally:
        at.close()


def test_the_same_seed_gives_the_same_urcs_at_the_same_places(sim_factory, issued):
    first, counts = run_traffic(sim_factory, issued, 21)
    again, counts_again = run_traffic(sim_factory, issued, 21)
    other, _ = run_traffic(sim_factory, issued, 22)
    assert counts["sent"] > 0 and counts["by_place"]["idle"] == 0
    assert first == again and counts == counts_again
    assert first != other
    assert split(first)[0] == split(other)[0]     # the module's own answers are the same


def test_rate_and_seed_at_run_time_and_a_urc_injected_now(sim_factory):
    sim, at = start(sim_factory)
    try:
        assert sim.control("urcs") == {"rate": 0.0, "idle": 0.0, "seed": 0, "sent": 0,
                                       "by_place": dict.fromkeys(urcs.PLACES, 0), "by_prefix": {}}
        assert split(at.send("AT+CGMI;+CGMM"))[1] == []
        sim.control("urcs", rate=1.0, seed=4)
        assert len(split(at.send("AT+CGMI;+CGMM"))[1]) == 3
        sim.control("urcs", rate=0)
        sim.control("inject", line='+CMTI: "SM",3')
        assert at.read_until(rb'\r\n\+CMTI: "SM",3\r\n')
        status = sim.control("urcs")
        assert status["sent"] == 4 and status["by_place"]["injected"] == 1
        assert status["by_place"]["line"] == 3 and status["by_prefix"]["+CMTI"] >= 1
        sim.control("urcs", seed=9)                # a new seed: counts from zero
        assert sim.control("urcs")["sent"] == 0
        with pytest.raises(Exception, match="0..1"):
            sim.control("urcs", rate=2)
    finally:
        at.close()


def test_idle_urcs_go_out_on_a_quiet_line(sim_factory):
    sim, at = start(sim_factory, urcs_idle=5)
    try:
        quiet = at.read_for(1.5)
        own, foreign = split(quiet)
        assert own == [] and foreign, quiet
        assert sim.control("urcs")["by_place"]["idle"] >= len(foreign)
    finally:
        at.close()


def test_urcs_option_is_a_probability(tmp_path):
    import subprocess
    from fixtures_sim import PYTHON, ROOT
    proc = subprocess.run([PYTHON, "-m", "ubxsim", "--link", str(tmp_path / "x"), "--urcs", "3"],
                          capture_output=True, text=True, cwd=str(ROOT), timeout=30)
    assert proc.returncode == 2 and "--urcs" in proc.stderr
