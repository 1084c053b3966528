"""ubxsec.aio on the scripted FakeUart: what only the asyncio front end has
(the idle reader, urcs(), two tasks, cancellation, the HTTP wait). The wire
rules themselves run through it in unit_at_aio.py.

Each test is a coroutine: runner.py runs it with asyncio.run (unix), and
runner.main_async() awaits it where the port's asyncio is driven by the
JavaScript event loop (wasm32, through runPythonAsync)."""

import asyncio

from ubxsec import errors
from ubxsec.aio import AsyncEngine, AsyncHttp, AsyncModule
from ubxsec.at import AtEngine
from ubxsec.ring import Ring
from fakeuart import FakeUart, PromptReply, reply, OK

CHIP = reply(b'+USECCHIP: "12345678"', b"OK")


def _module(responder, **kw):
    uart = FakeUart(responder, **kw)
    return uart, AsyncModule(uart, poll_ms=5, timeout_ms=500)


async def test_chip_id_and_startup_through_the_same_family_code():
    uart, m = _module(lambda line: CHIP if line == b"AT+USECCHIP" else None)
    try:
        assert await m.chip_id() == "12345678"
        assert uart.commands == [b"ATE0", b"AT+CMEE=2", b"AT+USECCHIP"]
    finally:
        m.close()


async def test_two_tasks_are_served_one_after_the_other():
    box = []
    done = []

    def responder(line):
        if line in (b"AT+A", b"AT+B"):
            # a slow answer: the other task's command must wait for it
            box[0].later(30, reply(line[2:] + b": 1", b"OK"))
            done.append((line, list(seen)))
            return b""
        return None

    seen = []
    uart, m = _module(responder)
    box.append(uart)

    async def one(name):
        lines = await m.at.command(name)
        seen.append(name)
        return lines

    try:
        got = await asyncio.gather(one("+A"), one("+B"))
        assert got == [["+A: 1"], ["+B: 1"]], got
        # B went out only once A had its answer
        assert done == [(b"AT+A", []), (b"AT+B", ["+A"])], done
    finally:
        m.close()


async def test_urcs_while_idle_reach_handlers_and_the_iterator():
    uart, m = _module(None)
    seen = []
    m.on_urc("+UUX:", seen.append)
    urcs = m.urcs("+UUSECPRF:")
    try:
        uart.inject(reply(b"+UUX: 1", b"+UUSECPRF: 0,13,0,2", b"+UUSECPRF: 1,13,0,0"))
        got = []
        for _ in range(400):  # nobody polls: the reader task dispatches them
            if len(urcs._lines) == 2:
                break
            await asyncio.sleep_ms(5)
        async for line in urcs:
            got.append(line)
            if len(got) == 2:
                break
        assert got == ["+UUSECPRF: 0,13,0,2", "+UUSECPRF: 1,13,0,0"], got
        assert seen == ["+UUX: 1"]
    finally:
        urcs.close()
        m.close()


async def test_a_cancelled_transfer_resyncs_before_the_next_command():
    data = bytes(range(200))

    def responder(line):
        if line.startswith(b"AT+USECMNG=0,"):
            return PromptReply(b">", len(data),
                               lambda d: reply(b'+USECMNG: 0,0,"x","%d"' % len(d), b"OK"))
        return CHIP if line == b"AT+USECCHIP" else None

    uart = FakeUart(responder, guard_ms=40, stall_ms=5)   # every write held 5 ms
    ring = Ring(1024, uart)
    at = AsyncEngine(AtEngine(uart, ring, timeout_ms=300, chunk=16, guard_ms=2000,
                              probe_ms=150, quiet_ms=20))
    pos = [0]

    def source(mv):
        n = min(len(mv), len(data) - pos[0])
        mv[:n] = data[pos[0]:pos[0] + n]
        pos[0] += n
        return n

    try:
        await asyncio.wait_for_ms(
            at.command_with_data('+USECMNG=0,0,"x",200', len(data), source), 40)
    except asyncio.TimeoutError:
        pass
    else:
        raise AssertionError("the transfer was not cut")
    assert 0 < pos[0] < len(data)
    cut = len(uart.written)
    assert await at.command("+USECCHIP") == ['+USECCHIP: "12345678"']
    # nothing was sent before the guard timer ended the data phase, then AT
    assert uart.aborted and uart.commands[-2:] == [b"AT", b"AT+USECCHIP"], uart.commands
    assert uart.written[cut:cut + 3] == b"AT\r"
    assert at.resyncs == 1


