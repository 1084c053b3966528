"""Device-side driver: import each credential of a list through the library
and report what the module said (tests_host/test_device_models.py, on the
MicroPython unix port, its UART opened straight on a simulator's pty).

Takes one JSON object on stdin: {"link": PTY, "imports": [{"path", "kind",
"name"}...]}; prints one line "R <json>": for each import, in order,
{"md5": ..., "listed": bool, "md5_read": ...} when it was stored, or
{"err": class name, "code": .., "text": ..} when it was refused. A stored
entry is removed again before the next import.
"""

import json
import sys

import ubxsec
from ubxsec.errors import AtError
from vuart import UART


def one(m, item):
    certs = m.certs
    try:
        got = certs.import_file(item["path"], item["kind"], item["name"])
    except AtError as exc:
        return {"err": type(exc).__name__, "code": getattr(exc, "code", None),
                "text": getattr(exc, "text", None), "str": str(exc)}
    try:
        return {"md5": got, "md5_read": certs.md5(item["kind"], item["name"]),
                "listed": item["name"] in [e.name for e in certs.list(item["kind"])]}
    finally:
        certs.remove(item["kind"], item["name"])


def main():
    req = json.loads(sys.stdin.readline())
    uart = UART(req["link"], baudrate=115200, rxbuf=1024, timeout=0)
    m = ubxsec.Module(uart, timeout_ms=5000)
    results = [one(m, item) for item in req["imports"]]
    print("R " + json.dumps({"results": results, "dropped": m.at.urc_dropped,
                             "stray": m.at.stray}))


main()
