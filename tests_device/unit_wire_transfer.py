"""Wire rules of the '>' data phase that no other test pins (issue 19 item
17): a final result partway through a transfer, the guard wait after a cut
transfer, a '>' nobody awaits, a size of 0. Bounds are read on the fake
module's clock (wirekit.since)."""

import time

from ubxsec import errors
from fakeuart import PromptReply, reply, OK, ERROR
from checks import raises
from wirekit import CHIP, CHIP_LINES, GUARD_MS, Source, engine, since, table

CMD = '+USECMNG=0,0,"x",60'
WIRE_CMD = b"AT" + CMD.encode() + b"\r"
DATA = bytes(65 + i % 26 for i in range(60))  # no CR or LF: the leftover is one line


def _importer(nbytes, then, size=60):
    """The module takes nbytes of a `size`-byte import as data, then sends
    then (its data phase ended early: a size digit lost on the wire)."""
    def responder(line):
        if line.startswith(b"AT+USECMNG=0,"):
            return PromptReply(b">", nbytes, lambda data: then)
        if line == b"AT+USECCHIP":
            return CHIP
        return None  # the leftover data, as a command line: no answer
    return responder


# -- a final result partway through a transfer -----------------------------------

def test_ok_partway_through_a_transfer_is_a_protocol_error_and_the_data_stops():
    for echo in (False, True):
        uart, at = engine(_importer(20, OK), echo=echo, chunk=10)
        raises(errors.ProtocolError, at.command_with_data, CMD, 60, Source(DATA))
        # not one byte after the module's OK (they would be a command line)
        assert bytes(uart.written[:len(WIRE_CMD) + 21]) == WIRE_CMD + DATA[:20] + \
            (b"A" if len(uart.written) > len(WIRE_CMD) + 20 else b""), bytes(uart.written)
        assert uart.payloads == [DATA[:20]]
        assert at.command("+USECCHIP") == CHIP_LINES
        assert uart.commands[-1] == b"AT+USECCHIP", uart.commands


def test_ok_partway_through_a_transfer_resyncs_once():
    # an OK partway through a transfer is a ProtocolError after data went
    # out: the module may have ended its data phase early, so the engine
    # resyncs (probes at once). When the OK arrives while the next chunk is
    # being sent, those bytes wait in the module's command line: without the
    # resync the next command is read as their tail and goes unanswered.
    for delay in (3, 0):
        def responder(line, delay=delay):
            if line.startswith(b"AT+USECMNG=0,"):
                return PromptReply(b">", 20, lambda data: uart.later(delay, OK))
            return CHIP if line == b"AT+USECCHIP" else None

        uart, at = engine(responder, chunk=10)
        src = Source(DATA)

        def slow(mv):  # a source that takes a few ms per chunk (a file, a decoder)
            time.sleep_ms(2)
            return src(mv)

        raises(errors.ProtocolError, at.command_with_data, CMD, 60, slow)
        got = None
        try:
            got = at.command("+USECCHIP")
        except errors.UbxError as exc:
            got = exc
        assert got == CHIP_LINES and uart.commands[-1] == b"AT+USECCHIP", (delay, got, uart.commands)
        assert at.resyncs == 1, (delay, at.resyncs)


def test_error_partway_through_a_transfer_is_the_modules_refusal_then_one_resync():
    for then, code in ((ERROR, None), (reply(b"+CME ERROR: 1621"), 1621)):
        for echo in (False, True):
            uart, at = engine(_importer(20, then), echo=echo, chunk=10)
            exc = raises(errors.AtError, at.command_with_data, CMD, 60, Source(DATA))
            assert not isinstance(exc, errors.ProtocolError)
            assert getattr(exc, "code", None) == code, (code, exc)
            assert at.resyncs == 1
            assert at.command("+USECCHIP") == CHIP_LINES
            assert at.resyncs == 1 and uart.commands[-1] == b"AT+USECCHIP"


