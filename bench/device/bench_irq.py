# Zero-allocation IRQ: the ring's handler runs as a hard IRQ (the virtual
# UART calls it with the heap locked; a handler that allocates raises
# MemoryError there and is disabled, as on a board) during a whole import
# and a few commands. Passes if the handler ran and was never disabled.
# Also calls the handler directly under heap_lock() with bytes pending.

import micropython
import time
import rig

cfg = rig.args()
cfg["irq_hard"] = True
uart = rig.open_uart(cfg)
drv = rig.make_driver(cfg, uart)
module = drv.module
irq_mode = module.irq_mode
drv.chip_id()
md5 = drv.import_file(cfg["file"]["path"], "CA", cfg["file"]["name"])
drv.list()
still_attached = uart._handler is not None
calls = module.ring.irq_calls

# direct: bytes waiting in the driver, handler called with the heap locked
module.close()
uart.write(b"AT\r")
time.sleep_ms(50)
direct_ok = True
micropython.heap_lock()
try:
    module.ring.irq_handler(uart)
except MemoryError:
    direct_ok = False
micropython.heap_unlock()
moved = module.ring.any()
uart.deinit()
rig.emit({"irq_mode": irq_mode,
          "irq_calls": calls, "handler_still_attached": still_attached,
          "direct_call_ok": direct_ok, "direct_bytes_moved": moved,
          "md5_ok": md5 == cfg["file"]["md5"]})
