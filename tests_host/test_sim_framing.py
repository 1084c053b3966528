"""V.250 framing of the simulator: echo, CR/LF, result codes, dispatch, prompts, URCs."""

import re
import threading

import pytest

from fixtures_sim import CORE_FAMILIES, final_result, info_lines
from ubxsim import cme


@pytest.fixture
def sim(sim_factory):
    return sim_factory(families=CORE_FAMILIES)


def test_at_alone_answers_ok_with_echo(at):
    assert at.send("AT") == b"AT\r\r\nOK\r\n"


def test_ate0_stops_echo_and_ate1_restores_it(at):
    assert at.send("ATE0") == b"ATE0\r\r\nOK\r\n"  # echoed: received while echo was on
    assert at.send("AT") == b"\r\nOK\r\n"
    assert at.send("ATE1") == b"\r\nOK\r\n"
    assert at.send("AT") == b"AT\r\r\nOK\r\n"


def test_command_names_are_case_insensitive(at):
    upper = at.send("AT+CGMI")
    lower = at.send("at+cgmi")
    assert info_lines(upper) == info_lines(lower) == ["u-blox"]
    assert final_result(lower) == "OK"


def test_information_text_is_framed_by_crlf(at):
    at.send("ATE0")
    assert at.send("AT+CGMM") == b"\r\nSARA-R510S\r\n\r\nOK\r\n"


def test_lf_is_ignored_but_echoed(at):
    at.write(b"AT\r\n")
    assert at.read_until(rb"OK\r\n") == b"AT\r\r\nOK\r\n"
    # the LF arrives after the command ran; a following command is unaffected
    assert at.send("AT+CGMI") == b"\nAT+CGMI\r\r\nu-blox\r\n\r\nOK\r\n"


def test_characters_before_at_are_ignored(at):
    assert info_lines(at.send("xyzAT+CGMI")) == ["u-blox"]


def test_line_without_at_gets_no_answer(at):
    at.write(b"hello\r")
    # the next line's answer comes first: nothing was sent for "hello"
    assert at.send("AT") == b"hello\rAT\r\r\nOK\r\n"


def test_backspace_edits_the_command_line(at):
    assert info_lines(at.send(b"AT+CGMX\x08I")) == ["u-blox"]


def test_a_slash_repeats_the_last_command_line(at):
    first = info_lines(at.send("AT+CGMM"))
    at.write(b"A/")
    assert info_lines(at.read_until(rb"OK\r\n")) == first == ["SARA-R510S"]


def test_several_commands_on_one_line(at):
    raw = at.send("ATE0+CGMI;+CGMM")
    assert raw.endswith(b"\r\nu-blox\r\n\r\nSARA-R510S\r\n\r\nOK\r\n")


def test_dispatch_forms_test_read_set(at):
    assert info_lines(at.send("AT+CMEE=?")) == ["+CMEE: (0-2)"]
    assert final_result(at.send("AT+CMEE=2")) == "OK"
    assert info_lines(at.send("AT+CMEE?")) == ["+CMEE: 2"]


@pytest.mark.parametrize("cmee", [0, 1, 2])
def test_unknown_command_is_plain_error_whatever_cmee(at, cmee):
    at.send("AT+CMEE=%d" % cmee)
    assert final_result(at.send("AT+NOSUCH")) == "ERROR"
    assert final_result(at.send("AT#")) == "ERROR"


def test_error_stops_the_rest_of_the_line(at):
    at.send("ATE0")
    assert at.send("AT+NOSUCH;+CGMI") == b"\r\nERROR\r\n"


@pytest.mark.parametrize("cmee, expected", [
    (0, "ERROR"),
    (1, "+CME ERROR: %d" % cme.INCORRECT_PARAMETERS),
    (2, "+CME ERROR: %s" % cme.TEXTS[cme.INCORRECT_PARAMETERS]),
])
def test_bad_parameters_render_per_cmee(at, cmee, expected):
    at.send("AT+CMEE=%d" % cmee)
    assert final_result(at.send("AT+CMEE=7")) == expected
    assert final_result(at.send('AT+CMEE="x')) == expected  # unterminated string
    assert final_result(at.send("AT+CMEE=1x")) == expected


def test_prompt_is_a_bare_gt_and_data_is_not_echoed(at):
    assert at.send_prompt('AT+UDWNFILE="f",6') == b'AT+UDWNFILE="f",6\r>'
    assert at.send_data(b"AT\r\nx\"") == b"\r\nOK\r\n"
    raw = at.send('AT+URDFILE="f"')
    assert b'+URDFILE: "f",6,"AT\r\nx""\r\n' in raw


def test_guard_timer_ends_a_stalled_transfer_and_stores_nothing(sim, at):
    sim.control("guard", seconds=0.5)
    at.send("AT+CMEE=1")
    at.send_prompt('AT+UDWNFILE="stalled",10')
    at.write(b"abc")
    assert final_result(at.read_until(rb"\r\n\+CME ERROR: \d+\r\n")) == \
        "+CME ERROR: %d" % cme.TIMEOUT
    assert info_lines(at.send("AT+ULSTFILE=")) == ["+ULSTFILE:"]
    assert at.send("AT").endswith(b"\r\nOK\r\n")


def test_urc_is_framed_and_sent_while_idle(sim, at):
    at.send("ATE0")
    sim.control("urc", line="+UUSECPRF: 0,13,0,2")
    assert at.read_until(rb"\r\n\+UU[^\r]*\r\n") == b"\r\n+UUSECPRF: 0,13,0,2\r\n"


def test_urc_during_a_transfer_does_not_enter_the_data(sim, at):
    at.send("ATE0")
    at.send_prompt('AT+UDWNFILE="u",8')
    at.write(b"1234")
    sim.control("urc", line="+UUTEST: 1")
    assert at.read_until(rb"\+UUTEST: 1\r\n") == b"\r\n+UUTEST: 1\r\n"
    assert at.send_data(b"5678") == b"\r\nOK\r\n"
    assert sim.control("fs_read", name="u") == "12345678"


def test_urcs_from_threads_never_land_inside_a_response(sim, at):
    at.send("ATE0")
    at.send_prompt('AT+UDWNFILE="a",1')
    at.send_data(b"a")
    at.send_prompt('AT+UDWNFILE="b",1')
    at.send_data(b"b")
    command = "AT+CGMI;+CGMM;+ULSTFILE="
    response = b"\r\nu-blox\r\n\r\nSARA-R510S\r\n\r\n+ULSTFILE: \"a\",\"b\"\r\n\r\nOK\r\n"
    urc_count = 40

    def emit():
        for i in range(urc_count):
            sim.control("urc", line="+UUTEST: %d" % i)
    emitter = threading.Thread(target=emit)
    emitter.start()
    raws = [at.send(command) for _ in range(25)]
    emitter.join()
    stream = b"".join(raws)
    urc = re.compile(rb"\r\n\+UUTEST: \d+\r\n")
    for _ in range(50):  # the last URCs may still be on their way
        if len(urc.findall(stream)) >= urc_count:
            break
        stream += at.read_for(0.1)
    urcs = urc.findall(stream)
    assert len(urcs) == urc_count
    # the stream is whole responses and whole URCs, one after the other
    assert re.fullmatch(rb"(?:%s|%s)*" % (urc.pattern, re.escape(response)), stream)
    assert stream.count(response) == 25


def test_overlong_command_line_is_an_error(at):
    at.send("ATE0")
    assert at.send("AT+CGMI" + "1" * 5000) == b"\r\nERROR\r\n"
    assert at.send("AT") == b"\r\nOK\r\n"
