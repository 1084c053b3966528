# Import timing: each file imported `repeat` times; the median is kept.
# The whole call is timed (command, '>' prompt, data, final result, MD5
# check where the driver does one). The driver is started (echo off, CMEE)
# before the first timing.

import time
import rig

cfg = rig.args()
uart = rig.open_uart(cfg)
drv = rig.make_driver(cfg, uart)
drv.chip_id()
out = []
for item in cfg["files"]:
    runs = []
    md5_ok = True
    for _ in range(cfg.get("repeat", 1)):
        t0 = time.ticks_us()
        md5 = drv.import_file(item["path"], "CA", item["name"])
        runs.append(time.ticks_diff(time.ticks_us(), t0) / 1e6)
        md5_ok = md5_ok and md5 == item["md5"]
    runs.sort()
    out.append({"size": item["size"], "format": item["format"],
                "seconds": runs[len(runs) // 2], "runs": runs, "md5_ok": md5_ok})
drv.close()
uart.deinit()
rig.emit(out)
