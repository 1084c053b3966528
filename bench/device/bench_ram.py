# Heap held after importing the driver's package, and after importing every
# module a provisioning flow loads (ubxsec loads certs/profiles lazily).
# Also the heap the virtual board's own UART takes (rig_heap: the vuart
# module and an open UART with its buffers and reader thread), which a
# board with a C UART driver does not spend on code.

import gc

gc.collect()
start = gc.mem_alloc()
import rig  # noqa: E402

cfg = rig.args()
uart = rig.open_uart(cfg)
gc.collect()
rig_heap = gc.mem_alloc() - start

gc.collect()
start = gc.mem_alloc()
if cfg["driver"] == "naive":
    import naive  # noqa: F401
    gc.collect()
    first = all_ = gc.mem_alloc() - start
else:
    import ubxsec  # noqa: F401
    gc.collect()
    first = gc.mem_alloc() - start
    by_module = {"ubxsec": first}
    for name in ("certs", "pem", "md5", "params", "profiles", "ciphers", "session"):
        before = gc.mem_alloc()
        try:
            __import__("ubxsec." + name)
        except ImportError:
            continue
        gc.collect()
        by_module[name] = gc.mem_alloc() - before
    all_ = gc.mem_alloc() - start
uart.deinit()
rig.emit({"ram_after_import": first, "ram_after_import_all": all_, "rig_heap": rig_heap,
          "ram_by_module": by_module if cfg["driver"] != "naive" else None})
