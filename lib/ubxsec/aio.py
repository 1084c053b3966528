"""ubxsec.aio: the asyncio front end, on the same engine and rules as Module.

    import asyncio, ubxsec
    from ubxsec.aio import AsyncModule
    m = AsyncModule(uart)                       # Module's keyword options
    print(await m.chip_id())
    await m.certs.import_file("ca.pem", ubxsec.CA, "MyCA")
    p = m.profile(2)
    await p.validation_level(1)
    async for line in m.urcs("+UUSECPRF:"):     # URCs while idle, to a task
        ...

One protocol, two front ends: every command family is written once as
generators over AtEngine.exchange*(), and AtEngine.run() drives them for
Module; here AsyncEngine.run() drives the same generators with awaits, so
`m.certs.md5(...)` returns an awaitable here and the value on Module, from
the same code. A bare `yield` of the engine (waiting for bytes, a prompt, a
stalled write, the guard timer, a resync probe) becomes `await pause`;
`yield TURN` (a '>' chunk went out) becomes `await asyncio.sleep_ms(0)`, so
other tasks run between chunks.

- One command on the wire at a time: run() holds an asyncio.Lock for the
  whole generator (a family method of several commands included), so two
  tasks' commands are served one after the other, never interleaved.
- Cancellation: task.cancel() and asyncio.wait_for* throw CancelledError
  into the generator, which recovers as after a Ctrl-C on Module: nothing
  more is sent now, and the next command resynchronises first (waiting out
  the module's guard timer when a '>' transfer was cut).
- URCs while idle: AsyncModule starts a reader task on first use that
  dispatches them to the on_urc() handlers. The RX interrupt wakes it through
  asyncio.ThreadSafeFlag where the port has both (and a tick every `poll_ms`
  in case an IRQ event was lost), never while a command runs (the command
  reads for itself, and wakes it when it ends); otherwise it looks every
  `poll_ms`. An overflow or bad line it meets while idle is raised by the
  next command (nothing sent), as Module's command() does.
- Waiting for bytes during a command sleeps `pause_ms` (1 ms) per step; the
  event loop is never held longer than one step of the rules (a line, a
  chunk write).
- Memory: one driver coroutine per command; a wait or a chunk allocates
  nothing here (asyncio.sleep_ms hands back a preallocated awaitable). The
  unix port's scheduler itself takes a 144-byte frame from the heap, and
  frees it, each time it looks for work (IOQueue.wait_io_event's frame is
  larger than the VM keeps on the C stack): one look per chunk, two per
  1 ms wait, whoever waits.
"""

import asyncio
from micropython import const

from . import Module
from .at import TURN, AtEngine
from .chip import chip_id
from .errors import AtTimeout, ProtocolError, RingOverflow
from .params import check_int, quoted

_POLL_MS = const(20)    # the idle reader's period without an RX interrupt
_URC_DEPTH = const(8)   # lines urcs() keeps for a slow task; more are counted
_GET_MS = const(180000)
_NAME_MAX = const(248)


