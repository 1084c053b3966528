"""Device-side driver of the robustness tests: the library on a real UART.

Runs on the MicroPython unix port with the virtual board's UART class
(boards/unix/lib/vuart.py) opened straight on the simulator's pty, and takes
one JSON request per line on stdin; each answer is one line on stdout that
starts with "R " and holds a JSON object. Requests:

    {"op": "open", "link": PTY, "timeout_ms": .., "guard_ms": .., "probe_ms": ..,
     "quiet_ms": .., "trace": bool}
    {"op": "import", "kind": 0, "name": .., "path": .., "password": ..,
     "from": "file" | "bytes"}
    {"op": "remove", "kind": 0, "name": ..}      a CmeError here is an answer too
    {"op": "chip"}                               AT+USECCHIP
    {"op": "secrets", ...}                       see _secrets()
    {"op": "soak", "count": n, "every": k, ..}   see _soak()
    {"op": "stats"}                              engine and ring counters
    {"op": "quit"}

Every answer carries "ok", the elapsed "ms", and for a failure "err" (the
exception's class name), "typed" (a ubxsec error or ValueError: what the
library promises to raise) and "msg".
"""

import gc
import json
import sys
import time

import ubxsec
from ubxsec import errors
from vuart import UART

_module = None
_trace = []


def _answer(obj):
    sys.stdout.write("R " + json.dumps(obj) + "\n")


def _open(req):
    global _module
    uart = UART(req["link"], baudrate=115200, rxbuf=req.get("rxbuf", 1024), timeout=0)
    sink = _trace.append if req.get("trace") else None
    m = ubxsec.Module(uart, timeout_ms=req.get("timeout_ms", 5000), trace=sink)
    at = m.at
    for key in ("guard_ms", "probe_ms", "quiet_ms"):
        if key in req:
            setattr(at, key, req[key])
    _module = m
    return {"irq": m.irq_mode}


def _import(req):
    certs = _module.certs
    kind = req.get("kind", 0)
    password = req.get("password")
    if req.get("from") == "bytes":
        with open(req["path"], "rb") as f:
            data = f.read()
        md5 = certs.import_bytes(data, kind, req["name"], password)
    else:
        md5 = certs.import_file(req["path"], kind, req["name"], password)
    return {"md5": md5}


def _stats(req=None):
    at = _module.at
    return {"resyncs": at.resyncs, "urc_dropped": at.urc_dropped, "urc_errors": at.urc_errors,
            "stray": at.stray, "ring_lost": _module.ring.lost,
            "overruns": _module.uart.overruns}


def _secrets(req):
    """Import a key with its password, set a key password, a PSK, a PSK
    identity and session data, with the trace on; answers the trace."""
    del _trace[:]
    certs = _module.certs
    with open(req["key_path"], "rb") as f:
        key = f.read()
    out = {"key_md5": certs.import_bytes(key, "PK", req["key_name"], req["key_password"])}
    prof = _module.profile(req.get("profile", 0))
    steps = (("key_password", prof.key_password, (req["key_password"],), {}),
             ("psk", prof.psk, (req["psk"],), {}),
             ("psk_hex", prof.psk, (req["psk_hex"],), {"hex": True}),
             ("psk_identity", prof.psk_identity, (req["psk_identity"],), {}),
             ("ticket", prof.session_data, (3, req["ticket"]), {}),
             ("session_id", prof.session_data, (2, req["session_id"], req["master_secret"]), {}))
    # a refusal by the module is an answer too: its trace must not leak either
    refused = {}
    for name, fn, args, kw in steps:
        try:
            fn(*args, **kw)
        except errors.UbxError as exc:
            refused[name] = type(exc).__name__
    out["refused"] = refused
    # let URCs sent meanwhile (session data from the module) reach the trace
    deadline = time.ticks_add(time.ticks_ms(), req.get("settle_ms", 300))
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        _module.poll()
        time.sleep_ms(5)
    _module.chip_id()
    out["trace"] = list(_trace)
    return out


def _soak(req):
    """`count` transactions (chip ID, MD5 of a root, profile set/read, a
    listing and now and then an import), counting the URCs that arrive in
    between. Samples the heap (after a collection) every `every`
    transactions once `warmup` have run."""
    m = _module
    certs = m.certs
    prof = m.profile(1)
    urcs = [0]

    def on_urc(line):
        urcs[0] += 1

    m.on_urc(req.get("urc_prefix", "+UUSIMFAULT"), on_urc)
    root = req["root"]
    path = req["path"]
    count = req["count"]
    every = req["every"]
    warmup = req["warmup"]
    heap = [0] * ((count - warmup) // every + 1)   # preallocated: sampling must not grow the heap
    samples = 0
    kinds = [0, 0, 0, 0, 0]
    for i in range(count):
        step = i % 50
        if step == 49:
            certs.import_file(path, 0, "Soak")
            kinds[4] += 1
        elif step % 4 == 0:
            m.chip_id()
            kinds[0] += 1
        elif step % 4 == 1:
            certs.md5(0, root)
            kinds[1] += 1
        elif step % 4 == 2:
            prof.validation_level(i % 4)
            assert prof.validation_level() == i % 4
            kinds[2] += 1
        else:
            m.poll()
            prof.tls_version()
            kinds[3] += 1
        done = i + 1
        if done >= warmup and (done - warmup) % every == 0:
            gc.collect()
            heap[samples] = gc.mem_alloc()
            samples += 1
    m.on_urc(req.get("urc_prefix", "+UUSIMFAULT"), None)
    out = {"heap": heap[:samples], "urcs": urcs[0], "kinds": kinds}
    out.update(_stats())
    return out


def _remove(req):
    _module.certs.remove(req.get("kind", 0), req["name"])
    return {}


def _chip(req):
    return {"chip": _module.chip_id()}


_OPS = {"open": _open, "import": _import, "remove": _remove, "chip": _chip,
        "secrets": _secrets, "soak": _soak, "stats": _stats}


def main():
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        req = json.loads(line)
        op = req.get("op")
        if op == "quit":
            _answer({"ok": True})
            break
        start = time.ticks_ms()
        try:
            out = _OPS[op](req)
            out["ok"] = True
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            out = {"ok": False, "err": type(exc).__name__, "msg": str(exc),
                   "typed": isinstance(exc, (errors.UbxError, ValueError)),
                   "code": getattr(exc, "code", None)}
        out["ms"] = time.ticks_diff(time.ticks_ms(), start)
        _answer(out)
    if _module is not None:
        _module.close()
        _module.uart.deinit()


main()
