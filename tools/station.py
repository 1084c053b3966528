"""`make station CONFIG=<file> PORTS="p1 p2 ..."`: a provisioning station.

    python tools/station.py examples/provision.json --ports /dev/ttyACM0 /dev/ttyACM1
    python tools/station.py site.json --ports rfc2217://lab1:4001 rfc2217://lab1:4002
    python tools/station.py site.json --lab     # every labgrid place this client has acquired

Every board (a port: a local path or an rfc2217:// URL) is provisioned in a
thread of its own with tools/provision.py's checks (the whole config checked
on the host first) and idempotence (a certificate whose MD5 already matches
is not imported, a setting that reads back as wanted is not written). A
board names its board file itself unless BOARD is given. One board's failure
never stops the others; the exit status is 0 only if every board succeeded.

The record file (--record, default build/station/records.jsonl) gets one
JSON line per device, keyed by its chip ID: every credential's type, name
and MD5, the profiles read back after provisioning (psk_identity left out),
the result, the time and the tool's version; never a key, a password, a PSK
or an identity. Killed and run again, the station resumes: a board whose
chip ID has an "ok" record with the same credential MD5s and profile
settings is skipped, and on the others the MD5 check imports nothing twice.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests_host"))
sys.path.insert(0, str(ROOT / "tools"))

import harness  # noqa: E402
import provision  # noqa: E402

RECORD = ROOT / "build" / "station" / "records.jsonl"
# read back, but never recorded (DESIGN: no PSK identity in logs)
NOT_RECORDED = provision.SECRET + provision.WRITE_ONLY


def lab_ports():
    """The ports of the labgrid places this client has acquired (lab/places.py,
    run on the lab's venv; coordinator $LAB_COORDINATOR as for make lab)."""
    import lab
    proc = subprocess.run([lab.tool("python"), str(ROOT / "lab" / "places.py")], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, LG_COORDINATOR=lab.COORDINATOR))
    if proc.returncode:
        raise lab.LabError("listing the acquired places: " + (proc.stderr or proc.stdout).strip())
    return [json.loads(line)["port"] for line in proc.stdout.splitlines() if line.strip()]


