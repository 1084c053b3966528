"""AT engine against the scripted FakeUart."""


from alloc import allocated
from ubxsec import errors
from ubxsec.at import AtEngine
from ubxsec.ring import Ring
from fakeuart import FakeUart, PromptReply, reply, OK, ERROR
import frontend
from checks import raises as _raises

CHIP = reply(b'+USECCHIP: "12345678"', b"OK")


def _engine(responder, ring_size=1024, chunk=16, timeout_ms=300, trace=None,
            guard_ms=2000, irq=True, **uart_kw):
    uart = frontend.uart(responder, **uart_kw)
    ring = Ring(ring_size, uart)
    if irq:
        uart.irq(handler=ring.irq_handler, trigger=uart.IRQ_RXIDLE, hard=True)
    at = AtEngine(uart, ring, timeout_ms=timeout_ms, chunk=chunk, trace=trace,
                  guard_ms=guard_ms, probe_ms=150, quiet_ms=20)
    return uart, frontend.engine(at)


def _table(mapping):
    def responder(line):
        return mapping.get(line)
    return responder


class _Source:
    """Feeds `data` into the engine's views, recording their lengths."""

    def __init__(self, data, stop_at=None, short=None):
        self.data = data
        self.pos = 0
        self.stop_at = len(data) if stop_at is None else stop_at
        self.short = short
        self.views = []

    def __call__(self, mv):
        self.views.append(len(mv))
        n = min(len(mv), self.stop_at - self.pos)
        if self.short and n > self.short:
            n = self.short
        for i in range(n):
            mv[i] = self.data[self.pos + i]
        self.pos += n
        return n


def _importer(size, prefix=b">", urc=None):
    """Responder for AT+USECMNG=0,... with a '>' phase of `size` bytes."""
    def responder(line):
        if line.startswith(b"AT+USECMNG=0,"):
            return PromptReply(prefix, size,
                               lambda data: reply(b'+USECMNG: 0,0,"x","%d"' % len(data), b"OK"))
        if line == b"AT+USECCHIP":
            return CHIP
        return None
    return responder


# -- final result forms -------------------------------------------------------

def test_ok_with_information_lines():
    for echo in (False, True):
        uart, at = _engine(_table({b"AT+USECMNG=3": reply(b'"CA","A","a","2036/07/17"',
                                                           b'"CA","B","b","2030/01/01"', b"OK")}),
                           echo=echo)
        # the listing's lines have no "+USECMNG:" prefix: the caller names theirs
        assert at.command("+USECMNG=3", info='"CA"') == ['"CA","A","a","2036/07/17"',
                                                        '"CA","B","b","2030/01/01"']
        assert bytes(uart.written) == b"AT+USECMNG=3\r"
        # without it they are not the command's: URCs nobody handles
        assert at.command("+USECMNG=3") == [] and at.urc_dropped == 2


def test_ok_without_lines():
    uart, at = _engine(_table({b"AT+X": OK}))
    assert at.command("+X") == []


def test_plain_error():
    uart, at = _engine(_table({b"AT+X": ERROR}))
    exc = _raises(errors.AtError, at.command, "+X")
    assert not isinstance(exc, errors.CmeError)


def test_cme_numeric_and_verbose():
    cases = [(b"+CME ERROR: 4", 4, None),
             (b"+CME ERROR: 1503", 1503, None),
             # a verbose text of 3GPP TS 27.007 also carries its number
             (b"+CME ERROR: operation not supported", 4, "operation not supported"),
             (b"+CME ERROR: Memory Full", 20, "Memory Full"),
             # texts of one series only (LENA-R8) keep the text alone
             (b"+CME ERROR: parameters are invalid", None, "parameters are invalid"),
             (b"+CME ERROR: USECMNG invalid certificate/key format", None,
              "USECMNG invalid certificate/key format"),
             (b"+CME ERROR: Invalid parameter", None, "Invalid parameter")]
    for line, code, text in cases:
        for echo in (False, True):
            uart, at = _engine(_table({b"AT+X=1": reply(line)}), echo=echo)
            exc = _raises(errors.CmeError, at.command, "+X=1")
            assert exc.code == code and exc.text == text, (exc.code, exc.text)
            exc = _raises(errors.CmeError, at.command, "+X=1")  # in sync: same answer again
            assert exc.code == code and exc.text == text
            assert at.resyncs == 0 and uart.commands == [b"AT+X=1", b"AT+X=1"]


def test_info_lines_before_error_are_not_success():
    uart, at = _engine(_table({b"AT+X": reply(b"+X: 1", b"+CME ERROR: 3")}))
    assert _raises(errors.CmeError, at.command, "+X").code == 3


def test_echo_toggled_by_ate0_mid_session():
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP}), echo=True)
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    assert at.command("E0") == []
    assert not uart.echo
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_response_in_small_pieces():
    for piece in (1, 2, 3, 7):
        for echo in (False, True):
            uart, at = _engine(_table({b"AT+USECCHIP": reply(b"+UUSECPRF: 0,13,0,2") + CHIP}),
                               piece=piece, echo=echo)
            seen = []
            at.on_urc("+UUSECPRF:", seen.append)
            assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
            assert seen == ["+UUSECPRF: 0,13,0,2"]


def test_polling_without_irq():
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP}), irq=False, piece=5)
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    assert uart.irq_fired == 0