async def test_the_idle_reader_sleeps_while_a_command_runs():
    # each wake of the reader allocates (ThreadSafeFlag.wait() is a new
    # coroutine): neither its tick nor the RX interrupt sets its flag while a
    # command holds the engine; the command sets it once, as it ends
    box = []

    def responder(line):
        if line == b"AT+SLOW":
            box[0].later(150, reply(b"+SLOW: 1", b"OK"))
            return b""
        return None

    uart, m = _module(responder)
    box.append(uart)
    flag = m._flag
    if flag is None:
        return  # no asyncio.ThreadSafeFlag on this port: the reader polls
    sets = []
    real = flag.set

    def counted():
        sets.append(m.at.lock.locked())
        real()

    flag.set = counted
    try:
        await m.start()
        await asyncio.sleep_ms(30)
        assert False in sets, "the tick never woke the idle reader"
        del sets[:]
        assert await m.at.command("+SLOW") == ["+SLOW: 1"]   # 30 ticks long
        assert sets.count(True) == 1, sets
    finally:
        m.close()


async def test_a_command_from_a_urc_handler_is_refused_at_once():
    uart, m = _module(lambda line: reply(b"+UUX: 1", b"OK") if line == b"AT+X" else None)
    errors_seen = []

    def handler(line):
        try:
            m.at.command("+Y")
        except RuntimeError as exc:
            errors_seen.append(exc)

    m.on_urc("+UUX:", handler)
    try:
        assert await m.at.command("+X") == []
        assert len(errors_seen) == 1 and b"AT+Y" not in uart.commands
    finally:
        m.close()


async def test_http_get_waits_for_its_urc_without_stalling_the_loop():
    box = []

    def responder(line):
        if line.startswith(b"AT+UHTTPC=0,1,"):
            box[0].later(120, reply(b"+UUHTTPCR: 0,1,1"))
            return OK
        return OK if line.startswith(b"AT+UHTTP=") else None

    uart, m = _module(responder)
    box.append(uart)
    beats = [0]
    stop = []

    async def heartbeat():
        while not stop:
            await asyncio.sleep_ms(10)
            beats[0] += 1

    try:
        h = m.http(0)
        await h.server("example.com")
        task = asyncio.create_task(heartbeat())
        await h.get("/", "r.txt")
        stop.append(1)
        await task
        assert beats[0] >= 5, beats   # the loop ran while the GET waited
        assert isinstance(h, AsyncHttp)
    finally:
        m.close()


async def test_http_get_without_its_urc_times_out():
    uart, m = _module(lambda line: OK if line.startswith(b"AT+UHTTP") else None)
    try:
        try:
            await m.http(1).get("/", "r.txt", timeout_ms=50)
        except errors.AtTimeout:
            pass
        else:
            raise AssertionError("no AtTimeout")
    finally:
        m.close()


async def test_http_failure_names_its_cause_as_the_blocking_helper_does():
    box = []

    def responder(line):
        if line.startswith(b"AT+UHTTPC=0,1,"):
            box[0].later(20, reply(b"+UUHTTPCR: 0,1,0"))
            return OK
        if line == b"AT+UHTTPER=0":
            return reply(b"+UHTTPER: 0,3,73", b"OK")
        if line == b"AT+USECPRF=2,3":
            return reply(b'+USECPRF: 2,3,"ThawteCA"', b"OK")
        return OK if line.startswith(b"AT+UHTTP=") else None

    uart, m = _module(responder)
    box.append(uart)
    from ubxsec.http import HttpError
    try:
        h = m.http(0)
        await h.secure(2)
        try:
            await h.get("/", "r.txt", timeout_ms=2000)
        except HttpError as exc:
            err = exc
        else:
            raise AssertionError("no HttpError")
        assert str(err) == ("GET / on profile 2: the server's certificate is not signed by "
                            "CA 'ThawteCA' (+UHTTPER: 0,3,73)"), str(err)
        assert (err.err_class, err.err_code) == (3, 73)
        assert uart.commands[-2:] == [b"AT+UHTTPER=0", b"AT+USECPRF=2,3"], uart.commands
    finally:
        m.close()


# -- allocation of the '>' chunk loop -------------------------------------------

class _QuietModule:
    """Answers commands with OK and an import (its size read from the
    command) with `answer`, keeping nothing of the data; allocation free
    itself, so that what is measured is the library and the event loop."""

    def __init__(self):
        self.out = b""
        self.i = 0
        self.owed = 0
        self.size = 0
        self.answer = b""

    def write(self, buf, off, n):
        if self.owed:
            self.owed -= n
            if not self.owed:
                self._say(self.answer)
        elif buf[off + 3] == 0x55 and buf[off + 11] == 0x30:  # AT+USECMNG=0: the import
            j = off + n - 1
            while buf[j - 1] != 0x2C:
                j -= 1
            size = 0
            while buf[j] != 13:
                size = size * 10 + buf[j] - 48
                j += 1
            self.owed = self.size = size
            self._say(b">")
        else:
            self._say(b"\r\nOK\r\n")
        return n

    def _say(self, data):
        self.out = data
        self.i = 0

    def any(self):
        return len(self.out) - self.i

    def readinto(self, buf, n):
        k = 0
        while k < n and self.i < len(self.out):
            buf[k] = self.out[self.i]
            self.i += 1
            k += 1
        return k

    def irq(self, handler=None, trigger=0, hard=False):
        pass


