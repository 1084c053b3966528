"""Module facade, chip ID and trace redaction."""

import ubxsec
from ubxsec import chip, errors
from ubxsec.trace import Trace
from fakeuart import FakeUart, PromptReply, reply, OK
from checks import raises as _raises


def _chip_responder(answer):
    def responder(line):
        return answer if line == b"AT+USECCHIP" else None
    return responder


# -- Module ---------------------------------------------------------------------

def test_start_sends_echo_off_and_verbose_errors():
    uart = FakeUart(_chip_responder(reply(b'+USECCHIP: "12345678"', b"OK")), echo=True)
    m = ubxsec.Module(uart, timeout_ms=300)
    m.start()
    assert bytes(uart.written) == b"ATE0\rAT+CMEE=2\r"
    assert not uart.echo
    assert m.chip_id() == "12345678"
    assert bytes(uart.written) == b"ATE0\rAT+CMEE=2\rAT+USECCHIP\r"


def test_lazy_start_on_first_command():
    uart = FakeUart(_chip_responder(reply(b'+USECCHIP: "ABCDEF0123"', b"OK")), echo=True)
    m = ubxsec.Module(uart, timeout_ms=300)
    assert uart.written == bytearray()  # nothing sent by the constructor
    assert m.chip_id() == "ABCDEF0123"
    assert uart.commands == [b"ATE0", b"AT+CMEE=2", b"AT+USECCHIP"]


def test_irq_mode_follows_the_uart():
    cases = ((("IRQ_RXIDLE", "IRQ_TXIDLE"), "IRQ_RXIDLE"),
             (("IRQ_RX", "IRQ_RXIDLE"), "IRQ_RXIDLE"),
             (("IRQ_RX",), "IRQ_RX"),
             ((), "poll"))
    for triggers, mode in cases:
        uart = FakeUart(_chip_responder(reply(b'+USECCHIP: "1"', b"OK")), triggers=triggers)
        m = ubxsec.Module(uart, timeout_ms=300)
        assert m.irq_mode == mode, (triggers, m.irq_mode)
        if mode != "poll":
            assert uart.trigger == getattr(uart, mode)
            assert uart._handler is m.ring.irq_handler
        assert m.chip_id() == "1"
        assert (uart.irq_fired > 0) == (mode != "poll")
        m.close()
        assert m.irq_mode == "poll"


def test_hard_irq_module_allocates_nothing_in_the_handler():
    uart = FakeUart(_chip_responder(reply(b"+UUSECPRF: 0,13,0,2", b'+USECCHIP: "7"', b"OK")),
                    echo=True, piece=4)
    m = ubxsec.Module(uart, timeout_ms=300, irq_hard=True)
    seen = []
    m.on_urc("+UUSECPRF:", seen.append)
    assert m.chip_id() == "7"
    assert seen == ["+UUSECPRF: 0,13,0,2"]
    assert uart.irq_fired > 3 and uart.irq_errors == []


def test_module_poll_dispatches_idle_urcs():
    uart = FakeUart(None)
    m = ubxsec.Module(uart)
    seen = []
    m.on_urc("+UUSECPRF:", seen.append)
    uart.inject(reply(b"+UUSECPRF: 1,13,0,2", b"+UUSECPRF: 2,13,0,0"))
    m.poll()
    assert seen == ["+UUSECPRF: 1,13,0,2", "+UUSECPRF: 2,13,0,0"]
    assert uart.written == bytearray()


def test_cme_verbose_through_module():
    uart = FakeUart(_chip_responder(reply(b"+CME ERROR: operation not allowed")))
    m = ubxsec.Module(uart, timeout_ms=300)
    exc = _raises(errors.CmeError, m.chip_id)
    assert exc.text == "operation not allowed" and exc.code == 3


# -- chip ID --------------------------------------------------------------------

def test_chip_id_forms():
    good = ((b'+USECCHIP: "12345678"', "12345678"),
            (b'+USECCHIP:"0123ABCDEF"', "0123ABCDEF"),
            (b"+USECCHIP: 00A1B2C3D4E5F6", "00A1B2C3D4E5F6"))
    for line, chip_id in good:
        uart = FakeUart(_chip_responder(reply(line, b"OK")))
        assert ubxsec.Module(uart, timeout_ms=300).chip_id() == chip_id


def test_chip_id_malformed():
    bad = ([], ['+USECCHIP: ""'], ["+USECCHIP:"], ['+USECCHIP: "12'], ['+USECCHIP: "1"2"'],
           ['+USECCHIP: "12 34"'], ['+USECCHIP: "1","2"'], ['+USECMNG: "1"'], ['"12345678"'],
           ['+USECCHIP: "1"', '+USECCHIP: "2"'])
    for lines in bad:
        _raises(errors.ProtocolError, chip.parse_chip_id, lines)


