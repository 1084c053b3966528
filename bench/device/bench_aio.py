# The asyncio front end against the event loop: a heartbeat task that wakes
# every 10 ms records how late each wake-up is while ubxsec.aio imports a
# certificate (cfg "files": 1 KB then 8 KB PEM, the 8 KB one timed; a first
# 1 KB import loads the modules it uses). Reports
# the heartbeat's longest and 99th-percentile lateness during the 8 KB
# import, its duration, and micropython.mem_total() growth per KB between
# the two imports (the async chunk loop's allocation), heartbeat included.

import asyncio
import time
from array import array

import micropython
import rig
from ubxsec import CA
from ubxsec.aio import AsyncModule

_PERIOD_MS = 10

cfg = rig.args()
uart = rig.open_uart(cfg)
m = AsyncModule(uart, timeout_ms=10000)
late = array("H", bytes(2 * 4096))   # preallocated: the heartbeat allocates nothing
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
    small, big = cfg["files"]
    total = getattr(micropython, "mem_total", None)
    task = asyncio.create_task(heartbeat())
    await asyncio.sleep_ms(50)
    await m.certs.import_file(small["path"], CA, small["name"])   # loads the modules it uses
    a0 = total() if total else 0
    await m.certs.import_file(small["path"], CA, small["name"])
    a1 = total() if total else 0
    count[0] = 0
    t0 = time.ticks_us()
    md5 = await m.certs.import_file(big["path"], CA, big["name"])
    seconds = time.ticks_diff(time.ticks_us(), t0) / 1e6
    a2 = total() if total else 0
    lates = sorted(late[:count[0]])
    stop.append(1)
    await task
    kb = (big["size"] - small["size"]) / 1024
    return {"seconds": seconds, "md5_ok": md5 == big["md5"], "beats": len(lates),
            "stall_max_ms": lates[-1] if lates else None,
            "stall_p99_ms": lates[min(len(lates) - 1, int(len(lates) * 0.99))] if lates else None,
            "alloc_bytes_per_kb": round(((a2 - a1) - (a1 - a0)) / kb, 1) if total else None}


result = asyncio.run(main())
m.close()
uart.deinit()
rig.emit(result)