def test_a_final_result_partway_stops_the_data_and_probes_at_once():
    # the module's data phase is over: the rest of the data would be read as
    # command lines, and there is no guard timer left to wait for
    for then in (OK, ERROR, reply(b"+CME ERROR: 1621")):
        uart, at = engine(_importer(20, then), chunk=10)
        raises(errors.UbxError, at.command_with_data, CMD, 60, Source(DATA))
        n = len(WIRE_CMD)
        assert bytes(uart.written[n:n + 23]) == DATA[:20] + b"AT\r", bytes(uart.written)
        assert since(uart, n + 20, n + 19) < GUARD_MS // 3
        assert uart.payloads == [DATA[:20]] and uart.aborted == []


# -- the guard wait after a cut transfer ---------------------------------------------

def _cut(stop, guard, on_dry=None):
    """An import of 60 bytes whose source runs dry after `stop`; the module's
    guard timer is `guard` ms."""
    uart, at = engine(_importer(60, reply(b'+USECMNG: 0,0,"x","md5"', b"OK")), chunk=16)
    uart.guard_ms = guard
    src = Source(DATA, stop_at=stop, on_dry=(lambda: on_dry(uart)) if on_dry else None)
    raises(errors.TransferError, at.command_with_data, CMD, 60, src)
    return uart, at


def test_the_guard_wait_ends_as_soon_as_the_module_gives_its_final_result():
    # engine's bound GUARD_MS (3 s); the module ends its data phase after 60 ms
    for stop in (20, 0):
        uart, at = _cut(stop, 60)
        n = len(WIRE_CMD) + stop
        assert bytes(uart.written[n:n + 3]) == b"AT\r"
        waited = since(uart, n, len(WIRE_CMD) - 1 + stop)
        assert 60 <= waited < GUARD_MS // 3, (stop, waited)
        assert uart.aborted == [DATA[:stop]] and at.resyncs == 1
        assert at.command("+USECCHIP") == CHIP_LINES


def test_the_guard_wait_after_an_interrupt_ends_at_the_final_result_too():
    uart, at = engine(_importer(60, OK), chunk=16)
    uart.guard_ms = 60
    sent = [0]

    def source(mv):
        if sent[0] >= 32:
            raise KeyboardInterrupt
        for i in range(len(mv)):
            mv[i] = DATA[sent[0] + i]
        sent[0] += len(mv)
        return len(mv)

    raises(KeyboardInterrupt, at.command_with_data, CMD, 60, source)
    n = len(WIRE_CMD) + 32
    assert bytes(uart.written) == WIRE_CMD + DATA[:32]  # nothing sent on the interrupt
    assert at.command("+USECCHIP") == CHIP_LINES
    waited = since(uart, n, n - 1)
    assert 60 <= waited < GUARD_MS // 3, waited
    assert uart.aborted == [DATA[:32]] and uart.payloads == []


def test_a_urc_during_the_guard_wait_does_not_end_it():
    # only the module's final result ends its data phase: a probe sent on a
    # URC would become data
    def urcs(uart):
        uart.later(10, reply(b"+UUSECPRF: 0,13,0,2"))
        uart.later(20, reply(b"+CEREG: 5"))

    for stop in (20, 0):
        uart, at = _cut(stop, 100, urcs)
        assert uart.aborted == [DATA[:stop]], (stop, uart.aborted)
        n = len(WIRE_CMD) + stop
        assert since(uart, n, n - 1) >= 100
        assert at.command("+USECCHIP") == CHIP_LINES


# -- a '>' nobody awaits ---------------------------------------------------------------

def test_gt_at_the_start_of_a_line_while_no_prompt_is_awaited_is_a_line():
    for answer in (reply(b">", b"+X: 1", b"OK"), b">\r\n+X: 1\r\nOK\r\n",
                   reply(b"> ", b"+X: 1", b"OK"), reply(b">+X: 2", b"+X: 1", b"OK")):
        for echo in (False, True):
            uart, at = engine(table({b"AT+X": answer, b"AT+USECCHIP": CHIP}), echo=echo)
            assert at.command("+X") == ["+X: 1"], (answer, echo)
            assert at.urc_dropped == 1 and at.resyncs == 0
            assert at.command("+USECCHIP") == CHIP_LINES


