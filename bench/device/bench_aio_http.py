# The asyncio front end while an HTTPS GET through the module waits for a
# server that answers after about 2 s: a heartbeat task that wakes every
# 10 ms records its lateness (as bench_aio.py) from AT+UHTTPC to +UUHTTPCR.

import asyncio
import time
from array import array

import rig
from ubxsec import CA
from ubxsec.aio import AsyncModule

_PERIOD_MS = 10

cfg = rig.args()
uart = rig.open_uart(cfg)
m = AsyncModule(uart, timeout_ms=10000)
late = array("H", bytes(2 * 4096))
count = [0]
stop = []


async def heartbeat():
    due = time.ticks_add(time.ticks_ms(), _PERIOD_MS)
    while not stop:
        await asyncio.sleep_ms(max(0, time.ticks_diff(due, time.ticks_ms())))
        now = time.ticks_ms()
        i = count[0]
        if i < len(late):
            late[i] = time.ticks_diff(now, due)
            count[0] = i + 1
        due = time.ticks_add(now, _PERIOD_MS)


async def main():
    await m.chip_id()
    await m.certs.import_file(cfg["root"], CA, "BenchAioRoot")
    p = m.profile(2)
    await p.validation_level(1)
    await p.ca_name("BenchAioRoot")
    h = m.http(0)
    await h.server(cfg["host"])
    await h.secure(2)
    task = asyncio.create_task(heartbeat())
    await asyncio.sleep_ms(50)
    count[0] = 0
    t0 = time.ticks_us()
    await h.get("/", "bench.resp", 20000)
    seconds = time.ticks_diff(time.ticks_us(), t0) / 1e6
    lates = sorted(late[:count[0]])
    stop.append(1)
    await task
    return {"seconds": seconds, "beats": len(lates), "stall_max_ms": lates[-1],
            "stall_p99_ms": lates[min(len(lates) - 1, int(len(lates) * 0.99))]}


result = asyncio.run(main())
m.close()
uart.deinit()
rig.emit(result)
