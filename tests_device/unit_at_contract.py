"""The engine contract: exchange*() generators driven by run(), and
command*() == run(exchange*(...)) on the scripted FakeUart."""

from ubxsec import errors
from unit_at import _engine, _table, _importer, _Source, _Sink, _urdfile, CHIP, NASTY
from fakeuart import reply, ERROR
from checks import raises as _raises, wire


def test_exchange_returns_the_information_lines():
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP}))
    gen = at.exchange("+USECCHIP")
    assert uart.written == b""  # a generator: nothing is sent before it runs
    assert at.run(gen) == ['+USECCHIP: "12345678"']
    assert uart.written == wire("+USECCHIP")


def test_exchange_error_result_raises_from_run():
    uart, at = _engine(_table({b"AT+USECMNG=2,0,\"x\"": reply(b"+CME ERROR: 22")}))
    exc = _raises(errors.CmeError, at.run, at.exchange('+USECMNG=2,0,"x"'))
    assert exc.code == 22
    uart2, at2 = _engine(_table({b"AT+X": ERROR}))
    _raises(errors.AtError, at2.run, at2.exchange("+X"))
    assert at2.run(at2.exchange("")) == []  # in sync afterwards


def test_exchange_info_option():
    lines = reply(b'0,"ca","A"', b"+CEREG: 1", b"OK")
    uart, at = _engine(_table({b"AT+USECMNG=3": lines}))
    assert at.run(at.exchange("+USECMNG=3", info=('0,"',))) == ['0,"ca","A"']
    assert at.urc_dropped == 1


def test_exchange_data_streams_and_returns_the_lines():
    data = bytes(range(40))
    uart, at = _engine(_importer(len(data)))
    src = _Source(data)
    lines = at.run(at.exchange_data('+USECMNG=0,0,"x",40', len(data), src))
    assert lines == ['+USECMNG: 0,0,"x","40"'], lines
    assert uart.payloads == [data]


def test_exchange_data_size_zero_refused_before_writing():
    uart, at = _engine(_importer(4))
    _raises(ValueError, at.run, at.exchange_data('+USECMNG=0,0,"x",0', 0, _Source(b"")))
    assert uart.written == b""


def test_exchange_payload_hands_bytes_to_the_sink():
    uart, at = _engine(_table({b'AT+URDFILE="f"': _urdfile(b"f", NASTY)}))
    sink = _Sink()
    lines = at.run(at.exchange_payload('+URDFILE="f"', "+URDFILE:", sink))
    assert lines == ['+URDFILE: "f",%d,""' % len(NASTY)], lines
    assert bytes(sink.data) == NASTY


def test_a_family_method_is_a_generator_over_exchanges():
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP, b"AT+CGMR": reply(b"+CGMR: 9", b"OK")}))

    def both():
        chip = yield from at.exchange("+USECCHIP")
        rev = yield from at.exchange("+CGMR")
        return chip[0][-9:-1] + "/" + rev[0][-1:]

    assert at.run(both()) == "12345678/9"
    assert uart.written == wire("+USECCHIP", "+CGMR")


def test_command_forms_equal_run_of_exchange_forms():
    data = b"0123456789"
    for form in ("command", "run"):
        uart, at = _engine(_importer(len(data)))
        if form == "command":
            chip = at.command("+USECCHIP")
            lines = at.command_with_data('+USECMNG=0,0,"x",10', len(data), _Source(data))
        else:
            chip = at.run(at.exchange("+USECCHIP"))
            lines = at.run(at.exchange_data('+USECMNG=0,0,"x",10', len(data), _Source(data)))
        assert chip == ['+USECCHIP: "12345678"']
        assert lines == ['+USECMNG: 0,0,"x","10"']
        assert uart.payloads == [data]
