# The asyncio front end against the event loop: a heartbeat task that wakes
# every 10 ms records how late each wake-up is while ubxsec.aio imports a
# certificate (cfg "files": 1 KB PEM, 8 KB PEM, then the pairs of the
# allocation figures: DER 1 and 8 KB, PEM 4 and 8 KB, whose DER sizes have
# as many digits, so that their commands are as long). Reports the
# heartbeat's longest and 99th-percentile lateness during the timed 8 KB
# PEM import, its duration, and per format what the larger import of its
# pair allocates beyond the smaller one, per KB, heartbeat included: kept =
# gc.mem_alloc() growth with collection off (every object; not a call frame
# the VM takes from the heap and frees at return), total =
# micropython.mem_total() growth (frames too: the unix port's asyncio
# scheduler takes and frees a 144-byte frame each time it looks for work).

import asyncio
import gc
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


async def _alloc(item):
    """(bytes kept, bytes requested) by one import, collection off."""
    total = getattr(micropython, "mem_total", None)
    gc.collect()
    gc.disable()
    try:
        k0 = gc.mem_alloc()
        t0 = total() if total else 0
        await m.certs.import_file(item["path"], CA, item["name"])
        return gc.mem_alloc() - k0, (total() - t0) if total else None
    finally:
        gc.enable()


async def main():
    await m.chip_id()
    small, big = cfg["files"][:2]
    task = asyncio.create_task(heartbeat())
    await asyncio.sleep_ms(50)
    await m.certs.import_file(small["path"], CA, small["name"])   # loads the modules it uses
    out = {}
    pairs = cfg["files"][2:]
    for i in range(0, len(pairs), 2):
        lo, hi = pairs[i], pairs[i + 1]
        kb = (hi["size"] - lo["size"]) / 1024
        await _alloc(lo)
        k1, t1 = await _alloc(lo)
        k8, t8 = await _alloc(hi)
        out["alloc_bytes_per_kb_" + lo["format"]] = round((k8 - k1) / kb, 1)
        out["mem_total_per_kb_" + lo["format"]] = None if t1 is None else round((t8 - t1) / kb, 1)
    count[0] = 0
    t0 = time.ticks_us()
    md5 = await m.certs.import_file(big["path"], CA, big["name"])
    seconds = time.ticks_diff(time.ticks_us(), t0) / 1e6
    lates = sorted(late[:count[0]])
    stop.append(1)
    await task
    out.update({"seconds": seconds, "md5_ok": md5 == big["md5"], "beats": len(lates),
                "stall_max_ms": lates[-1] if lates else None,
                "stall_p99_ms": lates[min(len(lates) - 1, int(len(lates) * 0.99))]
                if lates else None})
    return out


result = asyncio.run(main())
m.close()
uart.deinit()
rig.emit(result)
