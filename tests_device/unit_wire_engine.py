"""Rules of at.py's docstring that a plausible slip could break with every
other test still passing (the self-audit of issue 19 item 17), one test
each, through the engine's public commands on the fake UART."""

from ubxsec import errors
from fakeuart import reply, OK, ERROR
from checks import raises
from wirekit import CHIP, CHIP_LINES, GUARD_MS, Source, engine, since, table


def test_a_final_error_leaves_the_engine_in_sync_without_a_probe():
    for answer in (ERROR, reply(b"+X: 1", b"ERROR"), reply(b"+CME ERROR: 4")):
        uart, at = engine(table({b"AT+X": answer, b"AT+USECCHIP": CHIP}))
        raises(errors.AtError, at.command, "+X")
        assert at.command("+USECCHIP") == CHIP_LINES
        assert uart.commands == [b"AT+X", b"AT+USECCHIP"] and at.resyncs == 0, uart.commands


def test_an_echo_in_any_letter_case_is_neither_an_answer_nor_a_urc():
    for echo in (b"AT+X", b"at+x", b"At+X", b"aT+x"):
        uart, at = engine(table({b"AT+X": echo + b"\r" + reply(b"+X: 1", b"OK")}))
        assert at.command("+X") == ["+X: 1"]
        assert at.urc_dropped == 0 and at.stray == 0, echo


def test_a_handler_given_again_for_a_prefix_replaces_the_first():
    uart, at = engine(table({b"AT+X": reply(b"+UUA: 1", b"OK")}))
    first, second = [], []
    at.on_urc("+UUA:", first.append)
    at.on_urc("+UUA:", second.append)
    assert at.command("+X") == []
    assert first == [] and second == ["+UUA: 1"]


def test_poll_from_a_handler_takes_nothing_from_the_command():
    uart, at = engine(table({b"AT+X": reply(b"+UUA: 1", b"+X: 1", b"OK"),
                             b"AT+USECCHIP": CHIP}))
    polled = []
    at.on_urc("+UUA:", lambda line: polled.append(at.poll()))
    assert at.command("+X") == ["+X: 1"]
    assert polled == [0] and at.urc_errors == 0 and at.stray == 0
    assert at.command("+USECCHIP") == CHIP_LINES


def test_a_bad_line_belongs_to_its_command_even_when_it_ends_in_an_error():
    for bad in (b"+X: " + b"A" * 600, b"+X: \xff\xfe"):
        uart, at = engine(table({b"AT+X": reply(bad, b"+CME ERROR: 4"), b"AT+USECCHIP": CHIP}))
        assert raises(errors.CmeError, at.command, "+X").code == 4
        assert at.command("+USECCHIP") == CHIP_LINES and at.resyncs == 0


def test_a_bad_late_answer_drained_by_a_resync_does_not_fail_the_next_command():
    # the probe's OK follows an over-long late answer; the resync runs after
    # the timeout, or (the module silent then) first thing in the next command
    for silent_probes in (0, 3):
        state = {"silent": silent_probes, "late": True}

        def responder(line, state=state):
            if line == b"AT+SLOW":
                return b""
            if line == b"AT":
                if state["silent"]:
                    state["silent"] -= 1
                    return b""
                if state["late"]:
                    state["late"] = False
                    return reply(b"+SLOW: " + b"B" * 600) + OK
                return OK
            return CHIP if line == b"AT+USECCHIP" else None

        uart, at = engine(responder)
        raises(errors.AtTimeout, at.command, "+SLOW")
        assert at.command("+USECCHIP") == CHIP_LINES, silent_probes
        assert not state["late"] and state["silent"] == 0


def test_an_interrupt_outside_a_transfer_probes_at_once():
    # the module answers only with a URC (no final result); the interrupt
    # leaves no data phase behind, so there is no guard timer to wait for
    uart, at = engine(table({b"AT+X": reply(b"+UUA: 1"), b"AT+USECCHIP": CHIP}))

    def interrupt(line):
        raise KeyboardInterrupt

    at.on_urc("+UUA:", interrupt)
    raises(KeyboardInterrupt, at.command, "+X")
    at.on_urc("+UUA:", None)
    assert at.command("+USECCHIP") == CHIP_LINES
    probe = uart.written.find(b"AT\r", len(b"AT+X\r"))
    assert probe > 0 and since(uart, probe, probe - 1) < GUARD_MS // 3


def test_a_command_with_del_or_a_non_ascii_character_is_refused_unsent():
    uart, at = engine(table({}))
    for cmd in ("+X\x7f", "+X=\"\x80\"", "+X\x1f"):
        raises(ValueError, at.command, cmd)
        raises(ValueError, at.command_with_data, cmd, 3, Source(b"abc"))
    assert len(uart.written) == 0


def test_a_timeout_names_what_was_awaited_and_never_the_parameters():
    uart, at = engine(table({}))
    exc = raises(errors.AtTimeout, at.command_with_data, '+USECMNG=0,2,"k",3,"s3cret"', 3,
                 Source(b"abc"), secret=True)
    assert "'>' prompt" in str(exc) and "AT+USECMNG" in str(exc), str(exc)
    assert "s3cret" not in str(exc) and '"k"' not in str(exc), str(exc)
    exc = raises(errors.AtTimeout, at.command, '+USECPRF=2,9,"p4ss"', secret=True)
    assert "final result" in str(exc) and "AT+USECPRF" in str(exc), str(exc)
    assert "p4ss" not in str(exc), str(exc)
    exc = raises(errors.AtTimeout, at.command, "+USECPRF?")
    assert "AT+USECPRF" in str(exc) and "?" not in str(exc), str(exc)
