# URC latency: the host emits `count` URCs "+UUBENCH: <seq>" at a fixed rate
# while this loop keeps the driver busy: a command, then ~20 ms of idle
# polling (as an application's main loop would), again and again. The
# handler stamps each URC with time.time_ns() (wall clock, the same clock
# the simulator side uses on this host).

import sys
import time
import rig

cfg = rig.args()
uart = rig.open_uart(cfg)
drv = rig.make_driver(cfg, uart)
drv.chip_id()
count = cfg["count"]
stamps = []


def on_bench(line):
    stamps.append((int(line[10:]), time.time_ns()))


drv.on_urc("+UUBENCH", on_bench)
print("READY")
if hasattr(sys.stdout, "flush"):
    sys.stdout.flush()
deadline = time.ticks_add(time.ticks_ms(), cfg["max_ms"])
commands = 0
while len(stamps) < count and time.ticks_diff(deadline, time.ticks_ms()) > 0:
    drv.chip_id()
    commands += 1
    for _ in range(10):
        drv.poll()
        time.sleep_ms(2)
drv.close()
uart.deinit()
rig.emit({"stamps": stamps, "commands": commands})