def test_irq_path_stays_allocation_free_during_commands():
    uart, at = _engine(_importer(40), echo=True, piece=3)
    at.command("+USECCHIP")
    at.command_with_data('+USECMNG=0,0,"x",40', 40, _Source(b"k" * 40))
    assert uart.irq_fired > 5
    assert uart.irq_errors == []


def test_bad_command_text_sends_nothing():
    uart, at = _engine(_table({}))
    for cmd in ('+X="a\rb"', "+X\n", "+X\x00", b"+X", "+X\u00e9"):
        _raises(ValueError, at.command, cmd)
    assert len(uart.written) == 0


# -- URCs -----------------------------------------------------------------------

URC1 = b"+UUSECPRF: 0,13,0,2"
URC2 = b"+UUSECPRF: 1,13,1,0"


def test_urcs_before_during_after_a_command():
    lines = []

    def responder(line):
        if line == b"AT+X":
            return reply(b"+UUSECPRF: 2,13,0,1", b"+X: a", URC2, b"+X: b", b"OK", b"+UUSECPRF: 3,13,0,2")
        return None

    uart, at = _engine(responder, echo=True)
    at.on_urc("+UUSECPRF:", lines.append)
    uart.inject(reply(URC1))
    assert at.poll() == 0  # nothing but a URC arrived
    assert lines == ["+UUSECPRF: 0,13,0,2"]
    assert at.command("+X") == ["+X: a", "+X: b"]
    # the URC after OK is left for the next poll (or the next command)
    assert lines[1:] == ["+UUSECPRF: 2,13,0,1", "+UUSECPRF: 1,13,1,0"]
    at.poll()
    assert lines[1:] == ["+UUSECPRF: 2,13,0,1", "+UUSECPRF: 1,13,1,0", "+UUSECPRF: 3,13,0,2"]


def test_urc_between_echo_and_response():
    def responder(line):
        return reply(URC1) + CHIP if line == b"AT+USECCHIP" else None

    uart, at = _engine(responder, echo=True)
    seen = []
    at.on_urc("+UUSECPRF:", seen.append)
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    assert seen == ["+UUSECPRF: 0,13,0,2"]


def test_unhandled_uu_lines_are_dropped_and_counted():
    uart, at = _engine(_table({b"AT+X": reply(b"+UUHTTPCR: 0,1,1", b"+X: 1", b"OK")}))
    assert at.command("+X") == ["+X: 1"]
    assert at.urc_dropped == 1


def test_registered_prefix_wins_and_can_be_removed():
    uart, at = _engine(_table({b"AT+X": reply(b"+UUHTTPCR: 0,1,1", b"OK")}))
    seen = []
    at.on_urc("+UUHTTPCR:", seen.append)
    at.command("+X")
    at.on_urc("+UUHTTPCR:", None)
    at.command("+X")
    assert seen == ["+UUHTTPCR: 0,1,1"] and at.urc_dropped == 1


def test_handler_errors_are_counted_not_raised():
    uart, at = _engine(_table({b"AT+X": reply(URC1, b"OK")}))

    def bad(line):
        raise ValueError("handler bug")

    at.on_urc("+UUSECPRF:", bad)
    assert at.command("+X") == []
    assert at.urc_errors == 1 and isinstance(at.urc_error, ValueError)


def test_handler_may_not_issue_commands():
    uart, at = _engine(_table({b"AT+X": reply(URC1, b"OK")}))
    at.on_urc("+UUSECPRF:", lambda line: at.command("+X"))
    assert at.command("+X") == []
    assert isinstance(at.urc_error, RuntimeError)
    assert uart.commands == [b"AT+X"]


def test_stray_lines_while_idle_are_dropped():
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP}))
    uart.inject(reply(b"OK"))  # e.g. a late answer: must not answer the next command
    uart.inject(reply(b"+USECCHIP: \"99\""))
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    assert at.stray == 2


# -- '>' data phase --------------------------------------------------------------

def test_data_transfer_chunks_and_wire():
    data = bytes(range(256)) * 2 + b"tail!"
    for echo in (False, True):
        for prefix in (b">", b"\r\n>", b"\r\n> "):
            uart, at = _engine(_importer(len(data), prefix), echo=echo, chunk=64)
            src = _Source(data)
            cmd = '+USECMNG=0,0,"x",%d' % len(data)
            assert at.command_with_data(cmd, len(data), src) == ['+USECMNG: 0,0,"x","%d"' % len(data)]
            assert uart.payloads == [data]
            assert bytes(uart.written) == b"AT" + cmd.encode() + b"\r" + data
            assert max(src.views) <= 64 and src.views[-1] == len(data) % 64


def test_views_never_exceed_bytes_owed():
    data = b"0123456789" * 7
    uart, at = _engine(_importer(len(data)), chunk=16)
    src = _Source(data, short=5)
    at.command_with_data('+USECMNG=0,0,"x",70', 70, src)
    owed = 70
    for vlen in src.views:
        assert 0 < vlen <= 16 and vlen <= owed
        owed -= min(vlen, 5)
    assert uart.payloads == [data]


