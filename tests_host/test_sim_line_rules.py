"""The simulator's command-line rules that tests_host/test_sim_framing.py
leaves open: an LF inside a command line is ignored, and a line longer than
MAX_LINE is refused as a whole (what is short enough runs)."""

import pytest

from fixtures_sim import CORE_FAMILIES, info_lines
from ubxsim.engine import MAX_LINE


@pytest.fixture
def sim(sim_factory):
    return sim_factory(families=CORE_FAMILIES)


def test_lf_inside_a_command_line_is_ignored(at):
    at.send("ATE0")
    assert info_lines(at.send(b"AT+CG\nMI")) == ["u-blox"]


def test_a_line_longer_than_max_line_is_an_error(at):
    at.send("ATE0")
    # characters before "AT" are ignored: a line of exactly MAX_LINE runs
    assert at.send("x" * (MAX_LINE - 2) + "AT") == b"\r\nOK\r\n"
    assert at.send("x" * (MAX_LINE - 1) + "AT") == b"\r\nERROR\r\n"
    assert at.send("AT") == b"\r\nOK\r\n"
