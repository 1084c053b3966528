# The demo's provisioning flow: chip ID, import the Thawte root from a file
# by byte stream, list, profile 2 with validation level 1 and that root.
# Run under `-X heapsize=N` to find the smallest heap it completes in; any
# failure (MemoryError included) exits non-zero.

import gc
import rig

cfg = rig.args()
uart = rig.open_uart(cfg)
drv = rig.make_driver(cfg, uart)
chip = drv.chip_id()
md5 = drv.import_file(cfg["thawte"], "CA", "ThawteCA")
entries = drv.list()
drv.set_profile(2, 1, "ThawteCA")
drv.close()
uart.deinit()
ok = md5 == cfg["thawte_md5"] and len(entries) > 0 and bool(chip)
del entries
gc.collect()
# what stays live after the flow: the loaded code (kept in flash when frozen
# on a board) plus the virtual UART driver (C on a board)
rig.emit({"ok": ok, "live_after": gc.mem_alloc()})
if not ok:
    raise SystemExit(1)