def test_urc_at_every_byte_offset_of_a_transfer():
    data = bytes((i * 37) & 0xFF for i in range(40))
    cmd = '+USECMNG=0,0,"x",40'
    start = len(cmd) + 3
    for echo in (False, True):
        for offset in range(0, len(data) + 1):
            # arriving at once (late_ms=0): "within a chunk of where it arrived"
            uart, at = _engine(_importer(len(data)), echo=echo, chunk=8,
                               writes=(3,) if offset % 2 else None, piece=None, late_ms=0)
            seen = []
            src = _Source(data)
            at.on_urc("+UUSECPRF:", lambda line: seen.append((line, src.pos)))
            uart.inject_at(start + offset, reply(b"+UUSECPRF: 0,13,0,%d" % offset))
            assert at.command_with_data(cmd, len(data), src) == ['+USECMNG: 0,0,"x","40"']
            at.poll()
            assert [line for line, _ in seen] == ["+UUSECPRF: 0,13,0,%d" % offset], (echo, offset, seen)
            assert uart.payloads == [data]
            if offset < len(data) - 8:
                # handled while streaming, within a chunk of where it arrived
                assert seen[0][1] <= offset + 8, (offset, seen)


def test_urc_inside_the_response_at_every_line_boundary():
    body = [b'+USECMNG: 0,0,"x","5"', b"OK"]
    for pos in range(len(body) + 1):
        lines = body[:pos] + [URC1] + body[pos:]

        def responder(line, lines=lines):
            if line.startswith(b"AT+USECMNG=0,"):
                return PromptReply(b">", 5, lambda d: reply(*lines))
            return None

        uart, at = _engine(responder, piece=4)
        seen = []
        at.on_urc("+UUSECPRF:", seen.append)
        assert at.command_with_data('+USECMNG=0,0,"x",5', 5, _Source(b"12345")) == [body[0].decode()]
        at.poll()
        assert seen == [URC1.decode()]


def test_urc_right_before_the_prompt():
    for prefix in (reply(URC1) + b">", b"\r\n" + URC1 + b"\r\n>"):
        def responder(line, prefix=prefix):
            if line.startswith(b"AT+USECMNG=0,"):
                return PromptReply(prefix, 4, lambda d: reply(b"OK"))
            return None

        for piece in (None, 1):
            uart, at = _engine(responder, echo=True, piece=piece)
            seen = []
            at.on_urc("+UUSECPRF:", seen.append)
            assert at.command_with_data('+USECMNG=0,0,"x",4', 4, _Source(b"abcd")) == []
            assert seen == [URC1.decode()] and uart.payloads == [b"abcd"]


def test_gt_inside_a_line_is_not_a_prompt():
    # the prompt comes only after a URC holding '>' in its body
    def responder2(line):
        if line.startswith(b"AT+USECMNG=0,"):
            return PromptReply(reply(b'+UUSECPRF: 0,13,2,"a>b"') + b">", 3, lambda d: OK)
        return None

    uart, at = _engine(responder2)
    seen = []
    at.on_urc("+UUSECPRF:", seen.append)
    assert at.command_with_data('+USECMNG=0,0,"x",3', 3, _Source(b"xyz")) == []
    assert seen == ['+UUSECPRF: 0,13,2,"a>b"'] and uart.payloads == [b"xyz"]


def test_short_writes_in_command_and_transfer():
    data = bytes(range(100))
    for pattern in ((1,), (3, None, 2, 0), (None, 5), (0, 0, 64)):
        uart, at = _engine(_importer(len(data)), writes=pattern, chunk=32)
        cmd = '+USECMNG=0,0,"x",100'
        at.command_with_data(cmd, 100, _Source(data))
        assert bytes(uart.written) == b"AT" + cmd.encode() + b"\r" + data
        assert uart.payloads == [data]
        assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_error_instead_of_prompt():
    uart, at = _engine(_table({b'AT+USECMNG=0,0,"x",5': reply(b"+CME ERROR: 1620")}))
    exc = _raises(errors.CmeError, at.command_with_data, '+USECMNG=0,0,"x",5', 5, _Source(b"12345"))
    assert exc.code == 1620
    assert bytes(uart.written) == b'AT+USECMNG=0,0,"x",5\r'  # not one payload byte
    assert at.resyncs == 0


def test_ok_instead_of_prompt_is_protocol_error():
    uart, at = _engine(_table({b'AT+USECMNG=0,0,"x",5': OK}))
    _raises(errors.ProtocolError, at.command_with_data, '+USECMNG=0,0,"x",5', 5, _Source(b"12345"))
    assert bytes(uart.written) == b'AT+USECMNG=0,0,"x",5\r'


def test_module_ends_transfer_early():
    # the module took only 20 of the 100 bytes as data (a size digit lost on
    # the wire) and refused them; the rest reaches it as a command line
    def responder(line):
        if line.startswith(b"AT+USECMNG=0,"):
            return PromptReply(b">", 20, lambda d: reply(b"+CME ERROR: 1621"))
        if line == b"AT":
            return OK
        return None  # the leftover data: not a command, no answer

    uart, at = _engine(responder, chunk=10)
    src = _Source(bytes(100))
    exc = _raises(errors.CmeError, at.command_with_data, '+USECMNG=0,0,"x",100', 100, src)
    assert exc.code == 1621
    # data went out before the refusal: the engine resynchronises, so the
    # leftover cannot swallow the next command
    assert at.resyncs == 1
    assert at.command("") == []


