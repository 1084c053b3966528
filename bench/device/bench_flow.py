# The demo's provisioning flow: chip ID, import the Thawte root from a file
# by byte stream, list, profile 2 with validation level 1 and that root.
# Run under `-X heapsize=N` to find the smallest heap it completes in; any
# failure (MemoryError included) exits non-zero.

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
rig.emit({"ok": ok})
if not ok:
    raise SystemExit(1)
