"""UART pacing: at --baud N neither direction carries more than N/10 bytes per second."""

import time

import pytest

from fixtures_sim import CORE_FAMILIES, AtClient, final_result

BAUD = 9600


@pytest.fixture
def paced(sim_factory):
    sim = sim_factory(families=CORE_FAMILIES, baud=BAUD)
    client = AtClient(sim.link, timeout=20)
    client.send("ATE0")
    yield sim, client
    client.close()


def wire_seconds(nbytes):
    return nbytes * 10 / BAUD


def test_receive_direction_is_paced(paced):
    _, at = paced
    data = bytes(range(256)) * 2
    at.send_prompt('AT+UDWNFILE="paced.bin",%d' % len(data))
    start = time.monotonic()
    raw = at.send_data(data)
    elapsed = time.monotonic() - start
    assert final_result(raw) == "OK"
    assert elapsed >= wire_seconds(len(data)) * 0.9


def test_send_direction_is_paced(paced):
    sim, at = paced
    data = b"z" * 500
    sim.control("fs_write", name="out.bin", data=data.decode())
    at.write(b'AT+URDFILE="out.bin"\r')
    start = time.monotonic()
    raw = at.read_until(rb"\r\nOK\r\n")
    elapsed = time.monotonic() - start
    assert data in raw
    assert elapsed >= wire_seconds(len(raw)) * 0.9


def test_echo_is_paced_too(sim_factory):
    sim = sim_factory(families=CORE_FAMILIES, baud=BAUD)
    at = AtClient(sim.link, timeout=20)
    line = b"AT" + b" " * 200 + b"\r"
    start = time.monotonic()
    at.write(line)
    raw = at.read_until(rb"\r\nOK\r\n")
    elapsed = time.monotonic() - start
    assert raw == line + b"\r\nOK\r\n"
    # the echo cannot start before the first byte arrived nor outrun the line
    assert elapsed >= wire_seconds(len(raw)) * 0.9
    at.close()