def test_source_ran_dry_waits_out_guard_and_never_pads():
    data = bytes(range(50))
    uart, at = _engine(_importer(50), guard_ms=3000, chunk=16)
    uart.guard_ms = 40  # the module's guard timer, short for the test
    src = _Source(data, stop_at=20)
    exc = _raises(errors.TransferError, at.command_with_data, '+USECMNG=0,0,"x",50', 50, src)
    assert "20 of 50" in str(exc)
    cmd = b'AT+USECMNG=0,0,"x",50\r'
    # exactly the 20 bytes the source gave, then (after the guard) the AT probe
    assert bytes(uart.written[:len(cmd) + 20]) == cmd + data[:20]
    assert bytes(uart.written[len(cmd) + 20:]).startswith(b"AT\r")
    assert uart.payloads == [] and not uart.in_data_phase()
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_source_exception_propagates_after_resync():
    uart, at = _engine(_importer(30), chunk=8)
    uart.guard_ms = 30

    def source(mv):
        raise KeyError("decoder failed")

    _raises(KeyError, at.command_with_data, '+USECMNG=0,0,"x",30', 30, source)
    assert at.resyncs == 1
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_source_returning_too_much_is_value_error():
    uart, at = _engine(_importer(30), chunk=8)
    uart.guard_ms = 30
    _raises(ValueError, at.command_with_data, '+USECMNG=0,0,"x",30', 30, lambda mv: len(mv) + 1)
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


class _SinkUart:
    """Takes every byte, answers nothing; small frames, so that it
    allocates nothing itself (see _allocated)."""

    def __init__(self):
        self.count = 0

    def write(self, buf, off, n):
        self.count += n
        return n

    def any(self):
        return 0

    def readinto(self, buf, n):
        return None


def _fill_source(mv):
    mv[0] = 0x30
    return len(mv)


def _allocated(fn, *args):
    """Heap bytes fn(*args) allocates (alloc.py: mem_total, or gc.mem_alloc
    deltas with collection disabled; never heap_lock alone)."""
    return allocated(fn, *args)


def test_streaming_loop_allocates_nothing_per_chunk():
    uart = _SinkUart()
    at = AtEngine(uart, Ring(64, uart), chunk=32)
    info = []
    def stream(size):  # one generator per transfer, driven as run() does
        return at.run(at._stream(size, _fill_source, info))

    stream(32 * 2)  # warm up
    few = _allocated(stream, 32 * 2)
    many = _allocated(stream, 32 * 40)
    assert many == few, "%d bytes more for 38 more chunks" % (many - few)
    assert uart.count == 32 * 44


class _AnswerUart:
    """Answers each command line with `answer`; small frames, so that it
    allocates nothing itself."""

    def __init__(self, answer):
        self.answer = answer
        self.i = len(answer)

    def write(self, buf, off, n):
        if buf[off + n - 1] == 13:
            self.i = 0
        return n

    def any(self):
        return len(self.answer) - self.i

    def readinto(self, buf, n):
        k = 0
        while k < n and self.i < len(self.answer):
            buf[k] = self.answer[self.i]
            self.i += 1
            k += 1
        return k


def test_response_reading_allocates_per_line_not_per_byte():
    # a line costs its str (and the list holding it), its bytes nothing more
    costs = []
    for width in (8, 400):
        uart = _AnswerUart(reply(b"+X: " + b"1" * width, b"OK"))
        at = AtEngine(uart, Ring(1024, uart), line_max=512)
        at.command("+X")
        costs.append(_allocated(at.command, "+X"))
    assert costs[1] - costs[0] <= 2 * 400, costs


# -- payload inside a line (command_payload) ---------------------------------

class _Sink:
    def __init__(self):
        self.data = bytearray()
        self.calls = 0

    def __call__(self, mv):
        assert isinstance(mv, memoryview)
        self.calls += 1
        self.data += mv


def _urdfile(name, data, tail=b"OK"):
    return b'\r\n+URDFILE: "' + name + b'",%d,"' % len(data) + data + b'"\r\n' + reply(tail)


NASTY = b'a"b,3,"\r\nOK\r\n+UUSECPRF: 0,13,0,2\r\nERROR\r\n"",>\n\r"'


def test_payload_with_quotes_crlf_ok_and_urc_lines():
    for echo in (False, True):
        uart, at = _engine(_table({b'AT+URDFILE="f.txt"': _urdfile(b"f.txt", NASTY)}), echo=echo)
        seen = []
        at.on_urc("+UUSECPRF:", seen.append)
        sink = _Sink()
        lines = at.command_payload('+URDFILE="f.txt"', "+URDFILE:", sink)
        assert lines == ['+URDFILE: "f.txt",%d,""' % len(NASTY)], lines
        assert bytes(sink.data) == NASTY
        assert seen == [] and at.urc_dropped == 0 and at.resyncs == 0
        assert at.command("") == []  # in sync: AT answers OK


def test_payload_split_across_reads():
    data = bytes(range(256)) * 3
    for piece in (1, 2, 5, 63, 64, 65, 300):
        uart, at = _engine(_table({b'AT+URDFILE="b"': _urdfile(b"b", data)}), piece=piece)
        sink = _Sink()
        assert at.command_payload('+URDFILE="b"', "+URDFILE:", sink) == [
            '+URDFILE: "b",%d,""' % len(data)]
        assert bytes(sink.data) == data, piece
        if piece < 64:
            assert sink.calls > 1