class AsyncEngine:
    """An AtEngine's exchange*() generators driven with awaits. Every other
    attribute (on_urc, poll, counters, timeout_ms...) is the engine's."""

    def __init__(self, engine, *, pause_ms=1, sleep=None):
        # sleep: the awaitable pause, sleep(ms) (asyncio.sleep_ms; a test
        # without an event loop gives its own)
        self.engine = engine
        self.sleep = sleep or asyncio.sleep_ms
        self.exchange = engine.exchange
        self.exchange_data = engine.exchange_data
        self.exchange_payload = engine.exchange_payload
        self.lock = asyncio.Lock()
        self.pause_ms = pause_ms
        self.idle_error = None  # what the idle reader met, for the next command
        self.woken = None       # a ThreadSafeFlag to set after each command

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def run(self, gen):
        """An awaitable driving gen to its end; returns gen's value. From a
        URC handler: RuntimeError at once, as on Module."""
        if self.engine.dispatching:
            # from a URC handler: the engine's own rule refuses it at once
            # (RuntimeError), as on Module
            return self.engine.run(gen)
        return self._drive(gen)

    async def _drive(self, gen):
        async with self.lock:
            exc = self.idle_error
            if exc is not None:
                self.idle_error = None
                raise type(exc)("%s while idle; command not sent" % exc.args[0])
            try:
                while True:
                    try:
                        step = gen.send(None) if exc is None else gen.throw(exc)
                    except StopIteration as stop:
                        return stop.value
                    exc = None
                    try:
                        await self.sleep(0 if step == TURN else self.pause_ms)
                    except BaseException as e:  # noqa: BLE001 - CancelledError: into gen
                        exc = e
            finally:
                if self.woken is not None:
                    self.woken.set()  # what came after the final result

    def command(self, cmd, timeout_ms=None, *, secret=False, redact=None, info=None):
        return self.run(self.engine.exchange(cmd, timeout_ms, secret=secret,
                                                redact=redact, info=info))

    def command_with_data(self, cmd, size, source, timeout_ms=None, *, secret=False,
                          redact=None, info=None):
        return self.run(self.engine.exchange_data(cmd, size, source, timeout_ms,
                                                     secret=secret, redact=redact, info=info))

    def command_payload(self, cmd, prefix, sink, timeout_ms=None):
        return self.run(self.engine.exchange_payload(cmd, prefix, sink, timeout_ms))

    def start(self):
        return self.run(self.engine.prepare())

    def idle(self):
        """Dispatch what arrived while idle (the reader's step); never waits,
        never while a command holds the engine."""
        if self.lock.locked():
            return 0
        try:
            return self.engine.poll()
        except (RingOverflow, ProtocolError) as exc:
            self.idle_error = exc
            return 0


class _Urcs:
    """`async for line in m.urcs(prefix)`: the lines of one URC prefix."""

    def __init__(self, at, prefix, depth):
        self._at = at
        self.prefix = prefix
        self._lines = []
        self._depth = depth
        self._event = asyncio.Event()
        self.dropped = 0
        at.on_urc(prefix, self._put)

    def _put(self, line):
        if len(self._lines) < self._depth:
            self._lines.append(line)
        else:
            self.dropped += 1
        self._event.set()

    def __aiter__(self):
        return self

    async def __anext__(self):
        while not self._lines:
            self._event.clear()
            await self._event.wait()
        return self._lines.pop(0)

    def close(self):
        """Stop collecting (the prefix's handler is removed)."""
        self._at.on_urc(self.prefix, None)


class AsyncModule(Module):
    """Module's API, awaitable: chip_id(), certs.*, profile(n).*, start()."""

    def __init__(self, uart, *, poll_ms=_POLL_MS, **options):
        super().__init__(uart, **options)
        engine = self.at
        if not isinstance(engine, AtEngine):
            raise TypeError("AsyncModule needs Module's AtEngine")
        self.at = AsyncEngine(engine)
        self.poll_ms = poll_ms
        self._reader = None
        self._ticker = None
        self._flag = None
        flag = getattr(asyncio, "ThreadSafeFlag", None)
        if flag is not None and self.irq_mode != "poll":
            # the ring's handler, then a wake-up for the reader (set() is
            # safe in an IRQ and allocates nothing)
            self._flag = flag = flag()
            fill = self.ring.irq_handler
            lock = self.at.lock

            def wake(u):
                fill(u)
                if not lock.locked():  # a command reads for itself, then sets it
                    flag.set()
            self.uart.irq(handler=wake, trigger=getattr(uart, self.irq_mode),
                          hard=options.get("irq_hard", False))
            self.at.woken = flag

    def chip_id(self, timeout_ms=None):
        self.reader()
        return self.at.run(chip_id(self.at, timeout_ms))

    def start(self):
        self.reader()
        return self.at.start()

    def urcs(self, prefix, depth=_URC_DEPTH):
        """An async iterator over the URCs starting with prefix (it replaces
        an on_urc() handler of that prefix); close() ends it."""
        self.reader()
        return _Urcs(self.at, prefix, depth)

    def reader(self):
        """Start the idle URC reader task (done by the first use); returns it."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
            if self._flag is not None:  # an IRQ event may be lost: look anyway
                self._ticker = asyncio.create_task(self._tick())
        return self._reader

    async def _read(self):
        at = self.at
        flag = self._flag
        while True:
            if flag is None:
                await asyncio.sleep_ms(self.poll_ms)
            else:
                await flag.wait()
            at.idle()

    async def _tick(self):
        flag = self._flag
        lock = self.at.lock
        while True:
            await asyncio.sleep_ms(self.poll_ms)
            # not while a command runs: each wake of the reader allocates
            # (ThreadSafeFlag.wait() is a new coroutine, and its I/O queue
            # entry a new list); the command sets it when it ends
            if not lock.locked():
                flag.set()

    def close(self):
        """Stop the reader task and detach the IRQ handler."""
        for task in (self._reader, self._ticker):
            if task is not None:
                task.cancel()
        self._reader = self._ticker = None
        super().close()

    def http(self, http_profile=0):
        """The module's HTTP client (AT+UHTTP), awaitable."""
        self.reader()
        return AsyncHttp(self.at, http_profile)


