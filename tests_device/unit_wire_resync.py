"""Wire rules of the resync that no other test pins (issue 19 item 17): only
OK ends it, it keeps trying on the next command, and it ends within its
bound on a line that never goes quiet. Bounds are read on the fake module's
clock (wirekit.since)."""

from ubxsec import errors
from fakeuart import reply, OK, ERROR
from checks import raises
from wirekit import CHIP, CHIP_LINES, PROBE_MS, TIMEOUT_MS, engine, since


def _probed(answers):
    """A module that never answers AT+SLOW and answers the probes (AT) with
    answers[i] in turn (the last one from then on)."""
    probes = [0]

    def responder(line):
        if line == b"AT":
            probes[0] += 1
            return answers[min(probes[0], len(answers)) - 1]
        if line == b"AT+SLOW":
            return b""
        return CHIP if line == b"AT+USECCHIP" else None
    return responder, probes


def test_a_probe_answered_with_error_is_probed_again():
    for error in (ERROR, reply(b"+CME ERROR: 3"), reply(b"+CME ERROR: operation not allowed")):
        responder, probes = _probed([error, OK])
        uart, at = engine(responder)
        raises(errors.AtTimeout, at.command, "+SLOW")
        assert probes[0] == 2 and at.resyncs == 1, (error, probes[0])
        assert at.command("+USECCHIP") == CHIP_LINES
        assert uart.commands == [b"AT+SLOW", b"AT", b"AT", b"AT+USECCHIP"], uart.commands


def test_only_ok_ends_a_resync_and_the_next_command_tries_again_first():
    answers = [ERROR]
    responder, probes = _probed(answers)
    uart, at = engine(responder)
    raises(errors.AtTimeout, at.command, "+SLOW")
    tried = probes[0]
    assert tried >= 2, tried
    # still out of sync: the next command probes first and is never sent
    exc = raises(errors.AtTimeout, at.command, "+USECCHIP")
    assert "not answering" in str(exc), exc
    assert probes[0] > tried and b"AT+USECCHIP" not in uart.commands, uart.commands
    answers[0] = OK  # the module recovers
    assert at.command("+USECCHIP") == CHIP_LINES
    assert uart.commands[-2:] == [b"AT", b"AT+USECCHIP"], uart.commands


def test_a_resync_ends_within_its_bound_on_a_line_that_never_goes_quiet():
    # from the first probe on, the module sends a URC (not +UU: a line the
    # engine reads as such) every 4 ms for 3 s; the resync must not wait
    # for quiet
    for urc in (b"+CEREG: 5", b"RING"):
        box = []

        def responder(line):
            if line == b"AT+SLOW":
                return b""
            if line == b"AT":
                if not box[0].noise_sent:
                    box[0].noise(urc, 4, 3000)
                return OK
            return CHIP if line == b"AT+USECCHIP" else None

        uart, at = engine(responder)
        box.append(uart)
        raises(errors.AtTimeout, at.command, "+SLOW")
        assert at.command("+USECCHIP") == CHIP_LINES
        probe = uart.written.find(b"AT\r", len(b"AT+SLOW\r"))
        nxt = uart.written.find(b"AT+USECCHIP\r")
        assert probe > 0 and nxt > probe
        # the probe's OK, then at most quiet_ms + probe_ms of draining (with
        # room for a slow board; the noise lasts twice this bound)
        took = since(uart, nxt, probe + 2)
        assert took < 1500, took
        assert uart.noise_sent > 0 and uart.noisy()  # noise was still on
        assert at.resyncs == 1
        uart.noise_off()


def test_a_command_unanswered_on_a_line_that_never_goes_quiet_times_out():
    # only the command's own traffic is its progress: a URC nobody handles
    # (kind 6, like a +UU one) never restarts the response timeout, so a
    # command the module never answers times out while the URCs go on
    box = []

    def responder(line):
        if line == b"AT+SLOW":
            box[0].noise(b"+CEREG: 5", 4, 1500)
            return b""
        return OK if line == b"AT" else None

    uart, at = engine(responder)
    box.append(uart)
    raises(errors.AtTimeout, at.command, "+SLOW")
    probe = uart.written.find(b"AT\r", len(b"AT+SLOW\r"))
    waited = since(uart, probe, 0)
    uart.noise_off()
    assert waited < TIMEOUT_MS + 300, waited


def test_probes_end_within_their_bound_on_a_line_that_never_goes_quiet():
    # the module has died but the line is busy: every probe waits probe_ms,
    # never longer, and the resync gives up after its probes
    box = []

    def responder(line):
        if line == b"AT" and not box[0].noise_sent:
            box[0].noise(b"+CEREG: 5", 4, 4000)
        return b""

    uart, at = engine(responder)
    box.append(uart)
    raises(errors.AtTimeout, at.command, "+SLOW")
    first = uart.written.find(b"AT\r", len(b"AT+SLOW\r"))
    last = uart.written.rfind(b"AT\r")
    probes = uart.commands.count(b"AT")
    assert probes >= 2 and last > first
    took = since(uart, last, first)
    assert took < (probes - 1) * PROBE_MS + 1000, (probes, took)  # the noise lasts 4 s
    uart.noise_off()