def test_chip_id_malformed_on_the_wire():
    uart = FakeUart(_chip_responder(reply(b"+USECCHIP: \"\"", b"OK")))
    _raises(errors.ProtocolError, ubxsec.Module(uart, timeout_ms=300).chip_id)


# -- trace ----------------------------------------------------------------------

PSK = "0123456789abcdefSECRET"
PASSWORD = "hunter2pass"
KEY = b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKEYBYTES\n-----END EC PRIVATE KEY-----\n"


def _traced_module():
    def responder(line):
        if line.startswith(b"AT+USECPRF=0,8"):
            return OK
        if line.startswith(b"AT+USECPRF=0,13"):
            return reply(b'+USECPRF: 0,13,2,"c2Vzc2lvbklE","bWFzdGVy"', b"OK")
        if line.startswith(b"AT+USECMNG=0,2,"):
            return PromptReply(b">", len(KEY), lambda d: reply(b'+USECMNG: 0,2,"key","md5sum"', b"OK"))
        if line == b"AT+USECCHIP":
            return reply(b"+UUSECPRF: 0,13,2,\"c2Vzc2lvbklE\",\"bWFzdGVy\"", b'+USECCHIP: "42"', b"OK")
        return None

    lines = []
    uart = FakeUart(responder, echo=True)
    m = ubxsec.Module(uart, timeout_ms=300, trace=lines.append)
    return m, lines


def test_trace_redacts_secret_commands_and_payloads():
    m, lines = _traced_module()
    m.at.command('+USECPRF=0,8,"%s"' % PSK, secret=True)
    m.at.command("+USECPRF=0,13,2", secret=True)
    pos = [0]

    def source(mv):
        n = min(len(mv), len(KEY) - pos[0])
        for i in range(n):
            mv[i] = KEY[pos[0] + i]
        pos[0] += n
        return n

    m.at.command_with_data('+USECMNG=0,2,"key",%d,"%s"' % (len(KEY), PASSWORD), len(KEY), source,
                           redact=(PASSWORD,))
    m.chip_id()
    text = "\n".join(lines)
    for secret in (PSK, PASSWORD, "c2Vzc2lvbklE", "bWFzdGVy", "KEYBYTES", "PRIVATE"):
        assert secret not in text, (secret, text)
    assert "-> AT+USECPRF=0,8,<redacted>" in lines
    assert "=> [%d bytes]" % len(KEY) in lines
    assert '-> AT+USECMNG=0,2,"key",%d,"***"' % len(KEY) in lines
    assert "<- +UUSECPRF: <redacted>" in lines
    assert '<- +USECCHIP: "42"' in lines and "<- OK" in lines
    assert "-> ATE0" in lines


def test_trace_to_a_stream():
    class Stream:
        def __init__(self):
            self.parts = []

        def write(self, s):
            self.parts.append(s)

    stream = Stream()
    t = Trace(stream)
    t.tx('+X="pw"', redact=("pw",))
    assert "".join(stream.parts) == '-> AT+X="***"\n'
    _raises(ValueError, Trace, 42)


def test_timeout_messages_hold_no_parameters():
    uart = FakeUart(None)
    m = ubxsec.Module(uart, timeout_ms=50)
    m.at.set_startup(())
    m.at.probe_ms = 30
    exc = _raises(errors.AtTimeout, m.at.command, '+USECPRF=0,8,"%s"' % PSK, secret=True)
    assert PSK not in str(exc) and "AT+USECPRF" in str(exc)


def test_command_families_are_lazy_and_silent():
    uart = FakeUart(None)
    m = ubxsec.Module(uart)
    certs = m.certs
    assert certs is m.certs  # built once
    assert type(certs).__name__ == "Certs"
    assert type(m.profile(0)).__name__ == "SecurityProfile"
    assert uart.written == bytearray()


def test_line_max_reaches_the_engine():
    long_urc = b"+UUSECPRF: 0,13,12,\"" + b"Q" * 1500 + b"\",1500"
    uart = FakeUart(None)
    m = ubxsec.Module(uart, line_max=2048, rx_size=2048)
    seen = []
    m.on_urc("+UUSECPRF:", seen.append)
    uart.inject(reply(long_urc))
    m.poll()
    assert seen == [long_urc.decode()]


def test_bad_arguments_leave_no_irq_handler_attached():
    for kw in ({"chunk": 0}, {"line_max": 4}):
        uart = FakeUart(lambda line: OK)
        _raises(ValueError, ubxsec.Module, uart, **kw)
        assert uart._handler is None, kw
