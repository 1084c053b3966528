"""Seeded fault-injected imports through the library on the MicroPython unix port.

Each import gets one fault (kind and options drawn from its own seed), set on
the simulator through its control channel just before the import and
cleared right after. Then:

- an import the library reports successful must be in the simulator's store
  (read from its state file, not through the library) with exactly the
  intended DER, and the MD5 the library returned must be that DER's;
- an import with no fault fired, or only harmless ones (URC bursts while idle
  or inside the data, a late prompt or a stall shorter than the timeout), must
  succeed;
- a failure must be one of the library's typed errors, and not ValueError
  (the arguments are all good: that one means a bad argument);
- the next command (AT+USECCHIP) must succeed;
- no call may run past the bound set by the configured timeouts.

ROBUST_IMPORTS sets the count (default 40; `make soak` runs 1000) and
ROBUST_SEED the first seed. The figures (faults fired by kind, false
successes, recoveries) are printed at the end (pytest -s shows them).
test_fault_seed_regression replays, one at a time, seeds of the full run
that once went wrong.
"""

import base64
import hashlib
import json
import os
import random
import select
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from thawte import THAWTE_DER_MD5
import toolchain

ROOT = Path(__file__).resolve().parent.parent
DEVICE = ROOT / "tests_device"
MICROPYTHON = Path(sys.executable).parent / "micropython"
# UBXSEC_LIB: run another copy of the library (e.g. to try a fix)
LIB = Path(os.environ.get("UBXSEC_LIB", str(ROOT / "lib")))
MICROPYPATH = ":".join(str(p) for p in (LIB, ROOT / "boards" / "unix" / "lib", DEVICE))

IMPORTS = int(os.environ.get("ROBUST_IMPORTS", "40"))
FIRST_SEED = int(os.environ.get("ROBUST_SEED", "1000"))

# Timing of the run: short, so that failures (which wait out timeouts) are
# cheap. The simulator's guard timer is shorter than the library's probe
# interval, so an abandoned data phase ends between two probes.
TIMEOUT_MS = 500
GUARD_MS = 400        # library: wait for the module's guard timer
PROBE_MS = 250        # library: one resync probe
QUIET_MS = 30
SIM_GUARD_S = 0.15
BOOT_S = 0.1
# A call may not take longer than this: startup and command timeouts, a
# guard wait and two rounds of resync probes, plus a stall. Only a hang
# goes past it.
CALL_BOUND_MS = 6 * TIMEOUT_MS + GUARD_MS + 2 * (3 * PROBE_MS + QUIET_MS) + 1000 + 2000
HOST_WAIT_S = 60      # the device process itself answering at all

HARMLESS = ("urc_idle", "urc_transfer", "prompt_late_short", "stall_short")


class LineReader:
    """Lines from a pipe with a deadline (select on the fd sees nothing of
    what a buffered reader has already pulled in, so buffer here)."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = bytearray()

    def readline(self, deadline):
        """The next line (with its newline), b"" at EOF, None past deadline."""
        while True:
            cut = self.buf.find(b"\n")
            if cut >= 0:
                line = bytes(self.buf[:cut + 1])
                del self.buf[:cut + 1]
                return line
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                line = bytes(self.buf)
                self.buf.clear()
                return line
            self.buf += chunk


class DeviceProc:
    """tests_device/robust_import.py in the unix port, one JSON line per request."""

    def __init__(self, heapsize="256K"):
        toolchain.require(MICROPYTHON)
        env = dict(os.environ, MICROPYPATH=MICROPYPATH)
        self.proc = subprocess.Popen(
            [str(MICROPYTHON), "-X", "heapsize=" + heapsize, str(DEVICE / "robust_import.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, cwd=str(ROOT))
        self.out = LineReader(self.proc.stdout.fileno())
        self.noise = []

    def call(self, op, wait_s=HOST_WAIT_S, **req):
        req["op"] = op
        self.proc.stdin.write(json.dumps(req).encode() + b"\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + wait_s
        while True:
            line = self.out.readline(deadline)
            if line is None:
                raise AssertionError("device hung in %r (no answer in %d s)" % (req, wait_s))
            if not line:
                raise AssertionError("device exited: %s" % b"".join(self.noise).decode(errors="replace"))
            if line.startswith(b"R "):
                return json.loads(line[2:])
            self.noise.append(line)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.call("quit", wait_s=5)
            except (AssertionError, OSError):
                pass
            if self.proc.poll() is None:
                self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


@pytest.fixture
def device():
    dev = DeviceProc()
    yield dev
    dev.close()


def stored(state_dir, name):
    """(type, DER) of a user entry, read from the simulator's state file."""
    path = Path(state_dir) / "credentials" / "credentials.json"
    if not path.exists():
        return None
    for item in json.loads(path.read_text())["entries"]:
        if item["name"] == name:
            return item["type"], base64.b64decode(item["der"])
    return None