def test_payload_of_size_zero():
    uart, at = _engine(_table({b'AT+URDFILE="e"': _urdfile(b"e", b"")}))
    sink = _Sink()
    assert at.command_payload('+URDFILE="e"', "+URDFILE:", sink) == ['+URDFILE: "e",0,""']
    assert sink.calls == 0


def test_payload_is_found_only_after_closed_strings_and_the_prefix():
    # the name holds `,5,` right before its closing quote: not the payload
    uart, at = _engine(_table({b'AT+URDFILE="x,5,"': _urdfile(b"x,5,", b'ab"cd')}))
    sink = _Sink()
    assert at.command_payload('+URDFILE="x,5,"', "+URDFILE:", sink) == [
        '+URDFILE: "x,5,",5,""']
    assert bytes(sink.data) == b'ab"cd'
    # another line with the same shape but not the prefix is a URC, payload
    # and all (it holds no CR or LF here)
    answer = b'\r\n+OTHER: "n",2,"ab"\r\n' + _urdfile(b"n", b"xy")
    uart, at = _engine(_table({b'AT+URDFILE="n"': answer}))
    sink = _Sink()
    assert at.command_payload('+URDFILE="n"', "+URDFILE:", sink) == ['+URDFILE: "n",2,""']
    assert bytes(sink.data) == b"xy" and at.urc_dropped == 1


def test_payload_mode_ends_with_the_command():
    uart, at = _engine(_table({b'AT+URDFILE="f"': _urdfile(b"f", b"abc"),
                               b"AT+R": _urdfile(b"f", b"abc")}))
    at.command_payload('+URDFILE="f"', "+URDFILE:", _Sink())
    assert at.command("+R", info="+URDFILE:") == ['+URDFILE: "f",3,"abc"']


def test_stalled_payload_times_out_and_resyncs():
    cut = b'\r\n+URDFILE: "s",10,"abc'
    uart, at = _engine(_table({b'AT+URDFILE="s"': cut, b"AT+USECCHIP": CHIP}))
    sink = _Sink()
    exc = _raises(errors.AtTimeout, at.command_payload, '+URDFILE="s"', "+URDFILE:", sink)
    assert "7 bytes owed" in str(exc)
    assert bytes(sink.data) == b"abc"
    assert at.resyncs == 1 and uart.commands[-1] == b"AT"
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_payload_error_result_and_bad_prefix():
    uart, at = _engine(_table({b'AT+URDFILE="m"': reply(b"+CME ERROR: 2")}))
    assert _raises(errors.CmeError, at.command_payload, '+URDFILE="m"', "+URDFILE:",
                   _Sink()).code == 2
    _raises(ValueError, at.command_payload, '+URDFILE="m"', "", _Sink())
    assert at.command("") == []


# -- timeouts, resync, protocol errors ------------------------------------------

def test_timeout_then_resync():
    state = {"silent": True}

    def responder(line):
        if line == b"AT+SLOW":
            return None if state["silent"] else OK
        if line == b"AT+USECCHIP":
            return CHIP
        return None

    uart, at = _engine(responder, echo=True)
    _raises(errors.AtTimeout, at.command, "+SLOW")
    assert b"AT" in uart.commands[1:]  # probed
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_late_answer_is_not_taken_for_the_next_response():
    pending = []

    def responder(line):
        if line == b"AT+SLOW":
            pending.append(reply(b"+SLOW: late", b"OK"))
            return None
        if line == b"AT":
            late = pending.pop() if pending else b""
            return late + OK
        if line == b"AT+USECCHIP":
            return CHIP
        return None

    uart, at = _engine(responder)
    _raises(errors.AtTimeout, at.command, "+SLOW")
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_prompt_timeout_resyncs():
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP}))
    _raises(errors.AtTimeout, at.command_with_data, '+USECMNG=0,0,"x",5', 5, _Source(b"12345"))
    assert bytes(uart.written).startswith(b'AT+USECMNG=0,0,"x",5\rAT\r')
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_dead_module_times_out_and_keeps_trying():
    state = {"alive": False}

    def responder(line):
        if not state["alive"]:
            return b""  # says nothing, not even to AT
        return CHIP if line == b"AT+USECCHIP" else OK

    uart, at = _engine(responder)
    _raises(errors.AtTimeout, at.command, "+USECCHIP")
    _raises(errors.AtTimeout, at.command, "+USECCHIP")  # resync fails first
    state["alive"] = True
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_overlong_line_is_protocol_error_and_keeps_sync():
    long_line = b"+X: " + b"A" * 600
    uart, at = _engine(_table({b"AT+X": reply(long_line, b"OK"), b"AT+USECCHIP": CHIP}))
    exc = _raises(errors.ProtocolError, at.command, "+X")
    assert "longer" in str(exc)
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    assert at.resyncs == 0


def test_overlong_echo_is_tolerated():
    cmd = "+Y=" + "1" * 700
    uart, at = _engine(_table({("AT" + cmd).encode(): OK}), echo=True)
    assert at.command(cmd) == []


def test_overlong_urc_while_idle():
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP}))
    uart.inject(reply(b"+UUSECPRF: 0,13,12,\"" + b"Q" * 900 + b"\""))
    _raises(errors.ProtocolError, at.poll)
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_non_utf8_line_is_protocol_error():
    uart, at = _engine(_table({b"AT+X": reply(b"+X: \xff\xfe", b"OK")}))
    _raises(errors.ProtocolError, at.command, "+X")


