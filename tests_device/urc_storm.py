"""Device-side driver of the URC storm (tests_host/test_urc_storm.py): the
library on the MicroPython unix port, its UART opened straight on the pty
of a simulator that sends foreign 3GPP URCs (ubxsim --urcs) between the
lines of every response and inside every '>' transfer.

Takes one JSON object on stdin:

    {"link": PTY, "imports": [{"path", "kind", "name", "from": "bytes" | "file"
     | "module", "md5"}...], "rounds": n, "import_count": n, "reads": n,
     "profile": id, "pause": bool}

and runs, in order: `rounds` passes over every command family (chip ID, the
+USECMNG op codes 0-4 and its test form, the file system, +USECPRF set and
read, a refusal); the imports of the list in turn until `import_count`
are done; `reads` full profile reads (SecurityProfile.
read_all). Every result is checked against what it must be without URCs.
With "pause", prints "PAUSE" before its last poll and waits for a line on
stdin (the host stops the simulator's idle URCs meanwhile). Prints one line
"R <json>": the counts of what ran, every failure (its call
and exception), what the URC handlers saw by prefix, and the engine's
urc_dropped, urc_errors and stray counters.

Handlers are registered for half of the URC prefixes; the other half have
none, so the engine must drop and count them.
"""

import json
import sys
import time

import ubxsec
from ubxsec.errors import CmeError
from vuart import UART

HANDLED = ("+CEREG:", "+CREG:", "+CGREG:", "+CSCON:", "+CIEV:", "RING")
PROFILE_CONFIG = {"validation_level": 2, "tls_version": 3, "cipher_list": [0xC02B, 0xC02F],
                  "ca_name": "stormCA", "server_hostname": "storm.example",
                  "sni": "storm.example", "psk_identity": ("storm-id", False),
                  "pinning": ("stormCA", 1), "ztp": 1, "alpn": "h2", "database": 2}


class Run:
    def __init__(self, m):
        self.m = m
        self.seen = {}
        self.failures = []
        self.counts = {"imports": 0, "reads": 0, "families": 0, "calls": 0}
        for prefix in HANDLED:
            m.on_urc(prefix, self._handler(prefix))

    def _handler(self, prefix):
        def handle(line):
            if not line.startswith(prefix):
                raise AssertionError(line)
            self.seen[prefix] = self.seen.get(prefix, 0) + 1
        return handle

    def check(self, what, fn, *args):
        """Call fn(*args); a failure is recorded (never raised)."""
        self.counts["calls"] += 1
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            self.failures.append("%s: %s: %s" % (what, type(exc).__name__, exc))
            return None


def _expect(got, want, what):
    if got != want:
        raise AssertionError("%s: %r, not %r" % (what, got, want))
    return got


def _import(m, item):
    certs = m.certs
    how = item["from"]
    if how == "bytes":
        with open(item["path"], "rb") as f:
            got = certs.import_bytes(f.read(), item["kind"], item["name"])
    elif how == "file":
        got = certs.import_file(item["path"], item["kind"], item["name"])
    else:   # upload to the module's file system, then op 1
        certs.upload(item["path"], "storm.bin")
        try:
            got = certs.import_from_module_file("storm.bin", item["kind"], item["name"],
                                                expect_md5=item["md5"])
        finally:
            m.at.command('+UDELFILE="storm.bin"')   # AT+UDWNFILE appends to a file
    return _expect(got.lower(), item["md5"], "import %s" % item["name"])


def _families(m, imports):
    """One pass over every command family; raises on the first wrong answer."""
    certs = m.certs
    chip = m.chip_id()
    _expect(m.chip_id(), chip, "chip ID")
    first = imports[0]
    _import(m, first)
    _expect(certs.md5(first["kind"], first["name"]).lower(), first["md5"], "md5")
    listed = [e.name for e in certs.list()]
    if first["name"] not in listed or "ubx_digicert_global_root_ca" not in listed:
        raise AssertionError("list: %r" % listed)
    _expect([e.name for e in certs.list(first["kind"]) if e.name == first["name"]],
            [first["name"]], "list by type")
    lines = m.at.command("+USECMNG=?")
    _expect(len(lines), 1, "test form")
    certs.remove(first["kind"], first["name"])
    try:
        certs.md5(first["kind"], first["name"])
    except CmeError:
        pass
    else:
        raise AssertionError("md5 of a removed entry answered")
    module_file = [i for i in imports if i["from"] == "module"]
    if module_file:
        _import(m, module_file[0])
        certs.remove(module_file[0]["kind"], module_file[0]["name"])
    lines = m.at.command("+ULSTFILE=1")
    if len(lines) != 1 or not lines[0].startswith("+ULSTFILE: "):
        raise AssertionError("ULSTFILE: %r" % lines)
    p = m.profile(3)
    p.apply(PROFILE_CONFIG, reset=True)
    got = p.read_all()
    for key in ("cipher_list", "pinning", "psk_identity", "alpn", "database"):
        _expect(got[key], PROFILE_CONFIG[key], "profile " + key)
    p.reset()


def main():
    req = json.loads(sys.stdin.readline())
    uart = UART(req["link"], baudrate=115200, rxbuf=req.get("rxbuf", 1024), timeout=0)
    m = ubxsec.Module(uart, timeout_ms=req.get("timeout_ms", 5000))
    run = Run(m)
    imports = req["imports"]
    start = time.ticks_ms()
    for _ in range(req.get("rounds", 1)):
        failed = len(run.failures)
        run.check("families", _families, m, imports)
        if len(run.failures) == failed:
            run.counts["families"] += 1
    for i in range(req.get("import_count", len(imports))):
        item = imports[i % len(imports)]
        if run.check("import %d" % i, _import, m, item) is not None:
            run.counts["imports"] += 1
    for item in imports:
        run.check("remove", _remove_quietly, m, item)
    p = m.profile(req.get("profile", 2))
    run.check("profile apply", p.apply, PROFILE_CONFIG, True)
    want = run.check("profile read", p.read_all)
    for i in range(req.get("reads", 0)):
        got = run.check("read %d" % i, p.read_all)
        if got is not None:
            if got == want:
                run.counts["reads"] += 1
            else:
                run.failures.append("read %d: %r, not %r" % (i, got, want))
    run.check("profile reset", p.reset)
    if req.get("pause"):
        # the host stops the idle URCs, then lets the last ones be read
        print("PAUSE")
        sys.stdin.readline()
    time.sleep_ms(50)
    run.check("poll", m.poll)
    at = m.at
    print("R " + json.dumps({
        "counts": run.counts, "failures": run.failures[:20], "failed": len(run.failures),
        "seen": run.seen, "handled": sum(run.seen.values()), "dropped": at.urc_dropped,
        "urc_errors": at.urc_errors, "stray": at.stray, "resyncs": at.resyncs,
        "ms": time.ticks_diff(time.ticks_ms(), start)}))


def _remove_quietly(m, item):
    try:
        m.certs.remove(item["kind"], item["name"])
    except CmeError:
        pass


main()