def pem_der(pem):
    body = b"".join(l for l in pem.splitlines() if l and not l.startswith(b"-----"))
    return base64.b64decode(body)


@pytest.fixture
def sources(tmp_path):
    """(path, kind, intended DER) of what the imports send."""
    pem = (DEVICE / "data" / "thawte.pem").read_bytes()
    der = (DEVICE / "data" / "thawte.der").read_bytes()
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    key_path = tmp_path / "key.der"
    key_path.write_bytes(key)
    assert hashlib.md5(pem_der(pem)).hexdigest() == THAWTE_DER_MD5
    return [(str(DEVICE / "data" / "thawte.pem"), 0, pem_der(pem)),
            (str(DEVICE / "data" / "thawte.der"), 0, der),
            (str(key_path), 2, key)]


def draw_fault(rng, size):
    """(label, fault spec) for one import of `size` bytes."""
    seed = rng.randrange(1 << 30)
    line = 40           # about the bytes of one command line
    label = rng.choice(["drop_in", "corrupt_in", "drop_out", "corrupt_out", "prompt_missing",
                        "prompt_late_short", "prompt_late_long", "urc_idle", "urc_response",
                        "urc_transfer", "spurious_error", "stall_short", "stall_long",
                        "reboot_in_transfer"])
    once = {"times": 1}
    if label in ("drop_in", "corrupt_in"):
        spec = {label: dict(once, p=1.0 / rng.choice([line, size, 2 * size]))}
    elif label in ("drop_out", "corrupt_out"):
        where = rng.choice([["response"], ["prompt"], ["echo", "response", "prompt", "urc"]])
        spec = {label: dict(once, p=rng.choice([0.02, 0.1, 1.0]), where=where)}
    elif label == "prompt_missing":
        spec = {label: once}
    elif label.startswith("prompt_late"):
        short = label.endswith("short")
        seconds = TIMEOUT_MS / 10000 if short else 2 * TIMEOUT_MS / 1000
        spec = {"prompt_late": dict(once, seconds=seconds)}
    elif label.startswith("urc_"):
        spec = {"urc_burst": {"p": rng.choice([0.01, 0.1, 0.5]), "times": rng.randint(1, 3),
                              "where": [label[4:]], "count": rng.randint(1, 4),
                              "lines": ["+UUSIMFAULT: 0"]}}
    elif label == "spurious_error":
        spec = {label: dict(once, p=rng.choice([0.5, 1.0]))}
    elif label.startswith("stall"):
        short = label.endswith("short")
        seconds = TIMEOUT_MS / 10000 if short else 2 * TIMEOUT_MS / 1000
        spec = {"stall": dict(once, seconds=seconds, p=rng.choice([0.5, 1.0]))}
    else:
        spec = {label: dict(once, after=rng.randint(1, size))}
        if rng.random() < 0.5:
            spec["boot_noise"] = {"times": 1, "data": "\x00\xff\r\nNOISE\xfe"}
    spec["seed"] = seed
    return label, spec