def tool_version():
    """The checkout's commit (and +dirty), as `git describe` gives it."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=str(ROOT),
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        out = ""
    return "ubxsec-station " + (out or "unknown")


def config_digest(certs, profiles):
    """What a record must match to skip a board: the credentials' MD5s (with
    type and name) and the wanted profile settings (hashed: the settings may
    hold a PSK, which is never written to the record)."""
    wanted = json.dumps({str(n): s for n, s in sorted(profiles.items())}, sort_keys=True)
    return [{"type": c.kind, "name": c.name, "md5": c.md5} for c in certs], \
        hashlib.sha256(wanted.encode()).hexdigest()


class Records:
    """The record file: appended one whole line at a time (a kill leaves no
    half record behind that matters: unreadable lines are ignored)."""

    def __init__(self, path):
        self.path = Path(path)
        self.lock = threading.Lock()

    def read(self):
        found = []
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found

    def done(self, chip_id, credentials, settings):
        """The "ok" record of chip_id for this config, or None."""
        for rec in self.read():
            if (rec.get("chip_id") == chip_id and rec.get("result") == "ok"
                    and rec.get("credentials") == credentials and rec.get("settings") == settings):
                return rec
        return None

    def append(self, record):
        line = (json.dumps(record, sort_keys=True) + "\n").encode()
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(str(self.path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)


class Job:
    """One board: its state, shown live and recorded at the end."""

    def __init__(self, port, total):
        self.port = port
        self.total = total
        self.step = "waiting"
        self.rows = []          # provision's table rows, one per item done
        self.base = 0           # steps before the items (deploy, chip ID)
        self.chip_id = None
        self.result = None      # "ok", "skipped", "failed: ..."

    @property
    def done(self):
        return min(self.total, self.base + len(self.rows))


def run_board(job, board, certs, profiles, mpy_for, records, version, credentials, settings, slots):
    with slots:
        _run_board(job, board, certs, profiles, mpy_for, records, version, credentials, settings)


def _run_board(job, board, certs, profiles, mpy_for, records, version, credentials, settings):
    target = harness.Target(job.port)
    try:
        job.step = "deploying"
        board = harness.deploy(target, mpy_for(target), board)
        job.base = 1
        dev = provision.Board(target)
        job.step = "reading the chip ID"
        job.chip_id = dev.call("print('=', json.dumps(m.chip_id()))")
        job.base = 2
        if records.done(job.chip_id, credentials, settings):
            job.result = "skipped"
            job.step = "already provisioned (recorded with the same MD5s)"
            job.base = job.total
            return
        done = {"imported": 0, "changed": 0}
        where = [None]
        try:
            provision._apply(dev, certs, profiles, job.rows, done, where)
        except (provision.ProvisionError, harness.HarnessError) as exc:
            raise provision.ProvisionError("%s: %s" % (where[0], exc)) from None
        job.step = "reading back"
        read_back = {}
        for n in sorted(profiles):
            got = dev.read_profile(n)
            read_back[str(n)] = {k: v for k, v in got.items() if k not in NOT_RECORDED}
        job.result = "ok"
        job.step = "%d imported, %d setting(s) changed" % (done["imported"], done["changed"])
        records.append(_record(job, board, credentials, settings, version, "ok", read_back,
                               done["imported"]))
    except (provision.ProvisionError, harness.HarnessError, ValueError, OSError) as exc:
        job.result = "failed: %s" % exc
        job.step = job.result
        records.append(_record(job, board, credentials, settings, version, job.result, None, None))
    except Exception as exc:   # noqa: BLE001 - one board's failure never stops the others
        job.result = "failed: %s: %s" % (type(exc).__name__, exc)
        job.step = job.result
        records.append(_record(job, board, credentials, settings, version, job.result, None, None))


def _record(job, board, credentials, settings, version, result, read_back, imported):
    # a failure's first line only: the rest is a command's output
    result = result.strip().splitlines()[0][:300] if result.strip() else "failed"
    return {"chip_id": job.chip_id, "port": job.port, "board": board, "credentials": credentials,
            "settings": settings, "profiles": read_back, "imported": imported, "result": result,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "tool": version}


def mpy_cache():
    """The library compiled once per (mpy version, arch), shared by the threads."""
    lock = threading.Lock()
    built = {}

    def mpy_for(target):
        info = target.mpy_info()
        with lock:
            if info not in built:
                out = ROOT / "build" / "station" / ("mpy-%s-%s" % (info[0], info[1] or "bytecode"))
                built[info] = harness.compile_lib(info, out)
            return built[info]
    return mpy_for


def show(jobs, threads, out):
    """Live progress per board (rich) until every thread has ended."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    tty = out.isatty()
    console = Console(file=out, width=None if tty else 200)
    columns = (TextColumn("{task.fields[port]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[step]}"))
    with Progress(*columns, console=console, refresh_per_second=4,
                  transient=False, auto_refresh=console.is_terminal) as progress:
        tasks = [progress.add_task("", total=job.total, port=job.port, step=job.step) for job in jobs]
        shown = [None] * len(jobs)
        while True:
            alive = any(t.is_alive() for t in threads)
            for i, (job, task) in enumerate(zip(jobs, tasks)):
                progress.update(task, completed=job.done, step=job.step)
                # without a terminal: one line per change of step, not a redraw
                if not console.is_terminal and job.step != shown[i]:
                    shown[i] = job.step
                    console.print("%s: %s" % (job.port, job.step), highlight=False, soft_wrap=True)
            if not alive:
                break
            time.sleep(0.1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", help="the provisioning config (as make provision's)")
    parser.add_argument("--ports", nargs="*", default=os.environ.get("PORTS", "").split(),
                        help="the boards' ports (default: $PORTS)")
    parser.add_argument("--board", default=os.environ.get("BOARD", ""),
                        help="board file for every board (default: each board names its own)")
    parser.add_argument("--record", default=os.environ.get("RECORD") or str(RECORD),
                        help="the record file, one JSON line per device")
    parser.add_argument("--lab", action="store_true", default=os.environ.get("LAB") == "1",
                        help="every labgrid place this client has acquired (make lab, make station LAB=1)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS") or 0),
                        help="boards provisioned at a time (default: all)")
    args = parser.parse_args(argv)
    if args.lab:
        import lab
        try:
            args.ports = lab_ports()
        except lab.LabError as exc:
            print("station: %s" % exc, file=sys.stderr)
            return 2
        if not args.ports:
            print("station: this client has acquired no labgrid place (labgrid-client -p <place> acquire)",
                  file=sys.stderr)
            return 2
    if not args.ports:
        print("station: no boards: give PORTS=\"p1 p2 ...\" (local paths or rfc2217:// URLs) or LAB=1",
              file=sys.stderr)
        return 2
    if len(set(args.ports)) != len(args.ports):
        print("station: a port is listed twice: %s" % " ".join(args.ports), file=sys.stderr)
        return 2
    try:
        certs, profiles = provision.load_config(args.config)
    except provision.ConfigError as exc:
        print("station: bad config: %s" % exc, file=sys.stderr)
        return 2
    credentials, settings = config_digest(certs, profiles)
    records = Records(args.record)
    version = tool_version()
    total = 2 + len(certs) + sum(len(s) for s in profiles.values())
    jobs = [Job(port, total) for port in args.ports]
    mpy_for = mpy_cache()
    slots = threading.BoundedSemaphore(args.jobs if args.jobs > 0 else len(jobs))
    threads = [threading.Thread(target=run_board, daemon=True,
                                args=(job, args.board or None, certs, profiles, mpy_for, records,
                                      version, credentials, settings, slots)) for job in jobs]
    for t in threads:
        t.start()
    show(jobs, threads, sys.stdout)
    for t in threads:
        t.join()
    failed = [job for job in jobs if job.result != "ok" and job.result != "skipped"]
    skipped = [job for job in jobs if job.result == "skipped"]
    print("station: %d board(s): %d provisioned, %d skipped (already recorded), %d failed; records in %s"
          % (len(jobs), len(jobs) - len(failed) - len(skipped), len(skipped), len(failed), args.record))
    for job in failed:
        print("  FAILED %s (chip ID %s): %s" % (job.port, job.chip_id or "unread", job.result[8:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
