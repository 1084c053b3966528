# Memory during an import, per file:
#   alloc: bytes requested from the heap during the import (rig.alloc_start/
#          alloc_stop: micropython.mem_total where the port has it, else
#          gc.mem_alloc with collection off), the least of REPEAT imports;
#   peak:  the highest live heap during the import (a full collection at every
#          UART write() and any(), see rig.BenchUART) above the live heap just
#          before it. The file is imported once unmeasured first, so lazily
#          created objects (the Certs object, its decoder) count as baseline.

import gc
import rig

REPEAT = 3

cfg = rig.args()
uart = rig.open_uart(cfg)
drv = rig.make_driver(cfg, uart)
drv.chip_id()
out = []
for item in cfg["files"]:
    drv.import_file(item["path"], "CA", item["name"])
    # the fewest bytes over a few imports: waiting loops whose length depends
    # on timing (and the rig's reader thread) only ever add to the count
    alloc = None
    for _ in range(REPEAT):
        gc.collect()
        before = rig.alloc_start()
        drv.import_file(item["path"], "CA", item["name"])
        spent = rig.alloc_stop(before)
        if alloc is None or spent < alloc:
            alloc = spent
    uart.start_sampling()
    base = uart.peak
    drv.import_file(item["path"], "CA", item["name"])
    uart.stop_sampling()
    out.append({"size": item["size"], "format": item["format"],
                "alloc": alloc, "peak": uart.peak - base})
drv.close()
uart.deinit()
rig.emit(out)
