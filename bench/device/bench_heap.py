# Memory during an import, per file:
#   alloc: bytes requested from the heap during the import (micropython.mem_total
#          delta: it counts every allocation and never goes down);
#   peak:  the highest live heap during the import (a full collection at every
#          UART write() and any(), see rig.BenchUART) above the live heap just
#          before it. The file is imported once unmeasured first, so lazily
#          created objects (the Certs object, its decoder) count as baseline.

import gc
import rig

cfg = rig.args()
uart = rig.open_uart(cfg)
drv = rig.make_driver(cfg, uart)
drv.chip_id()
out = []
for item in cfg["files"]:
    drv.import_file(item["path"], "CA", item["name"])
    gc.collect()
    before = rig.mem_total()
    drv.import_file(item["path"], "CA", item["name"])
    alloc = rig.mem_total() - before
    uart.start_sampling()
    base = uart.peak
    drv.import_file(item["path"], "CA", item["name"])
    uart.stop_sampling()
    out.append({"size": item["size"], "format": item["format"],
                "alloc": alloc, "peak": uart.peak - base})
drv.close()
uart.deinit()
rig.emit(out)
