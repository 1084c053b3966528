# The demo's provisioning flow: chip ID, import the Thawte root from a file
# by byte stream, list, profile 2 with validation level 1 and that root.
# Run under `-X heapsize=N` to find the smallest heap it completes in; any
# failure (MemoryError included) exits non-zero.
#
# Steps (STEPS): run one after the other here; on wasm32 each is a top-level
# call of its own (bench/run.py WasmDevice), because that port collects
# garbage only between top-level calls: a board collects whenever its heap
# is full, so the flow's heap there is at most that of its largest step.

import gc
import rig

STEPS = ("load_lib", "connect", "load_chip", "chip", "load_pem", "load_certs", "import",
         "list", "load_profiles", "profile", "close", "report")
# the bench's own configuration, read with the script (part of the harness
# live before the first step, not of the flow)
state = {"cfg": rig.args()}


def _load(name):
    # the modules the flow loads, one step each (a board collects the
    # loader's garbage as it goes): the same code ends up live either way
    def run():
        if state["cfg"]["driver"] == "naive":
            import naive  # noqa: F401
        else:
            __import__(name)
    return run


step_load_lib = _load("ubxsec")
step_load_chip = _load("ubxsec.chip")
step_load_pem = _load("ubxsec.pem")
step_load_certs = _load("ubxsec.certs")
step_load_profiles = _load("ubxsec.profiles")


def step_connect():
    cfg = state["cfg"]
    uart = rig.open_uart(cfg)
    state["uart"] = uart
    state["drv"] = rig.make_driver(cfg, uart)


def step_chip():
    state["chip"] = bool(state["drv"].chip_id())


def step_import():
    state["md5"] = state["drv"].import_file(state["cfg"]["thawte"], "CA", "ThawteCA")


def step_list():
    state["entries"] = len(state["drv"].list())


def step_profile():
    state["drv"].set_profile(2, 1, "ThawteCA")


def step_close():
    state["drv"].close()
    state["uart"].deinit()
    state["ok"] = (state["md5"] == state["cfg"]["thawte_md5"] and state["entries"] > 0
                   and state["chip"])


def step_report():
    # what stays live after the flow: the loaded code (kept in flash when
    # frozen on a board), the UART and the Module; on wasm32 the bench
    # takes off the harness (live before the first step: rig, vuart, this)
    gc.collect()
    rig.emit({"ok": state["ok"], "live_after": gc.mem_alloc()})
    if not state["ok"]:
        raise SystemExit(1)


if __name__ == "__main__":
    for _name in STEPS:
        globals()["step_" + _name]()
        gc.collect()
