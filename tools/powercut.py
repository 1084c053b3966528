"""Power cuts during a credential rotation, at every cut point, on the virtual rig.

    python tools/powercut.py [--board unix64|wasm32|all] [--rotation ca|client|all]
                             [--sample N] [--keep DIR]

A rotation (tools/powercut_board.py on the board, lib/ubxsec/rotate.py) is run
once to number its events: before and after every AT command it sends, after
1, half, all but one and all bytes of every '>' data phase, and between the
steps of every journal write (rotate._hook). Then, for each event n, from the
same starting point (the module simulator's state directory and the board's
flash directory, copied):

1. the simulator and the board start and the rotation runs up to event n; the
   board flushes its flash (wasm32 keeps it in node's memory until then),
   prints "CUT n" and spins; an "after" or data point first waits 300 ms, so
   the module has acted on what it got;
2. both are killed with SIGKILL: the simulator keeps what it had stored
   (credentials.json is written before an answer goes out; an import whose data
   did not all arrive is never stored), the board its flash directory: on
   unix64 a littlefs2 image (flash.img, mounted at /flash as the virtual
   board's own, each block write going straight to the host file), on wasm32
   the directory its file system is mirrored to;
3. both start again and the board runs Rotation.resume() at boot, then reads
   the module and does an HTTPS GET through the profile.

Consistent means: before resume, every name the live profile references is on
the module (nothing was removed before its replacement was in place); after it,
the rotated names are all the old generation or all the new one, each with its
MD5 (the DER's, which the journal recorded at import), no journal is left, no
other generation is left on the module, and the HTTPS GET (a real TLS
handshake with the test server, a client certificate required) succeeds.
Prints "<board> <rotation>: N cut points: N consistent, 0 broken" per run and
a total; exit status 1 if any is broken.

The test server: the new CA is the old root renewed (same key and subject, new
serial and dates), so both generations verify the server's chain; the old and
new client certificates come from the intermediate the server requires.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests_host"))
sys.path.insert(0, str(ROOT / "boards" / "wasm32"))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402

import pki as pkimod  # noqa: E402
from fixtures_board import WASM_RUNTIME  # noqa: E402
from fixtures_sim import SimProcess  # noqa: E402
from https_server import HttpsServer  # noqa: E402

MICROPYTHON = Path(sys.executable).parent / "micropython"
HOST = "server.test"
BOARD_SCRIPT = ROOT / "tools" / "powercut_board.py"
RUN_TIMEOUT = 120


def renewed(root):
    """The root re-issued: same key and subject, new serial and validity."""
    c = root.cert
    now = c.not_valid_before_utc
    b = (x509.CertificateBuilder().subject_name(c.subject).issuer_name(c.subject)
         .public_key(c.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now).not_valid_after(c.not_valid_after_utc + pkimod.DAY * 365))
    for ext in c.extensions:
        b = b.add_extension(ext.value, ext.critical)
    return pkimod.Issued(b.sign(root.key, hashes.SHA256()), root.key)


def der_md5(der):
    return hashlib.md5(der).hexdigest()


class Pki:
    def __init__(self):
        p = pkimod.TestPki()
        self.p = p
        self.old_ca = p.root
        self.new_ca = renewed(p.root)
        self.old_cc = p.client
        self.new_cc = pkimod._issue("ubx-client-2", p.intermediate, client=True)

    def write_board_files(self, flash):
        files = {"oldca.pem": self.old_ca.pem, "newca.pem": self.new_ca.pem,
                 "oldcc.pem": self.old_cc.pem, "newcc.pem": self.new_cc.pem,
                 "oldpk.pem": self.old_cc.key_pem(), "newpk.pem": self.new_cc.key_pem()}
        for name, data in files.items():
            (flash / name).write_bytes(data)

    def md5s(self):
        """role -> (old md5, new md5)"""
        def key(i):
            return der_md5(i.key.private_bytes(serialization.Encoding.DER,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return {"ca": (der_md5(self.old_ca.der), der_md5(self.new_ca.der)),
                "client_cert": (der_md5(self.old_cc.der), der_md5(self.new_cc.der)),
                "client_key": (key(self.old_cc), key(self.new_cc))}


class Board:
    """One run of pcboard.py on a virtual board, its flash directory kept."""

    def __init__(self, kind, flash):
        self.kind = kind
        self.flash = Path(flash)

    def start(self, sim, settings):
        cfg = dict(settings, uart=sim.link if self.kind == "unix64" else 0)
        (self.flash / "pc.json").write_text(json.dumps(cfg))
        if self.kind == "unix64":
            env = dict(os.environ, MICROPYPATH="%s:%s:%s" % (
                self.flash, ROOT / "lib", ROOT / "boards" / "unix" / "lib"))
            return subprocess.Popen([str(MICROPYTHON), "-X", "heapsize=1M",
                                     str(self.flash / "pcboard.py")],
                                    cwd=str(self.flash), env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
        from launch import open_uart
        fd = open_uart(sim.link)
        try:
            return subprocess.Popen(
                ["node", str(ROOT / "boards" / "wasm32" / "board.mjs"), "--runtime",
                 str(WASM_RUNTIME), "--flash", str(self.flash), "--heapsize", str(1024 * 1024),
                 "--uart-fd", str(fd), "--exec", "import pcboard"],
                cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(fd,))
        finally:
            os.close(fd)

    def prepare(self):
        self.flash.mkdir(parents=True, exist_ok=True)
        shutil.copy(BOARD_SCRIPT, self.flash / "pcboard.py")
        if self.kind == "wasm32":
            dest = self.flash / "lib" / "ubxsec"
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(ROOT / "lib" / "ubxsec", dest,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyi"))


def run(board, sim, settings, kill_on_cut=True):
    """(lines, cut label or None). Kills board and simulator at a cut."""
    proc = board.start(sim, settings)
    lines = []
    cut = None
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            lines.append(line)
            if line.startswith("CUT "):
                cut = line
                break
            if time.monotonic() > deadline:
                break
    finally:
        if cut and kill_on_cut:
            os.kill(sim.proc.pid, signal.SIGKILL)
            sim.proc.wait()
        proc.kill()
        proc.wait()
    return lines, cut


class Rig:
    def __init__(self, work, pki, server, model="spec"):
        self.work = Path(work)
        self.pki = pki
        self.server = server
        self.model = model

    def sim(self, state):
        s = SimProcess(self.work, baud=0, state=state, model=self.model, guard_seconds=20)
        s.control("hosts", map={HOST: ["127.0.0.1", self.server.port]})
        return s

    def url(self):
        return "https://%s/" % HOST


def baseline(rig, kind):
    """A state directory and a flash directory with the old generation set up."""
    base = rig.work / ("base-" + kind)
    shutil.rmtree(base, ignore_errors=True)
    state, flash = base / "state", base / "flash"
    state.mkdir(parents=True)
    board = Board(kind, flash)
    board.prepare()
    rig.pki.write_board_files(flash)
    sim = rig.sim(state)
    try:
        lines, _ = run(board, sim, {"mode": "setup", "cut": -1, "url": rig.url()})
    finally:
        sim.stop()
    if "SETUP done" not in lines:
        raise SystemExit("setup on %s failed:\n%s" % (kind, "\n".join(lines)))
    return state, flash


def check(report, rotation, md5s):
    """'' if consistent, else why not."""
    if "error" in report:
        return "resume raised " + report["error"]
    roles = ("ca",) if rotation == "ca" else ("client_cert", "client_key")
    idx = {"ca": 0, "client_cert": 1, "client_key": 2}
    before, after = report["before"], report["after"]
    for ref in before["refs"]:
        if ref not in before["names"]:
            return "before resume the profile references %r, which is not on the module" % ref
    gens = set()
    for role in roles:
        i = idx[role]
        got = after["md5"][i]
        if got == md5s[role][0]:
            gens.add("old")
        elif got == md5s[role][1]:
            gens.add("new")
        else:
            return "%s %r has MD5 %s: neither generation" % (role, after["refs"][i], got)
    if len(gens) != 1:
        return "mixed generations: %s" % after["refs"]
    live = set(after["refs"])
    for name in after["names"]:
        if name.startswith("p2-") and name not in live:
            return "orphan generation entry %r" % name
        if name in ("MyCA", "MyCC", "MyPK") and gens == {"new"} and name not in live:
            return "old generation %r left after commit" % name
    if report["files_after"]:
        return "journal left: %s" % report["files_after"]
    if report["tls"] != "ok":
        return "TLS through the profile failed: " + report["tls"]
    return ""


def scenario(rig, kind, rotation, sample=None, log=print):
    state0, flash0 = baseline(rig, kind)
    settings = {"mode": "rotate", "rot": rotation, "url": rig.url(),
                "scratch": 4 if rotation == "ca" else None}
    md5s = rig.pki.md5s()

    def fresh(tag):
        d = rig.work / ("run-%s-%s-%s" % (kind, rotation, tag))
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(state0, d / "state")
        shutil.copytree(flash0, d / "flash")
        return d / "state", Board(kind, d / "flash")

    state, board = fresh("count")
    sim = rig.sim(state)
    try:
        lines, _ = run(board, sim, dict(settings, cut=-1))
    finally:
        sim.stop()
    total = [int(x.split()[1]) for x in lines if x.startswith("EVENTS ")]
    if not total:
        raise SystemExit("%s %s: the rotation did not complete:\n%s"
                         % (kind, rotation, "\n".join(lines[-20:])))
    points = list(range(total[0] + 1))   # the last: after the rotation ended
    if sample:
        step = max(1, len(points) // sample)
        points = points[step // 2::step][:sample]   # spread, off the ends
    broken = 0
    for n in points:
        state, board = fresh("cut")
        sim = rig.sim(state)
        try:
            lines, cut = run(board, sim, dict(settings, cut=n))
        finally:
            sim.stop()
        label = cut or "end (no cut)"
        sim = rig.sim(state)
        try:
            lines, _ = run(board, sim, {"mode": "resume", "cut": -1, "url": rig.url()})
        finally:
            sim.stop()
        reports = [x[7:] for x in lines if x.startswith("REPORT ")]
        why = check(json.loads(reports[0]), rotation, md5s) if reports else \
            "no report:\n" + "\n".join(lines[-15:])
        if why:
            broken += 1
            log("BROKEN %s %s %s: %s" % (kind, rotation, label, why))
        else:
            resumed = json.loads(reports[0]).get("resume")
            log("ok %s %s %s -> %s" % (kind, rotation, label, resumed))
    n = len(points)
    log("%s %s: %d cut points: %d consistent, %d broken" % (kind, rotation, n, n - broken, broken))
    return n, broken


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="all", choices=("unix64", "wasm32", "all"))
    ap.add_argument("--rotation", default="all", choices=("ca", "client", "all"))
    ap.add_argument("--sample", type=int, default=None, help="only N cut points per run, spread")
    ap.add_argument("--keep", default=None, help="work directory to keep")
    ap.add_argument("--quiet", action="store_true", help="summary lines only")
    args = ap.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="powercut-"))
    work.mkdir(parents=True, exist_ok=True)
    pki = Pki()
    chain = pki.p.write_server_files(str(work), pki.p.server, "srv")
    server = HttpsServer(chain, client_ca=pki.p.intermediate.pem + pki.p.root.pem,
                         require_client_cert=True).start()
    rig = Rig(work, pki, server)
    boards = ("unix64", "wasm32") if args.board == "all" else (args.board,)
    rotations = ("ca", "client") if args.rotation == "all" else (args.rotation,)
    per_board = {}
    try:
        for kind in boards:
            for rotation in rotations:
                log = (lambda line, kind=kind: line.startswith(("BROKEN", kind)) and print(line, flush=True)) \
                    if args.quiet else (lambda line: print(line, flush=True))
                n, broken = scenario(rig, kind, rotation, args.sample, log)
                t = per_board.setdefault(kind, [0, 0])
                t[0] += n
                t[1] += broken
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for kind, (n, broken) in per_board.items():
        print("%s: %d cut points: %d consistent, %d broken" % (kind, n, n - broken, broken))
    n = sum(t[0] for t in per_board.values())
    broken = sum(t[1] for t in per_board.values())
    print("%d cut points: %d consistent, %d broken" % (n, n - broken, broken))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