def test_gt_while_idle_is_a_stray_line_and_the_next_command_is_in_sync():
    for stray in (b"\r\n>\r\n", b"\r\n> \r\n", b">\r\n"):
        for echo in (False, True):
            uart, at = engine(table({b"AT+USECCHIP": CHIP}), echo=echo)
            uart.inject(stray)
            assert at.poll() == 1 and at.stray == 1, (stray, echo)
            assert at.command("+USECCHIP") == CHIP_LINES
            assert uart.commands == [b"AT+USECCHIP"] and at.resyncs == 0


CMD5 = '+USECMNG=0,0,"x",5'


def test_late_prompt_after_a_prompt_timeout_keeps_the_engine_in_sync():
    # the module answers the import's '>' only after the prompt timeout. The
    # engine probes at once (answered OK: the module was not in its data
    # phase yet), so the late '>' arrives while idle: the next command (or a
    # poll() first) sees it and sends nothing until the module's guard timer
    # ended that data phase, then goes out in sync
    def responder(line):
        if line.startswith(b"AT+USECMNG=0,"):
            uart.later_prompt(350, PromptReply(b"\r\n>", 5, lambda d: OK))
            return b""
        return CHIP if line == b"AT+USECCHIP" else None

    for poll in (False, True):
        uart, at = engine(responder)
        uart.guard_ms = 200
        raises(errors.AtTimeout, at.command_with_data, CMD5, 5, Source(b"abcde"))
        time.sleep_ms(100)  # the '>' arrives meanwhile; the module's guard runs on
        if poll:
            assert at.poll() == 0 and at.stray == 0  # the '>' is no stray line
        assert at.command("+USECCHIP") == CHIP_LINES, poll
        # nothing became the import's data: the guard timer ended it empty
        assert uart.payloads == [] and uart.aborted == [b""], (poll, uart.payloads, uart.aborted)
        assert uart.commands[-1] == b"AT+USECCHIP"


def test_a_late_prompt_seen_while_resyncing_is_waited_out_before_the_next_probe():
    # the late '>' arrives during the resync after the prompt timeout: right
    # after the probe's OK (while the engine drains the line), or instead of
    # the probe's answer. Nothing more is sent until the module's guard timer
    # ended that data phase; then a probe, and the next command in sync.
    for answered in (True, False):
        sent = []

        def responder(line, answered=answered):
            if line.startswith(b"AT+USECMNG=0,"):
                return b""  # slow: no prompt within the timeout
            if line == b"AT" and not sent:
                sent.append(line)
                uart.later_prompt(5, PromptReply(b"\r\n>", 5, lambda d: OK))
                return OK if answered else b""
            return CHIP if line == b"AT+USECCHIP" else None

        uart, at = engine(responder)
        uart.guard_ms = 200
        raises(errors.AtTimeout, at.command_with_data, CMD5, 5, Source(b"abcde"))
        assert uart.aborted == [b""] and uart.payloads == [], (answered, uart.aborted, uart.payloads)
        assert at.command("+USECCHIP") == CHIP_LINES, answered
        assert at.resyncs == 1 and uart.commands[-1] == b"AT+USECCHIP"


def test_the_late_prompt_rule_ends_when_the_next_command_is_written():
    # after a prompt timeout, a '>' line in the next command's answer is a
    # line again (no data phase to wait out, no resync)
    uart, at = engine(table({b"AT+X": reply(b">", b"+X: 1", b"OK"), b"AT+USECCHIP": CHIP}))
    raises(errors.AtTimeout, at.command_with_data, CMD5, 5, Source(b"abcde"))
    n = at.resyncs
    assert at.command("+X") == ["+X: 1"]
    assert at.command("+USECCHIP") == CHIP_LINES and at.resyncs == n


# -- a size of 0 -----------------------------------------------------------------------

def test_a_transfer_of_no_bytes_is_refused_before_anything_is_written():
    uart, at = engine(table({b"AT+USECCHIP": CHIP}))
    src = Source(b"x")
    for size in (0, -1, None, 5.0, "5"):
        raises(ValueError, at.command_with_data, '+USECMNG=0,0,"x",0', size, src)
    assert len(uart.written) == 0 and src.calls == 0
    assert at.command("+USECCHIP") == CHIP_LINES and at.resyncs == 0