def test_ring_overflow_during_command():
    big = reply(*[b'"CA","name%d","common name %d","2036/07/17"' % (i, i) for i in range(10)]) + OK
    # the answer arrives in one burst (piece=None), more than the ring holds
    uart, at = _engine(_table({b"AT+USECMNG=3": big, b"AT+USECCHIP": CHIP}), ring_size=64,
                       piece=None)
    _raises(errors.RingOverflow, at.command, "+USECMNG=3")
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_ring_overflow_while_idle_is_reported_before_sending():
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP}), ring_size=64)
    uart.inject(reply(*[URC1] * 10))
    exc = _raises(errors.RingOverflow, at.command, "+USECCHIP")
    assert "not sent" in str(exc) and uart.commands == []
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_ring_overflow_reported_by_poll():
    uart, at = _engine(_table({}), ring_size=32)
    uart.inject(reply(*[URC1] * 4))
    _raises(errors.RingOverflow, at.poll)
    assert at.poll() == 0


def test_startup_commands_run_first_and_after_resync():
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP}), echo=True)
    at.set_startup(("E0", "+CMEE=2"))
    at.command("+USECCHIP")
    assert uart.commands == [b"ATE0", b"AT+CMEE=2", b"AT+USECCHIP"]
    _raises(errors.AtTimeout, at.command, "+NOPE")
    at.command("+USECCHIP")
    assert uart.commands[-3:] == [b"ATE0", b"AT+CMEE=2", b"AT+USECCHIP"]


def test_stalled_write_leaves_the_engine_usable():
    # every write refused (CTS held): AtTimeout, not a NameError, and the
    # engine is not left busy
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP, b"AT": OK}), writes=(0,))
    _raises(errors.AtTimeout, at.command, "+USECCHIP")
    uart.writes = None  # flow control released
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_interrupt_inside_a_transfer_waits_out_the_guard_before_probing():
    data = bytes(range(50))
    uart, at = _engine(_importer(50), guard_ms=3000, chunk=16)
    uart.guard_ms = 40  # the module's guard timer, short for the test
    sent = [0]

    def source(mv):
        if sent[0] >= 48:
            raise KeyboardInterrupt
        n = min(len(mv), 48 - sent[0])
        for i in range(n):
            mv[i] = data[sent[0] + i]
        sent[0] += n
        return n

    _raises(KeyboardInterrupt, at.command_with_data, '+USECMNG=0,0,"x",50', 50, source)
    cmd = b'AT+USECMNG=0,0,"x",50\r'
    assert bytes(uart.written) == cmd + data[:48]  # nothing sent on the interrupt
    # 2 bytes owed: a probe sent now would complete the transfer with "AT".
    # The next command first lets the module's guard timer end its data
    # phase: no probe byte becomes data, nothing is stored
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    assert uart.payloads == []
    assert bytes(uart.written[len(cmd) + 48:]).startswith(b"AT\r")


# -- the wire rules of at.py's docstring, one test each ----------------------------
# Each fails against the change to at.py that breaks its rule (tools/mutants.py
# lists those changes and runs them). Times come from the fake module's clock.

import time


def _later_table(schedule):
    """A responder that answers each command with (ms, bytes) pieces sent
    that long after the command; the FakeUart is bound once it exists."""
    box = []

    def responder(line):
        for ms, data in schedule.get(line, ()):
            box[0].later(ms, data)
        return None
    return responder, box.append


def test_lines_end_at_cr_or_lf_alone():
    for eol in (b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r\n\n"):
        answer = eol + b"+X: 1" + eol + eol + b"+X: 2" + eol + b"OK" + eol
        uart, at = _engine(_table({b"AT+X": answer}))
        assert at.command("+X") == ["+X: 1", "+X: 2"], eol
        assert at.resyncs == 0


def test_each_line_received_restarts_the_response_timeout():
    # five lines 60 ms apart: every wait is shorter than timeout_ms, the whole is not
    lines = [(60 * (i + 1), reply(b"+X: %d" % i)) for i in range(4)] + [(300, OK)]
    responder, bind = _later_table({b"AT+X": lines})
    uart, at = _engine(responder, timeout_ms=100)
    bind(uart)
    assert at.command("+X") == ["+X: 0", "+X: 1", "+X: 2", "+X: 3"]
    assert at.resyncs == 0
    # and a wait without progress longer than timeout_ms still times out
    responder, bind = _later_table({b"AT+X": [(60, reply(b"+X: 0")), (220, OK)]})
    uart, at = _engine(responder, timeout_ms=100)
    bind(uart)
    _raises(errors.AtTimeout, at.command, "+X")


def test_payload_bytes_restart_the_response_timeout():
    head = b'\r\n+URDFILE: "p",9,"'
    pieces = [(0, head), (60, b"abc"), (120, b"def"), (180, b"ghi"), (240, b'"\r\n' + OK)]
    responder, bind = _later_table({b'AT+URDFILE="p"': pieces})
    uart, at = _engine(responder, timeout_ms=100)
    bind(uart)
    sink = _Sink()
    assert at.command_payload('+URDFILE="p"', "+URDFILE:", sink) == ['+URDFILE: "p",9,""']
    assert bytes(sink.data) == b"abcdefghi" and at.resyncs == 0


def test_a_write_stall_restarts_its_timeout_on_progress():
    # flow control holds each byte 40 ms: no stall reaches timeout_ms, the
    # whole command takes far longer
    cmd = b"AT+USECCHIP\r"
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP}), timeout_ms=100, stall_ms=40, writes=(1,))
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    assert bytes(uart.written) == cmd and len(uart.write_log) == len(cmd)


