"""Fault injection: each kind, set from the command line or the control channel."""


import pytest

from fixtures_sim import CORE_FAMILIES, AtClient, SimError, final_result, info_lines
from ubxsim.faults import Faults, FaultSpecError


def faulty(sim_factory, spec, **opts):
    sim = sim_factory(families=CORE_FAMILIES, faults=spec, **opts)
    return sim, AtClient(sim.link)


def wait_until_ready(at, tries=50):
    for _ in range(tries):
        at.write(b"AT\r")
        raw = at.read_for(0.2)
        if b"\r\nOK\r\n" in raw:
            return raw
    raise TimeoutError("module did not come back")


def test_bad_fault_spec_on_the_command_line_stops_the_process(sim_factory):
    with pytest.raises(SimError):
        sim_factory(families=CORE_FAMILIES, faults={"bogus": {}})


@pytest.mark.parametrize("spec", [
    [], {"drop_in": {"p": 2}}, {"drop_in": {"times": -1}}, {"urc_burst": {"where": ["x"]}},
    {"drop_out": {"where": ["nowhere"]}}, {"stall": 1}])
def test_bad_fault_specs_are_rejected(spec):
    with pytest.raises(FaultSpecError):
        Faults(spec)


def test_drop_in(sim_factory):
    sim, at = faulty(sim_factory, {"drop_in": {"times": 1}})
    # the X is lost on the way in: neither echoed nor part of the line
    assert at.send("XAT+CGMI") == b"AT+CGMI\r\r\nu-blox\r\n\r\nOK\r\n"


def test_corrupt_in(sim_factory):
    sim, at = faulty(sim_factory, {"seed": 5, "corrupt_in": {"times": 1}})
    raw = at.send("ZAT")
    assert raw[0:1] != b"Z" and raw[1:] == b"AT\r\r\nOK\r\n"
    assert bin(raw[0] ^ ord("Z")).count("1") == 1  # one bit flipped


def test_drop_out_only_where_asked(sim_factory):
    sim, at = faulty(sim_factory, {"drop_out": {"times": 1, "where": ["response"]}})
    # the first response byte (the CR of "\r\nOK\r\n") is lost, the echo is whole
    assert at.send("AT") == b"AT\r\nOK\r\n"
    assert at.send("AT") == b"AT\r\r\nOK\r\n"


def test_corrupt_out(sim_factory):
    sim, at = faulty(sim_factory, {"seed": 1, "corrupt_out": {"times": 1, "where": ["echo"]}})
    raw = at.send("AT")
    assert raw[0:1] != b"A" and raw[1:] == b"T\r\r\nOK\r\n"


def test_prompt_missing_still_takes_the_data(sim_factory):
    sim, at = faulty(sim_factory, {"prompt_missing": {"times": 1}})
    at.write(b'AT+UDWNFILE="f",3\r')
    at.write(b"abc")
    assert at.read_until(rb"\r\nOK\r\n") == b'AT+UDWNFILE="f",3\r\r\nOK\r\n'
    assert sim.control("fs_read", name="f") == "abc"


def test_prompt_late_keeps_early_bytes_as_data(sim_factory):
    sim, at = faulty(sim_factory, {"prompt_late": {"times": 1, "seconds": 0.3}})
    at.write(b'AT+UDWNFILE="f",3\r')
    at.write(b"abc")  # sent before the prompt shows up
    assert at.read_until(rb"\r\nOK\r\n") == b'AT+UDWNFILE="f",3\r>\r\nOK\r\n'
    assert sim.control("fs_read", name="f") == "abc"
    assert sim.control("faults")["fired"] == {"prompt_late": 1}


def test_urc_burst_while_idle(sim_factory):
    spec = {"urc_burst": {"times": 1, "where": ["idle"], "lines": ["+UUX: 1"], "count": 2}}
    sim, at = faulty(sim_factory, spec)
    assert at.read_until(rb"(\r\n\+UUX: 1\r\n){2}") == b"\r\n+UUX: 1\r\n" * 2


