"""SessionKeeper.save() and reception: it never writes flash while a command
is in flight, and drains the line first (what the module sends is
dispatched before the file is opened; a module that never goes quiet gets
AtTimeout and no file)."""

import time

import ubxsec.session as session
from ubxsec.at import AtEngine
from ubxsec.errors import AtTimeout
from ubxsec.ring import Ring
from ubxsec.session import SessionKeeper
from fakeuart import FakeUart, reply, OK
from checks import exists, raises, remove, scratch_path

SID = "VWY5UENs0Hh3VWR1MjB2WTVMYVZ5TTdE0WpMeWZWeHo="
MS = "SHVSODByUit0My9OMEtIT2ZsVVFRcUsyTkdvaz0nWVFhRzdQZUpndG9IMzN4ZTBo"


PATH = scratch_path("ubxsec_unit_drain.json")


def _clean():
    remove(PATH, PATH + ".tmp")


def keeper_with_data(responder=None):
    """(uart, engine, keeper) holding profile 1's session ID (from URCs, so
    save() needs no command)."""
    uart = FakeUart(responder or (lambda line: OK))
    at = AtEngine(uart, Ring(1024, uart), timeout_ms=300, probe_ms=100, quiet_ms=20)
    k = SessionKeeper(at)
    uart.inject(b'\r\n+UUSECPRF: 1,13,1,0\r\n\r\n+UUSECPRF: 1,13,2,"%s","%s"\r\n'
                % (SID.encode(), MS.encode()))
    at.poll()
    assert k.has_data(1)
    return uart, at, k


def test_save_from_a_urc_handler_is_refused_and_writes_nothing():
    _clean()
    uart, at, k = keeper_with_data(
        lambda line: reply("+UUTEST: 1", "OK") if line == b"AT+CGMI" else OK)
    calls = []

    def handler(line):
        calls.append(line)
        k.save(1, PATH)    # inside the command's dispatch
    at.on_urc("+UUTEST:", handler)
    at.command("+CGMI")
    assert calls == ["+UUTEST: 1"]
    assert isinstance(at.urc_error, RuntimeError), at.urc_error
    assert "in flight" in str(at.urc_error)
    assert not exists(PATH) and not exists(PATH + ".tmp")


def test_what_the_module_sends_is_dispatched_before_the_file_is_opened():
    _clean()
    uart, at, k = keeper_with_data()
    got = []
    at.on_urc("+UUX:", got.append)
    uart.piece = 5     # it trickles in while save() runs
    uart.inject(b"\r\n+UUX: 1\r\n\r\n+UUX: 2\r\n\r\n+UUX: 3\r\n")
    seen_at_open = []
    real_open = open

    def spy(path, *mode):
        seen_at_open.append((list(got), uart.any() or uart.any()))
        return real_open(path, *mode)
    session.open = spy
    try:
        k.save(1, PATH)
    finally:
        del session.open
    assert seen_at_open == [(["+UUX: 1", "+UUX: 2", "+UUX: 3"], 0)], seen_at_open
    assert exists(PATH)
    _clean()


class Chatty:
    """A UART whose module sends a URC every millisecond once `on`, forever."""

    LINE = b"\r\n+UUX: 1\r\n"

    def __init__(self, first):
        self.buf = bytearray(first)
        self.on = False
        self.last = time.ticks_ms()

    def any(self):
        now = time.ticks_ms()
        if self.on and not self.buf and time.ticks_diff(now, self.last) >= 1:
            self.buf += self.LINE
            self.last = now
        return len(self.buf)

    def readinto(self, buf, n=None):
        n = min(len(buf) if n is None else n, len(self.buf))
        buf[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n or None

    def write(self, buf, *args):
        return len(buf)


def test_a_module_that_never_goes_quiet_gets_no_file_written():
    _clean()
    uart = Chatty(b'\r\n+UUSECPRF: 1,13,1,0\r\n\r\n+UUSECPRF: 1,13,2,"%s","%s"\r\n'
                  % (SID.encode(), MS.encode()))
    at = AtEngine(uart, Ring(1024, uart), timeout_ms=300, probe_ms=100, quiet_ms=20)
    k = SessionKeeper(at)
    at.poll()
    assert k.has_data(1)
    count = []
    at.on_urc("+UUX:", count.append)
    uart.on = True
    exc = raises(AtTimeout, k.save, 1, PATH)
    assert "kept sending" in str(exc)
    assert count    # it did listen meanwhile
    assert not exists(PATH) and not exists(PATH + ".tmp")