class AsyncHttp:
    """ubxsec.http.Http's GET to a file, awaitable: waiting for +UUHTTPCR
    never blocks the event loop (the idle reader dispatches it). A failed
    request raises ubxsec.http's HttpError (package ubxsec-http) from the
    same generator as Http.get() (ubxsec.http.failure: +UHTTPER, its class,
    code and cause); status() of a response read back is ubxsec.http.status."""

    def __init__(self, at, http_profile=0):
        self._at = at
        self.id = check_int(http_profile, range(4), "http_profile")
        self._result = None
        self._sec = None      # security profile id, once secure() named one
        self._event = asyncio.Event()
        self._prefix = "+UUHTTPCR: %d," % self.id
        at.on_urc(self._prefix, self._on_urc)

    def _on_urc(self, line):
        f = line[len(self._prefix):].split(",")
        if len(f) != 2 or not (f[0].isdigit() and f[1].isdigit()):
            raise ProtocolError("bad +UUHTTPCR")
        self._result = (int(f[0]), int(f[1]))
        self._event.set()

    def _set(self, op, value=None):
        return self._at.command("+UHTTP=%d" % self.id + ("" if op is None else ",%d,%s" % (op, value)))

    async def reset(self):
        await self._set(None)

    async def server(self, name, port=None):
        name = quoted(name, 128, "server", 1)
        if port is not None:
            check_int(port, range(1, 65536), "port")   # before any byte is sent
        await self._set(1, name)
        if port is not None:
            await self._set(5, port)

    async def secure(self, security_profile_id):
        await self._set(6, 0 if security_profile_id is None else
                        "1,%d" % check_int(security_profile_id, range(5), "security profile"))
        self._sec = security_profile_id

    async def get(self, path, filename, timeout_ms=_GET_MS):
        """GET path into the module file filename, as Http.get()."""
        cmd = "+UHTTPC=%d,1,%s,%s" % (self.id, quoted(path, 128, "path", 1),
                                      quoted(filename, _NAME_MAX, "filename", 1))
        at = self._at
        at.idle()  # a late URC of an earlier request must not count for this one
        self._result = None
        self._event.clear()
        await at.command(cmd)
        try:
            while True:
                got = self._result
                if got is not None and got[0] == 1:   # command 1: GET
                    break
                self._event.clear()
                await asyncio.wait_for_ms(self._event.wait(), timeout_ms)
        except asyncio.TimeoutError:
            raise AtTimeout("no +UUHTTPCR")
        if got[1] != 1:
            # Http's own failure path (package ubxsec-http), driven with awaits:
            # AT+UHTTPER and what explains it, the same message as Http.get()
            from .http import failure
            raise await at.run(failure(at, self.id, self._sec, "GET " + path))

    async def read_file(self, filename, sink=None, timeout_ms=None):
        """The module file's bytes, as Http.read_file()."""
        name = quoted(filename, _NAME_MAX, "filename", 1)
        buf = None
        if sink is None:
            buf = bytearray()
            sink = buf.extend
        lines = await self._at.command_payload("+URDFILE=" + name, "+URDFILE:", sink, timeout_ms)
        head = "+URDFILE: %s," % name
        line = lines[0] if len(lines) == 1 else ""
        size = line[len(head):-3] if line.startswith(head) and line.endswith(',""') else ""
        if not size.isdigit():
            raise ProtocolError("bad +URDFILE")
        return int(size) if buf is None else buf
