"""Identification, AT+CMEE, +USECCHIP and the AT+CFUN=16 module reset."""

import re
import time

import pytest

from fixtures_sim import CORE_FAMILIES, final_result, info_lines
from ubxsim import cme

CHIP_ID_LINE = re.compile(r'\+USECCHIP: "([0-9A-F]+)"')


@pytest.fixture
def sim(sim_factory):
    return sim_factory(families=CORE_FAMILIES)


def wait_until_ready(at, timeout=10.0):
    """After a reset: send AT until the module answers OK."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.write(b"AT\r")
        raw = at.read_for(0.2)
        if b"\r\nOK\r\n" in raw:
            return raw
    raise TimeoutError("module did not come back")


@pytest.mark.parametrize("command, expected", [
    ("ATI", ["SARA-R510S-01B-00"]),
    ("AT+CGMI", ["u-blox"]),
    ("AT+CGMM", ["SARA-R510S"]),
    ("AT+CGMR", ["ubxsim 0.1.0"]),
])
def test_identification(at, command, expected):
    raw = at.send(command)
    assert info_lines(raw) == expected
    assert final_result(raw) == "OK"


def test_identification_test_form_answers_ok(at):
    assert final_result(at.send("AT+CGMI=?")) == "OK"


def test_identification_rejects_parameters(at):
    assert final_result(at.send("AT+CGMI=1")) == "ERROR"


def test_cmee_set_read_and_range(at):
    for value in (1, 2, 0):
        assert final_result(at.send("AT+CMEE=%d" % value)) == "OK"
        assert info_lines(at.send("AT+CMEE?")) == ["+CMEE: %d" % value]
    at.send("AT+CMEE=2")
    assert final_result(at.send("AT+CMEE=3")) == "+CME ERROR: incorrect parameters"
    assert final_result(at.send("AT+CMEE")) == "+CME ERROR: incorrect parameters"


def test_usecchip_answers_a_quoted_stable_chip_id(at):
    first = info_lines(at.send("AT+USECCHIP"))
    assert len(first) == 1 and CHIP_ID_LINE.fullmatch(first[0])
    assert info_lines(at.send("AT+USECCHIP")) == first


def test_usecchip_test_form_and_bad_forms(at):
    assert final_result(at.send("AT+USECCHIP=?")) == "OK"
    at.send("AT+CMEE=1")
    assert final_result(at.send("AT+USECCHIP=1")) == "+CME ERROR: %d" % cme.INCORRECT_PARAMETERS
    assert final_result(at.send("AT+USECCHIP?")) == "+CME ERROR: %d" % cme.INCORRECT_PARAMETERS


def test_two_modules_have_different_chip_ids(sim_factory, tmp_path):
    from fixtures_sim import AtClient
    ids = []
    for name in ("one", "two"):
        sim = sim_factory(families=CORE_FAMILIES, state=tmp_path / name)
        client = AtClient(sim.link)
        ids.append(info_lines(client.send("AT+USECCHIP"))[0])
        client.close()
    assert ids[0] != ids[1]


def test_cfun16_answers_ok_then_resets_volatile_state(at):
    at.send("ATE0")
    at.send("AT+CMEE=2")
    assert at.send("AT+CFUN=16") == b"\r\nOK\r\n"
    raw = wait_until_ready(at)
    assert raw.endswith(b"AT\r\r\nOK\r\n")  # echo is back on
    assert info_lines(at.send("AT+CMEE?")) == ["+CMEE: 0"]


def test_cfun_read_test_and_bad_values(at):
    assert info_lines(at.send("AT+CFUN?")) == ["+CFUN: 1,0"]
    assert final_result(at.send("AT+CFUN=?")) == "OK"
    assert final_result(at.send("AT+CFUN=4")) == "OK"
    assert info_lines(at.send("AT+CFUN?")) == ["+CFUN: 4,0"]
    assert final_result(at.send("AT+CFUN=2")) == "ERROR"


def test_reset_in_a_data_phase_discards_the_partial_data(sim, at):
    at.send_prompt('AT+UDWNFILE="partial",10')
    at.write(b"12345")
    at.read_for(0.1)
    sim.control("restart")
    wait_until_ready(at)
    # what is sent now is a command again, not the rest of the data
    assert info_lines(at.send("AT+ULSTFILE=")) == ["+ULSTFILE:"]
    assert sim.control("fs_list") == []
