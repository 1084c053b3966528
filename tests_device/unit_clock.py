"""ubxsec.clock (+CCLK) and Module.clock()/set_clock() against the FakeUart."""

import ubxsec
from ubxsec import clock
from ubxsec.at import AtEngine
from ubxsec.errors import ProtocolError
from ubxsec.ring import Ring
from fakeuart import FakeUart, reply, OK
from checks import raises


def _engine(responder):
    uart = FakeUart(responder)
    ring = Ring(512, uart)
    uart.irq(handler=ring.irq_handler, trigger=uart.IRQ_RXIDLE, hard=True)
    return uart, AtEngine(uart, ring, timeout_ms=300, probe_ms=150, quiet_ms=20)


def _cclk(text):
    def responder(line):
        if line == b"AT+CCLK?":
            return reply('+CCLK: "%s"' % text, "OK")
        return OK
    return responder


def test_parse_gives_the_tuple_and_whether_the_clock_is_set():
    assert clock.parse("26/12/07,23:40:05+04") == (2026, 12, 7, 23, 40, 5, 4, True)
    assert clock.parse("15/01/01,00:00:12+00") == (2015, 1, 1, 0, 0, 12, 0, False)
    assert clock.parse("80/01/06,00:00:00-08") == (1980, 1, 6, 0, 0, 0, -8, False)
    assert clock.parse("69/01/01,00:00:00+00")[0] == 2069


def test_release_year_is_the_boundary():
    year = clock.RELEASE_YEAR % 100
    assert clock.parse("%02d/01/01,00:00:00+00" % year)[7] is True
    assert clock.parse("%02d/12/31,23:59:59+00" % (year - 1))[7] is False


def test_parse_refuses_what_is_not_a_time():
    for text in ("26/12/07,23:40:05", "26/12/07 23:40:05+00", "26-12-07,23:40:05+00",
                 "26/13/07,23:40:05+00", "26/12/07,24:40:05+00", "26/12/07,23:40:05+97",
                 "2a/12/07,23:40:05+00", ""):
        raises(ValueError, clock.parse, text)


def test_cclk_text_of_a_tuple():
    assert clock.cclk_text((2026, 12, 7, 23, 40, 5)) == "26/12/07,23:40:05+00"
    assert clock.cclk_text((2026, 12, 7, 23, 40, 5, 0, 341), -8) == "26/12/07,23:40:05-08"
    for bad in ((2026, 13, 7, 0, 0, 0), (2070, 1, 1, 0, 0, 0), (2026, 1, 1, 0, 0),
                (2026, 1, 1, 0, 0, "0"), "26/12/07"):
        exc = raises(ValueError, clock.cclk_text, bad)
        assert "clock" in str(exc)
    exc = raises(ValueError, clock.cclk_text, (2026, 1, 1, 0, 0, 0), 97)
    assert str(exc) == "clock tz 97: allowed -96..96"


def test_module_clock_reads_cclk():
    uart, at = _engine(_cclk("15/01/01,00:03:20+00"))
    assert clock.read(at) == (2015, 1, 1, 0, 3, 20, 0, False)
    assert uart.commands == [b"AT+CCLK?"]


def test_module_set_clock_writes_cclk_and_checks_first():
    uart, at = _engine(lambda line: OK)
    clock.write(at, (2026, 12, 7, 23, 40, 5, 6, 341))
    clock.write(at, (2026, 12, 8, 0, 40, 5), 4)
    assert uart.commands == [b'AT+CCLK="26/12/07,23:40:05+00"', b'AT+CCLK="26/12/08,00:40:05+04"']
    raises(ValueError, clock.write, at, (2026, 2, 0, 0, 0, 0))
    assert len(uart.commands) == 2   # refused before any byte


def test_a_bad_answer_is_a_protocol_error():
    for text in ("15/01/01,00:03:20", "garbage"):
        uart, at = _engine(_cclk(text))
        raises(ProtocolError, clock.read, at)


def test_module_methods_use_the_extension():
    uart = FakeUart(_cclk("26/01/02,03:04:05+00"))
    m = ubxsec.Module(uart)
    assert m.clock() == (2026, 1, 2, 3, 4, 5, 0, True)
    m.set_clock((2026, 1, 2, 3, 4, 6))
    assert uart.commands[-1] == b'AT+CCLK="26/01/02,03:04:06+00"'
