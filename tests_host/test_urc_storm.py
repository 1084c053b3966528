"""Foreign URCs against the library: the simulator sends 3GPP URCs (+CEREG,
+CSCON, RING, +CMTI, +CGEV...: ubxsim --urcs) between the lines of every
response and at random offsets of every '>' transfer, while the library
(tests_device/urc_storm.py, on the MicroPython unix port) runs every command
family, imports and profile reads. No call may fail, every answer must be
what it is without URCs, and every URC the simulator sent must have reached
a handler or been counted as dropped by the engine (AtEngine.urc_dropped).

STORM_IMPORTS / STORM_READS set the long run's imports and profile reads
(default 200 of each, unpaced, in `make test`; `make storm` runs 1000 of
each), STORM_RATE its URC rate and STORM_SEED its seed. A shorter run at
115200 baud has the URCs cross the UART the way a real line paces them, with
URCs on the idle line between commands too.
"""

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

import pki
import toolchain
from ubxsim import models

ROOT = Path(__file__).resolve().parent.parent
DEVICE = ROOT / "tests_device"
MICROPYTHON = toolchain.MICROPYTHON
MICROPYPATH = ":".join(str(p) for p in (ROOT / "lib", ROOT / "boards" / "unix" / "lib", DEVICE))
FAMILIES = ("basic", "filesystem", "usecmng", "usecprf")

IMPORTS = int(os.environ.get("STORM_IMPORTS", "200"))
READS = int(os.environ.get("STORM_READS", "200"))
RATE = float(os.environ.get("STORM_RATE", "0.3"))
SEED = int(os.environ.get("STORM_SEED", "1"))


@pytest.fixture(scope="module")
def credentials(tmp_path_factory):
    """What the storm imports, made with the test PKI: every type, every source."""
    ca = pki.TestPki()
    out = tmp_path_factory.mktemp("storm")
    key_pem = ca.client.key_pem()
    key_der = ca.client.key.private_bytes(serialization.Encoding.DER,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
    items = [("ca.pem", 0, "stormCA", "bytes", ca.root.pem, ca.root.der),
             ("cc.der", 1, "stormCC", "file", ca.client.der, ca.client.der),
             ("pk.pem", 2, "stormPK", "bytes", key_pem, key_der),
             ("sc.pem", 3, "stormSC", "module", ca.server.pem, ca.server.der)]
    imports = []
    for fname, kind, name, how, data, der in items:
        path = out / fname
        path.write_bytes(data)
        imports.append({"path": str(path), "kind": kind, "name": name, "from": how,
                        "md5": hashlib.md5(der).hexdigest()})
    return imports


def storm(sim, imports, idle=0, **req):
    """Run the driver against the simulator; its report. Idle URCs (`idle`
    a second) start once the library talks to the module (echo off: what
    comes before it opened the UART is not its to read) and stop before the
    driver's last poll, so that it can read them all."""
    toolchain.require(MICROPYTHON)
    req = dict(req, link=sim.link, imports=imports, pause=True)
    proc = subprocess.Popen([str(MICROPYTHON), "-X", "heapsize=256K", str(DEVICE / "urc_storm.py")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, MICROPYPATH=MICROPYPATH), cwd=str(ROOT))
    try:
        proc.stdin.write(json.dumps(req).encode() + b"\n")
        proc.stdin.flush()
        if idle:
            while sim.control("status")["echo"] and proc.poll() is None:
                time.sleep(0.005)
            sim.control("urcs", idle=idle)
        out = []
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            out.append(line)
            if line == "PAUSE":
                sim.control("urcs", rate=0, idle=0)     # the counts stay
                proc.stdin.write(b"go\n")
                proc.stdin.flush()
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = [l for l in out if l.startswith("R ")]
    assert proc.returncode == 0 and len(lines) == 1, "\n".join(out)
    return json.loads(lines[0][2:])


def check(report, sent, want):
    """No failure, answers as without URCs, every URC handled or counted
    (counted in urc_dropped during a command, in stray on an idle line)."""
    assert report["failed"] == 0, report["failures"]
    assert report["counts"] == dict(want, calls=report["counts"]["calls"]), report["counts"]
    assert report["urc_errors"] == 0, report
    if not sent["by_place"]["idle"]:
        assert report["stray"] == 0, report
    assert report["handled"] + report["dropped"] + report["stray"] == sent["sent"], (report, sent)
    assert report["handled"] > 0 and report["dropped"] > 0, report     # both paths were taken
    for prefix, count in report["seen"].items():
        assert count == sent["by_prefix"].get(prefix.rstrip(":"), 0), (prefix, report, sent)


@pytest.mark.parametrize("model", sorted(models.MODELS))
def test_a_urc_between_every_pair_of_lines_of_every_command_family(sim_factory, credentials,
                                                                    model):
    """Rate 1: a URC at every line boundary of every response and before
    every prompt, and one every 64 bytes (on average) of every transfer.
    Paced at 115200 baud: a listing of a model's pre-installed roots with a
    URC on every line (one before every non-CA import, the replace check)
    is over 1 KB, which an unpaced simulator delivers faster than any wire,
    overflowing the board's 1 KB UART buffer and ring within one wait."""
    sim = sim_factory(baud=115200, families=FAMILIES, model=model, urcs=1.0, urcs_seed=7)
    report = storm(sim, credentials, rounds=2, import_count=4, reads=2)
    sent = sim.control("urcs")
    assert all(sent["by_place"][p] > 0 for p in ("line", "prompt", "transfer")), sent
    check(report, sent, {"families": 2, "imports": 4, "reads": 2})


@pytest.mark.parametrize("baud, imports, reads, idle", [(0, IMPORTS, READS, 0),
                                                       (115200, 20, 20, 20)])
def test_imports_and_profile_reads_under_urcs(sim_factory, credentials, baud, imports, reads,
                                              idle):
    """The long run: 200 imports and 200 profile reads (`make storm`: 1000);
    a paced one with URCs on the idle line too (20 a second)."""
    sim = sim_factory(baud=baud, families=FAMILIES, urcs=RATE, urcs_seed=SEED)
    report = storm(sim, credentials, idle, rounds=1, import_count=imports, reads=reads)
    sent = sim.control("urcs")
    check(report, sent, {"families": 1, "imports": imports, "reads": reads})
    print("\nURC storm at %d baud: %d imports, %d profile reads, %d URCs sent (%s), "
          "%d handled, %d dropped and counted, %d counted as stray while idle, 0 failures, %d ms"
          % (baud, imports, reads, sent["sent"], sent["by_place"], report["handled"],
             report["dropped"], report["stray"], report["ms"]))
