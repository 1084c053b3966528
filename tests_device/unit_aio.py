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
