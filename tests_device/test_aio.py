"""ubxsec.aio on the rig: idle URCs reaching a task, two tasks at once, an
8 KB import cancelled half way then a good one, an HTTPS GET through the
module (unix64: its wait for +UUHTTPCR needs the event loop).

unix64 runs them under asyncio.run. The WebAssembly port's asyncio has no
run() (the JavaScript event loop drives it) and its REPL cannot await, so
there each coroutine is stepped here, a 1 ms sleep per pause: the front end's
code (lock, throw into the generator, resync) runs, without the scheduler;
the idle reader's part is then poll(). The host side (AioSide in
tests_host/test_device_suite.py) sends +UUSECPRF: 3,13,0,2 every 50 ms and
serves HTTPS as aio.test."""

import asyncio
import time

import rig
from checks import data_path
from ubxsec import CA
from ubxsec.aio import AsyncModule

BIG = "ca_8k.pem"
BIG_MD5 = "af5245af89e9fe462e786e6e066d4971"
LOOP = hasattr(asyncio, "run")


class _Tick:
    def __iter__(self):
        yield None

    __await__ = __iter__


def _sleep(ms):
    time.sleep_ms(ms)
    return _Tick()


def _module():
    m = AsyncModule(rig.uart())
    if not LOOP:
        m.at.sleep = _sleep
    return m


def _run(coro, cancel_after=None):
    """asyncio.run, or stepping (with a cancellation after that many steps)."""
    if LOOP:
        return asyncio.run(coro)
    steps = 0
    while True:
        try:
            if cancel_after is not None and steps == cancel_after:
                coro.throw(asyncio.CancelledError())
            else:
                coro.send(None)
        except StopIteration as stop:
            return stop.value
        steps += 1


def test_idle_urcs_reach_a_task():
    m = _module()
    urcs = m.urcs("+UUSECPRF: 3,")

    async def take():
        await m.start()
        got = []
        async for line in urcs:
            got.append(line)
            if len(got) == 3:
                return got

    try:
        if LOOP:
            got = asyncio.run(asyncio.wait_for_ms(take(), 10000))
        else:
            _run(m.start())
            for _ in range(200):
                time.sleep_ms(10)
                m.poll()
            got = urcs._lines[:3]
        assert got == ["+UUSECPRF: 3,13,0,2"] * 3, got
        print("HOST aio-urcs %d" % len(got))
    finally:
        urcs.close()
        m.close()


def test_two_tasks_at_once():
    m = _module()

    async def both():
        if LOOP:
            return await asyncio.gather(m.chip_id(), m.certs.list())
        return [await m.chip_id(), await m.certs.list()]

    try:
        chip, listing = _run(both())
        assert isinstance(chip, str) and chip
        assert isinstance(listing, list) and listing
    finally:
        m.close()


def test_an_import_cancelled_half_way_then_a_good_import():
    m = _module()
    path = data_path(BIG)
    try:
        _run(m.start())
        try:
            if LOOP:
                _run(asyncio.wait_for_ms(m.certs.import_file(path, CA, "AioBig"), 150))
            else:
                _run(m.certs.import_file(path, CA, "AioBig"), cancel_after=60)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        else:
            raise AssertionError("the import was not cut")
        # the next command resynchronises first (the module's guard timer)
        assert _run(m.certs.import_file(path, CA, "AioBig")) == BIG_MD5
        assert _run(m.certs.md5(CA, "AioBig")) == BIG_MD5
        _run(m.certs.remove(CA, "AioBig"))
    finally:
        m.close()


def test_https_get_through_the_module():
    if not LOOP:   # the GET waits for its URC on the event loop
        print("HOST aio-https none")
        return
    m = _module()

    async def get():
        p = m.profile(3)
        await p.validation_level(0)   # the host's throw-away server: no root needed
        h = m.http(1)
        await h.server("aio.test")
        await h.secure(3)
        await h.get("/", "aio.resp", 30000)
        head = await h.read_file("aio.resp")
        from ubxsec.http import status
        return status(head)

    try:
        print("HOST aio-https %d" % _run(get()))
    finally:
        _run(m.profile(3).reset())
        m.close()
