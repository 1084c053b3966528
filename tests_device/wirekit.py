"""What the wire-rule tests (unit_wire_*.py) share: an engine on a FakeUart,
a data source, and a fake module that can also start a data phase late or
keep the line busy. Every bound is read on the fake module's clock
(time.ticks_ms, as FakeUart.write_log records it).

The tests go through the engine's public commands only (command,
command_with_data, command_payload, poll, on_urc and its counters), so that
they hold for any engine that keeps the rules of at.py's docstring.
"""

import time

from ubxsec.at import AtEngine
from ubxsec.ring import Ring
from fakeuart import FakeUart, reply
import frontend

CHIP = reply(b'+USECCHIP: "12345678"', b"OK")
CHIP_LINES = ['+USECCHIP: "12345678"']

# the engine's bounds in these tests (ms); the module's own guard timer is
# FakeUart.guard_ms, set per test and always far below GUARD_MS
TIMEOUT_MS = 300
GUARD_MS = 3000
PROBE_MS = 150
QUIET_MS = 20


class WireUart(FakeUart):
    """FakeUart plus two behaviours of a real module:

    - later_prompt(ms, prompt): the module enters the data phase of
      `prompt` (a PromptReply) ms from now and sends its prefix then: the
      '>' of a module that was slow to answer.
    - noise(line, every_ms, for_ms): the module sends `line` (framed by
      CRLF) every every_ms ms for for_ms ms: a line that never goes quiet.
    """

    def __init__(self, responder=None, **kw):
        super().__init__(responder, **kw)
        self._late = None
        self._noise = None
        self.noise_sent = 0  # lines of noise sent so far

    def later_prompt(self, ms, prompt):
        self._late = (time.ticks_add(time.ticks_ms(), ms), prompt)

    def noise(self, line, every_ms, for_ms):
        now = time.ticks_ms()
        self._noise = [reply(line), every_ms, now, time.ticks_add(now, for_ms)]

    def noise_off(self):
        self._noise = None

    def noisy(self):
        return self._noise is not None

    def any(self):
        self._tick()
        return super().any()

    def _tick(self):
        now = time.ticks_ms()
        late = self._late
        if late is not None and time.ticks_diff(now, late[0]) >= 0:
            self._late = None
            self._prompt = late[1]
            self._data = bytearray()
            self._last_rx = now
            self._send(late[1].prefix)
        noise = self._noise
        if noise is not None:
            if time.ticks_diff(now, noise[3]) >= 0:
                self._noise = None
            elif time.ticks_diff(now, noise[2]) >= 0:
                noise[2] = time.ticks_add(now, noise[1])
                self.noise_sent += 1
                self._pending += noise[0]


def engine(responder, chunk=16, irq=True, **uart_kw):
    """(uart, at): an AtEngine with the bounds above on a WireUart, driven
    by the front end frontend.py names (the *_aio.py files pick asyncio)."""
    uart = WireUart(responder, **uart_kw)
    ring = Ring(1024, uart)
    if irq:
        uart.irq(handler=ring.irq_handler, trigger=uart.IRQ_RXIDLE, hard=True)
    at = AtEngine(uart, ring, timeout_ms=TIMEOUT_MS, chunk=chunk, guard_ms=GUARD_MS,
                  probe_ms=PROBE_MS, quiet_ms=QUIET_MS)
    return uart, frontend.engine(at)   # the blocking or the asyncio front end


def table(mapping):
    def responder(line):
        return mapping.get(line)
    return responder


class Source:
    """Feeds `data` into the engine's views, up to stop_at bytes (then it
    runs dry: returns 0); calls on_dry() once when it does."""

    def __init__(self, data, stop_at=None, on_dry=None):
        self.data = data
        self.pos = 0
        self.stop_at = len(data) if stop_at is None else stop_at
        self.on_dry = on_dry
        self.calls = 0

    def __call__(self, mv):
        self.calls += 1
        n = min(len(mv), self.stop_at - self.pos)
        for i in range(n):
            mv[i] = self.data[self.pos + i]
        self.pos += n
        if not n and self.on_dry is not None:
            self.on_dry()
            self.on_dry = None
        return n


def since(uart, later, earlier):
    """ms between the writes that took bytes `earlier` and `later` of
    uart.written, on the fake module's clock."""
    return time.ticks_diff(uart.written_at(later), uart.written_at(earlier))