def test_resync_sends_nothing_until_the_guard_timer_ended_the_data_phase():
    data = bytes(range(50))
    cmd = b'AT+USECMNG=0,0,"x",50\r'
    for stop in (20, 0):  # the source ran dry partway, or at once after the prompt
        uart, at = _engine(_importer(50), guard_ms=3000, chunk=16)
        uart.guard_ms = 100  # the module's guard timer, short for the test
        _raises(errors.TransferError, at.command_with_data, '+USECMNG=0,0,"x",50', 50,
                _Source(data, stop_at=stop))
        # the data phase ended with exactly the bytes the source gave: no
        # probe byte became data
        assert uart.aborted == [data[:stop]], (stop, uart.aborted)
        last_sent = uart.written_at(len(cmd) + stop - 1)
        first_probe = uart.written_at(len(cmd) + stop)
        assert bytes(uart.written[len(cmd) + stop:]).startswith(b"AT\r")
        assert time.ticks_diff(first_probe, last_sent) >= uart.guard_ms, stop
        assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']


def test_resync_drains_the_probes_own_ok_after_a_late_answer():
    # AT+SLOW times out; its late answer arrives with the resync probe, and
    # the probe's own OK 80 ms later: that OK must not answer AT+USECCHIP
    late = [False]
    box = []

    def responder(line):
        if line == b"AT+SLOW":
            late[0] = True
            return None
        if line == b"AT" and late[0]:
            late[0] = False
            box[0].inject(reply(b"+SLOW: late", b"OK"))
            box[0].later(80, OK)  # what the module sends next waits behind it
            return b""
        return CHIP if line == b"AT+USECCHIP" else None

    uart = FakeUart(responder)
    box.append(uart)
    ring = Ring(1024, uart)
    uart.irq(handler=ring.irq_handler, trigger=uart.IRQ_RXIDLE, hard=True)
    at = AtEngine(uart, ring, timeout_ms=300, probe_ms=150, quiet_ms=200)
    _raises(errors.AtTimeout, at.command, "+SLOW")
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    assert uart.commands == [b"AT+SLOW", b"AT", b"AT+USECCHIP"]


def test_resync_probes_again_when_a_probe_goes_unanswered():
    probes = [0]

    def responder(line):
        if line == b"AT":
            probes[0] += 1
            return b"" if probes[0] == 1 else OK  # the first probe is lost
        return CHIP if line == b"AT+USECCHIP" else None

    uart, at = _engine(responder)
    _raises(errors.AtTimeout, at.command, "+SLOW")
    assert at.resyncs == 1 and probes[0] == 2   # one resync, two probes
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    assert at.resyncs == 1


def test_urcs_reach_their_handlers_at_once_in_arrival_order():
    log = []
    answer = reply(b"+UUA: 1", b"+UUB: 1", b"+X: 1", b"+UUA: 2", b"+UUC: 1", b"+UUB: 2", b"OK")
    uart, at = _engine(_table({b"AT+X": answer}), piece=3)
    at.on_urc("+UUA:", log.append)
    at.on_urc("+UUB:", log.append)
    uart.inject(reply(b"+UUB: 0"))
    assert at.command("+X") == ["+X: 1"]
    assert log == ["+UUB: 0", "+UUA: 1", "+UUB: 1", "+UUA: 2", "+UUB: 2"], log
    assert at.urc_dropped == 1 and at.urc_errors == 0


def test_urc_handlers_run_on_the_callers_thread_not_in_the_irq():
    where = []
    uart, at = _engine(_table({b"AT+X": reply(URC1, b"OK")}), piece=2)
    at.on_urc("+UUSECPRF:", lambda line: where.append(uart._in_irq))
    uart.inject(reply(URC2))
    at.poll()
    at.command("+X")
    assert where == [False, False] and uart.irq_fired > 0 and uart.irq_errors == []


def test_a_payload_is_looked_for_only_in_the_prefixs_line():
    # a line of the same shape whose prefix differs in one letter keeps its bytes
    answer = b'\r\n+URDFILX: "n",2,"ab"\r\n' + _urdfile(b"n", b"xy")
    uart, at = _engine(_table({b'AT+URDFILE="n"': answer}))
    sink = _Sink()
    lines = at.command_payload('+URDFILE="n"', "+URDFILE:", sink)
    assert '+URDFILE: "n",2,""' in lines, lines
    assert bytes(sink.data) == b"xy", bytes(sink.data)


# -- the response rule: only lines with the command's prefix answer it --------

# 3GPP URCs a real application has enabled; the engine has no handler for any
FOREIGN = (b"+CEREG: 5", b'+CEREG: 1,"00C3","01A2D001",7', b"+CSCON: 1", b"+CREG: 0",
           b"+CGREG: 2", b"+CIEV: 2,3", b"RING", b'+CMTI: "SM",3', b"+CGEV: ME PDN ACT 1")

