# Heap held after importing the driver's package, and after importing every
# module a provisioning flow loads (ubxsec loads certs/profiles lazily).
# Also the heap the virtual board's own UART takes (rig_heap: the vuart
# module and an open UART with its buffers), which a board with a C UART
# driver does not spend on code.
#
# Each step first notes the live heap (after a collection) that the previous
# step left, then does its own import. On wasm32 every step is a top-level
# call of its own (bench/run.py WasmDevice): that port collects garbage only
# between top-level calls.

import gc
import sys

MODULES = ("ring", "at", "chip", "md5", "pem", "params", "certs", "profiles", "profiles_more", "session")
STEPS = ("start", "rig", "lib") + MODULES + ("report",)
state = {"prev": None, "mark": 0, "used": {}}


def _note():
    # the live heap now, charged to the previous step
    gc.collect()
    used = gc.mem_alloc()
    if state["prev"] is not None:
        state["used"][state["prev"]] = used - state["mark"]
    state["mark"] = used


def _step(name, fn):
    def run():
        _note()
        state["prev"] = name
        fn()
    return run


def _rig():
    import rig
    state["rig"] = rig
    state["cfg"] = cfg = rig.args()
    state["uart"] = rig.open_uart(cfg)


def _lib():
    if state["cfg"]["driver"] == "naive":
        import naive  # noqa: F401
    else:
        import ubxsec  # noqa: F401


def _module(name):
    def run():
        if state["cfg"]["driver"] == "naive":
            return
        try:
            __import__("ubxsec." + name)
        except ImportError:
            pass
    return run


def _report():
    used = state["used"]
    state["uart"].deinit()
    naive = state["cfg"]["driver"] == "naive"
    by_module = {"ubxsec": used["lib"]}
    for name in MODULES:
        if name in used and "ubxsec." + name in sys.modules:
            by_module[name] = used[name]
    state["rig"].emit({"ram_after_import": used["lib"],
                       "ram_after_import_all": used["lib"] + sum(used.get(n, 0) for n in MODULES),
                       "rig_heap": used["rig"], "ram_by_module": None if naive else by_module})


step_start = _step(None, lambda: None)
step_rig = _step("rig", _rig)
step_lib = _step("lib", _lib)
for _name in MODULES:
    globals()["step_" + _name] = _step(_name, _module(_name))
step_report = _step(None, _report)

if __name__ == "__main__":
    for _name in STEPS:
        globals()["step_" + _name]()