def _total():
    # every byte requested from the heap, frames freed at return included
    # (mem_total); gc.mem_alloc where the port lacks it, with collection off
    # (_hold) meanwhile
    import micropython
    total = getattr(micropython, "mem_total", None)
    if total is not None:
        return total()
    import gc
    return gc.mem_alloc()


def _hold(on):
    """Collection off (on=True) while measuring, then on again."""
    import gc
    if on:
        gc.collect()
        gc.disable()
    else:
        gc.enable()


async def _wakeup_cost():
    """Bytes the event loop itself allocates per task wake-up (asyncio's
    IOQueue.wait_io_event frame on the unix port: 144 B; the driver cannot
    avoid it), measured so that the library's part is left."""
    await asyncio.sleep_ms(0)
    _hold(True)
    t = _total()
    for _ in range(32):
        await asyncio.sleep_ms(0)
    spent = _total() - t
    _hold(False)
    assert spent % 32 == 0, spent
    return spent // 32


def _der_blob(total):
    body = total - 4
    return b"\x30\x82" + bytes((body >> 8, body & 0xFF)) + bytes((i * 7) & 0xFF
                                                                  for i in range(body))


def _pem_of(der):
    import binascii
    out = [b"-----BEGIN CERTIFICATE-----\n"]
    for i in range(0, len(der), 48):
        out.append(binascii.b2a_base64(der[i:i + 48]))
    out.append(b"-----END CERTIFICATE-----\n")
    return b"".join(out)


class _Step:
    """AsyncEngine's pause without an event loop: an awaitable that yields
    once and returns, allocating nothing (the driver alone is measured)."""

    def __init__(self):
        self.armed = False
        self.exc = StopIteration()

    def __call__(self, ms):
        self.armed = True
        return self

    def __iter__(self):
        return self

    def __next__(self):
        if self.armed:
            self.armed = False
            return None
        self.exc.__traceback__ = None
        raise self.exc


def _drive(coro):
    """Run coro to its end by hand (no scheduler); returns its value."""
    try:
        while True:
            coro.send(None)
    except StopIteration as stop:
        return stop.value


async def _chunk_loop_bytes(fmt, loop):
    """Bytes allocated per KB by the 8 KB import beyond the 1 KB one, DER
    or PEM (a PEM file holds at most 8 KB: 1.4 and 8 KB here): driven by
    hand (loop False: the driver alone), or on the event loop (loop True:
    minus what the loop allocates itself per wake-up, one per chunk)."""
    import binascii
    import os
    from checks import remove, scratch_path
    from ubxsec import CA
    from ubxsec.pem import new_md5
    uart = _QuietModule()
    m = AsyncModule(uart, timeout_ms=500, chunk=256)   # no IRQ trigger: polled
    if not loop:
        m.at.sleep = _Step()
    paths = []
    try:
        if loop:
            await m.at.start()
            cost = await _wakeup_cost()
        else:
            _drive(m.at.start())
            cost = 0
        got = []
        # sizes of as many digits: the command's text is as long for both
        for size in ((1024, 1024, 8192) if fmt == "der" else (1024, 1024, 5900)):
            der = _der_blob(size)
            h = new_md5()
            h.update(der)
            md5 = binascii.hexlify(h.digest()).decode()
            path = scratch_path("aio_alloc_%d.%s" % (size, fmt))
            with open(path, "wb") as f:
                f.write(der if fmt == "der" else _pem_of(der))
            paths.append(path)
            uart.answer = b'\r\n+USECMNG: 0,0,"blob","%s"\r\n\r\nOK\r\n' % md5
            _hold(True)
            t = _total()
            try:
                aw = m.certs.import_file(path, CA, "blob")
                assert (await aw if loop else _drive(aw)) == md5
            finally:
                _hold(False)
            # the first import loads what it uses; each chunk but the last
            # yields TURN (the loop runs once)
            got.append((_total() - t, (uart.size + 255) // 256 - 1, os.stat(path)[6]))
    finally:
        m.close()
        remove(*paths)
    (a1, turns1, n1), (a8, turns8, n8) = got[1], got[2]
    return (a8 - a1 - (turns8 - turns1) * cost) / ((n8 - n1) / 1024)


async def test_the_async_der_chunk_loop_allocates_nothing_per_kb():
    assert await _chunk_loop_bytes("der", False) == 0


async def test_the_async_pem_chunk_loop_allocates_nothing_per_kb():
    assert await _chunk_loop_bytes("pem", False) == 0


async def test_on_the_event_loop_only_the_loop_allocates_per_chunk():
    # where the port counts every allocation (mem_total: unix): the 8 KB
    # import costs the event loop's own wake-ups (asyncio's wait_io_event
    # frame, 144 B on the unix port), not a byte more
    import micropython
    if not hasattr(micropython, "mem_total"):
        return  # wasm32: its JavaScript-driven loop frees proxies meanwhile
    assert await _chunk_loop_bytes("der", True) == 0
    assert await _chunk_loop_bytes("pem", True) == 0