# one answer per command family: (command, its lines before OK, info prefix)
FAMILIES = (
    ("+USECCHIP", [b'+USECCHIP: "12345678"'], None),
    ('+USECMNG=4,0,"x"', [b'+USECMNG: 4,0,"x","00112233445566778899aabbccddeeff"'], None),
    ("+USECMNG=3", [b'"CA","x","X Root","2036/07/17"', b'"PK","k"'], ('"',)),
    ("+USECPRF=2", [b"+USECPRF: 2,0,1", b'+USECPRF: 2,3,"ca"', b"+USECPRF: 2,4,\"h\""], None),
    ("+USECPRF=2,13,2", [b'+USECPRF: 2,13,2,8,"QUJDREVGR0g="'], None),
    ("+ULSTFILE", [b'+ULSTFILE: "a.pem","b.der"'], None),
    ("+USECMNG=?", [b"+USECMNG: (0-4),(0-3)"], None),
)


def test_foreign_urcs_between_every_pair_of_lines_of_every_family():
    for cmd, body, info in FAMILIES:
        lines = body + [b"OK"]
        want = [x.decode() for x in body]
        for pos in range(len(lines) + 1):
            for k, urc in enumerate(FOREIGN):
                wire = lines[:pos] + [urc] + lines[pos:]
                for piece in (None, 3):
                    uart, at = _engine(_table({b"AT" + cmd.encode(): reply(*wire)}),
                                       echo=bool(k & 1), piece=piece)
                    assert at.command(cmd, info=info) == want, (cmd, pos, urc)
                    # after OK it is left for poll(), where it is a stray line
                    assert at.urc_dropped + at.poll() == 1, (cmd, pos, urc)


def test_foreign_urc_burst_inside_a_response_and_an_error():
    wire = reply(b"+CEREG: 5", b"+CSCON: 1", b'+USECCHIP: "12345678"', b"RING",
                 b"+CSCON: 0", b"OK")
    uart, at = _engine(_table({b"AT+USECCHIP": wire}), piece=2)
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"'] and at.urc_dropped == 4
    uart, at = _engine(_table({b"AT+USECCHIP": reply(b"+CEREG: 5", b"+CME ERROR: 4")}))
    exc = _raises(errors.CmeError, at.command, "+USECCHIP")
    assert exc.code == 4 and at.urc_dropped == 1


def test_registered_handler_gets_foreign_urcs_in_order():
    wire = reply(b"+CEREG: 5", b'+USECCHIP: "1"', b"+CEREG: 1", b"OK")
    uart, at = _engine(_table({b"AT+USECCHIP": wire}))
    seen = []
    at.on_urc("+CEREG:", seen.append)
    assert at.command("+USECCHIP") == ['+USECCHIP: "1"']
    assert seen == ["+CEREG: 5", "+CEREG: 1"] and at.urc_dropped == 0


def test_foreign_urcs_during_a_transfer_and_before_the_prompt():
    data = bytes(range(48))
    for offset in range(0, len(data) + 1, 5):
        def responder(line):
            if line.startswith(b"AT+USECMNG=0,"):
                return PromptReply(reply(b"+CSCON: 1") + b">", len(data),
                                   lambda d: reply(b"+CEREG: 5", b'+USECMNG: 0,0,"x","md5"', b"OK"))
            return None
        uart, at = _engine(responder, piece=7)
        uart.inject_at(len('AT+USECMNG=0,0,"x",48\r') + offset, reply(b"RING"))
        got = at.command_with_data('+USECMNG=0,0,"x",48', len(data), _Source(data))
        assert got == ['+USECMNG: 0,0,"x","md5"'] and uart.payloads == [data], offset
        assert at.urc_dropped + at.poll() == 3, offset


def test_prompt_forms_of_every_series():
    # bare '>' after the echoed CR; CRLF then '>' (SARA-R422); "> " (LENA-R8)
    for prompt in (b">", b"\r\n>", b"> ", b"\r\n> "):
        for echo in (False, True):
            for piece in (None, 1):
                uart, at = _engine(_importer(6, prefix=prompt), echo=echo, piece=piece)
                got = at.command_with_data('+USECMNG=0,0,"x",6', 6, _Source(b"abcdef"))
                assert got == ['+USECMNG: 0,0,"x","6"'], (prompt, echo, piece)
                assert uart.payloads == [b"abcdef"]
                assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
                assert at.urc_dropped == 0 and at.stray == 0, (prompt, echo, piece)


def test_response_prefix_comes_from_the_command_name():
    from ubxsec.at import _prefixes
    assert _prefixes("+USECMNG=0,0,\"a=b\",5", None) == ("+USECMNG:",)
    assert _prefixes("+USECPRF?", None) == ("+USECPRF:",)
    assert _prefixes("+USECMNG=?", None) == ("+USECMNG:",)
    assert _prefixes("+USECCHIP", None) == ("+USECCHIP:",)
    assert _prefixes("E0", None) == () and _prefixes("", None) == ()
    assert _prefixes("+X", ('"', "CA")) == ('"', "CA") and _prefixes("+X", "+Y:") == ("+Y:",)


def test_unhandled_uu_lines_while_idle_are_urcs_not_strays():
    uart, at = _engine(_table({b"AT+USECCHIP": CHIP}))
    uart.inject(reply(b"+UUHTTPCR: 0,1,1", b"+UUSECPRF: 4,13,0,2"))
    assert at.poll() == 0  # no stray line: both are URCs
    assert at.urc_dropped == 2 and at.stray == 0
    uart.inject(reply(b"+UUHTTPCR: 0,1,1"))
    assert at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    assert at.urc_dropped == 3 and at.stray == 0