def run_imports(sim, device, state, sources, count, first_seed):
    opened = device.call("open", link=sim.link, timeout_ms=TIMEOUT_MS, guard_ms=GUARD_MS,
                         probe_ms=PROBE_MS, quiet_ms=QUIET_MS)
    assert opened["ok"], opened
    fired = Counter()
    tally = Counter()
    problems = []
    for i in range(count):
        seed = first_seed + i
        rng = random.Random(seed)
        path, kind, der = sources[rng.randrange(len(sources))]
        name = "R%d" % (seed % 3)
        how = rng.choice(["file", "bytes"])
        label, spec = draw_fault(rng, len(der))

        # a clean slate for the name, checked in the store itself
        held = stored(state, name)
        gone = device.call("remove", kind=held[0] if held else kind, name=name)
        assert gone["ok"] == (held is not None), (seed, gone)
        assert stored(state, name) is None, (seed, "entry still there before the import")

        sim.control("faults", spec=spec)
        result = device.call("import", kind=kind, name=name, path=path, **{"from": how})
        fired_now = sim.control("faults")["fired"]
        sim.control("faults", spec={})
        fired.update(fired_now)
        after = device.call("chip")

        where = "seed %d (%s %s, %s): %r fired %r" % (seed, label, how, Path(path).name,
                                                       result, fired_now)
        for call in (result, after, gone):
            if call["ms"] > CALL_BOUND_MS:
                problems.append("call ran %d ms: %s" % (call["ms"], where))
        if result["ok"]:
            tally["succeeded"] += 1
            held = stored(state, name)
            want = hashlib.md5(der).hexdigest()
            if held is None or held != (kind, der) or result["md5"] != want:
                tally["false_successes"] += 1
                problems.append("FALSE SUCCESS: %s; store holds %r" % (
                    where, None if held is None else hashlib.md5(held[1]).hexdigest()))
        else:
            tally["failed"] += 1
            tally["failed_" + result["err"]] += 1
            if not result["typed"]:
                problems.append("untyped error: " + where)
            elif result["err"] == "ValueError":  # the arguments are all good
                problems.append("ValueError for a module failure: " + where)
            if not fired_now or label in HARMLESS:
                problems.append("failed without a harmful fault: " + where)
        if fired_now:
            tally["with_fault"] += 1
            if after["ok"]:
                tally["recoveries"] += 1
        if not after["ok"]:
            problems.append("next command failed (%r) after %s" % (after, where))
    stats = device.call("stats")
    return fired, tally, problems, stats


def test_fault_injected_imports(sim_factory, device, sources, tmp_path):
    state = tmp_path / "state"
    sim = sim_factory(baud=0, guard_seconds=SIM_GUARD_S, state=state, boot_seconds=BOOT_S,
                      families=("basic", "filesystem", "usecmng"))
    fired, tally, problems, stats = run_imports(sim, device, state, sources, IMPORTS, FIRST_SEED)
    print("\nrobust imports: %d, seeds %d..%d" % (IMPORTS, FIRST_SEED, FIRST_SEED + IMPORTS - 1))
    print("faults fired by kind: %s" % dict(sorted(fired.items())))
    print("outcomes: %s" % dict(sorted(tally.items())))
    print("engine: %s" % stats)
    assert not problems, "\n".join(problems[:30])
    assert tally["false_successes"] == 0
    # the run exercised what it claims to
    assert sum(fired.values()) > 0 and tally["succeeded"] > 0
    if IMPORTS >= 200:
        assert tally["failed"] > 0 and len(fired) >= 8, (fired, tally)


# Seeds of the full run whose fault left the library out of step with the
# module; each runs alone here, and passes once the library handles it.
#  1411: a byte dropped from the size field: the module ends the data phase
#        early (refusing the import) and reads the rest of the PEM as
#        command lines; the last one has no CR yet, so the next command is
#        appended to it ("...CERTIFICATE-----AT+USECCHIP") and fails.
#  1922: a corrupted '>' prompt leaves a non-UTF-8 line marked bad; the
#        import ends with +CME ERROR (guard timer), the mark survives it and
#        the next command fails "while idle"; the import itself is reported
#        as a ValueError (a bad argument) though the arguments were good.
#  1356: a spurious ERROR to the import command of a PEM file: nothing was
#        streamed, yet the import raises ValueError ("PEM: no BEGIN line")
#        instead of the module's error (so does any refusal before the
#        prompt, e.g. a pre-installed root's name).
@pytest.mark.parametrize("seed", [1356, 1411, 1922])
def test_fault_seed_regression(sim_factory, device, sources, tmp_path, seed):
    state = tmp_path / "state"
    sim = sim_factory(baud=0, guard_seconds=SIM_GUARD_S, state=state, boot_seconds=BOOT_S,
                      families=("basic", "filesystem", "usecmng"))
    fired, tally, problems, stats = run_imports(sim, device, state, sources, 1, seed)
    assert fired, "the fault of seed %d did not fire" % seed
    assert not problems, "\n".join(problems)
