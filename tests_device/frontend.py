"""The front end the engine's rule tests drive: "blocking" (AtEngine.run())
or "aio" (ubxsec.aio.AsyncEngine: the same generators driven with awaits).

unit_at*.py build their engines through engine() and their fake UARTs
through uart(); unit_at_aio.py (and the other *_aio.py files) select "aio"
and run the same test functions again. Under "aio" each blocking call of a
test (command(), command_with_data(), run(gen), ...) is one asyncio run of
the awaitable; the fake UART's output arrives in pieces, each one a few ms
after the last (AsyncFakeUart), so that the engine's waits really wait.

Where the port has asyncio.run (unix) the real event loop drives it. The
WebAssembly port's asyncio has none (the JavaScript event loop drives its
tasks): there the awaitable is driven step by step here, each pause a 1 ms
sleep, which runs the front end's code (lock, throw into the generator,
TURN) without asyncio's scheduler; tests_host runs an asyncio program on
that port too (unit_aio.py through runPythonAsync).
"""

import time

from fakeuart import FakeUart

NAME = "blocking"


def use(name):
    global NAME
    if name not in ("blocking", "aio"):
        raise ValueError(name)
    NAME = name


class AsyncFakeUart(FakeUart):
    """FakeUart whose module output arrives `piece` bytes at a time, each
    piece no sooner than `late_ms` after the one before, whoever looks."""

    def __init__(self, responder=None, *, late_ms=2, **kw):
        if "piece" not in kw:  # piece=None given: the test needs bursts
            kw["piece"] = 7
        FakeUart.__init__(self, responder, **kw)
        self.late_ms = late_ms
        self._piece_at = time.ticks_ms()

    def settle(self):
        """Let the module's output arrive whole (time passes), and the IRQ
        handler take what is in the driver's buffer."""
        while True:
            if self._rx_tail != self._rx_head and self._handler is not None:
                self._fire()
            elif self._pending or self._timed:
                time.sleep_ms(1)
                FakeUart.any(self)
            else:
                return

    def any(self):
        if not self._in_irq and time.ticks_diff(time.ticks_ms(), self._piece_at) < self.late_ms:
            return self._rx_tail - self._rx_head
        n = FakeUart.any(self)
        if not n:
            self._piece_at = time.ticks_ms()
        return n


def uart(responder=None, **kw):
    """The fake UART for the front end; late_ms (AsyncFakeUart) is ignored
    by the blocking one."""
    if NAME == "aio":
        return AsyncFakeUart(responder, **kw)
    kw.pop("late_ms", None)
    return FakeUart(responder, **kw)


class _Tick:
    """An awaitable that gives up the processor once (no event loop)."""

    def __iter__(self):
        yield None

    __await__ = __iter__


_TICK = _Tick()


def _sleep(ms):
    if ms:
        time.sleep_ms(ms)
    return _TICK


def drive(coro):
    """Run coro to its end: asyncio.run where the port has it, else step by
    step (see the module's docstring)."""
    import asyncio
    run = getattr(asyncio, "run", None)
    if run is not None:
        return run(coro)
    while True:
        try:
            coro.send(None)
        except StopIteration as stop:
            return stop.value


class OverAsync:
    """The blocking calls of an AtEngine, each run through the async front
    end; every other attribute is the engine's."""

    def __init__(self, at):
        import asyncio
        from ubxsec.aio import AsyncEngine
        sleep = None if hasattr(asyncio, "run") else _sleep
        self.aio = AsyncEngine(at, sleep=sleep)

    def __getattr__(self, name):
        return getattr(self.aio.engine, name)

    def _settle(self):
        # what the module sent before this call arrives before it (bytes a
        # test injects while idle were received while idle)
        uart = self.aio.engine.uart
        if hasattr(uart, "settle"):
            uart.settle()

    def run(self, gen):
        self._settle()
        return drive(self.aio.run(gen))

    def command(self, cmd, timeout_ms=None, **kw):
        self._settle()
        return drive(self.aio.command(cmd, timeout_ms, **kw))

    def command_with_data(self, cmd, size, source, timeout_ms=None, **kw):
        self._settle()
        return drive(self.aio.command_with_data(cmd, size, source, timeout_ms, **kw))

    def command_payload(self, cmd, prefix, sink, timeout_ms=None):
        self._settle()
        return drive(self.aio.command_payload(cmd, prefix, sink, timeout_ms))

    def start(self):
        self._settle()
        return drive(self.aio.start())

    def poll(self):
        self._settle()
        return self.aio.engine.poll()


def engine(at):
    """at as the tests use it: itself, or through the async front end."""
    return at if NAME == "blocking" else OverAsync(at)
