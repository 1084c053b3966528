# For instruction counts (callgrind): the same setup with or without one
# import; run.py takes the difference of the two runs. The setup imports
# a small file first (a warm-up: every module and lazily built object the
# import path needs is loaded), so the difference is the import itself.

import rig

cfg = rig.args()
uart = rig.open_uart(cfg)
drv = rig.make_driver(cfg, uart)
drv.chip_id()
warm = cfg["warm_file"]
drv.import_file(warm["path"], "CA", warm["name"])
md5 = None
if cfg["do_import"]:
    md5 = drv.import_file(cfg["file"]["path"], "CA", cfg["file"]["name"])
drv.close()
uart.deinit()
rig.emit({"md5_ok": md5 == cfg["file"]["md5"] if cfg["do_import"] else None})