def test_urc_burst_inside_a_response_comes_between_lines(sim_factory):
    sim, at = faulty(sim_factory, {"urc_burst": {"times": 1, "where": ["response"],
                                                 "lines": ["+UUX: 2"], "count": 1}})
    at.write(b"AT\r")
    # the burst lands after the first line end of the response, the rest follows
    assert at.read_until(rb"OK\r\n") == b"AT\r\r\n\r\n+UUX: 2\r\nOK\r\n"
    assert at.send("AT") == b"AT\r\r\nOK\r\n"


def test_urc_bursts_never_split_a_line(sim_factory):
    sim, at = faulty(sim_factory, {"urc_burst": {"where": ["response"],
                                                 "lines": ["+UUX: 3"], "count": 1}})
    at.write(b'AT+UDWNFILE="f",3\r')
    at.read_until(rb">")
    at.write(b"abc")
    at.read_until(rb"OK\r\n")
    raw = at.send('AT+URDFILE="f"')
    lines = [l for l in raw.split(b"\r\n") if l]
    # (a burst after the previous OK may still be on its way before the echo)
    lines = lines[lines.index(b'AT+URDFILE="f"\r'):]
    # echo, then answer and final result with a burst after every line end
    assert b'+URDFILE: "f",3,"abc"' in lines and lines[-1] == b"OK"
    assert all(l in (b"+UUX: 3", b'+URDFILE: "f",3,"abc"', b"OK") for l in lines[1:])
    assert lines.count(b"+UUX: 3") >= 2


def test_urc_burst_inside_a_transfer(sim_factory):
    sim, at = faulty(sim_factory, {"urc_burst": {"times": 1, "where": ["transfer"],
                                                 "lines": ["+UUX: 3"], "count": 1}})
    at.send_prompt('AT+UDWNFILE="t",4')
    raw = at.send_data(b"wxyz")
    assert raw == b"\r\n+UUX: 3\r\n\r\nOK\r\n"
    assert sim.control("fs_read", name="t") == "wxyz"


def test_spurious_error(sim_factory):
    sim, at = faulty(sim_factory, {"spurious_error": {"times": 1}})
    assert final_result(at.send("AT+CMEE=2")) == "ERROR"
    assert info_lines(at.send("AT+CMEE?")) == ["+CMEE: 0"]  # it was not executed
    assert final_result(at.send("AT+CMEE=2")) == "OK"


def test_stall_delays_but_keeps_order(sim_factory):
    sim, at = faulty(sim_factory, {"stall": {"times": 1, "seconds": 0.3}})
    at.write(b"AT+CGMI\rAT+CGMM\r")
    raw = at.read_until(rb"SARA-R510S\r\n\r\nOK\r\n")
    assert raw == b"AT+CGMI\r\r\nu-blox\r\n\r\nOK\r\nAT+CGMM\r\r\nSARA-R510S\r\n\r\nOK\r\n"
    assert sim.control("faults")["fired"] == {"stall": 1}


def test_reboot_in_transfer_discards_the_data(sim_factory):
    sim, at = faulty(sim_factory, {"reboot_in_transfer": {"after": 5, "times": 1}})
    at.send("AT+CMEE=2")
    at.send_prompt('AT+UDWNFILE="cut",10')
    at.write(b"0123456789")
    raw = wait_until_ready(at)
    assert b"OK" not in raw.split(b"AT\r")[0]  # the download never completed
    assert sim.control("fs_list") == []
    assert info_lines(at.send("AT+CMEE?")) == ["+CMEE: 0"]


def test_boot_noise_after_a_restart(sim_factory):
    sim, at = faulty(sim_factory, {"boot_noise": {"data": "\x00\xffNOISE"}})
    sim.control("restart")
    assert at.read_until(rb"NOISE") == b"\x00\xffNOISE"
    assert at.send("AT") == b"AT\r\r\nOK\r\n"


def test_same_seed_same_faults(sim_factory):
    spec = {"seed": 7, "drop_in": {"p": 0.3}}
    echoes = []
    for _ in range(2):
        sim, at = faulty(sim_factory, spec)
        at.write(b"ZZ" + bytes(range(65, 91)) + b"\r")
        echoes.append(at.read_for(0.3))
        at.close()
        sim.stop()
    assert echoes[0] == echoes[1]
    assert 0 < len(echoes[0]) < 29
