"""`make lab RIGS=N` / `make test-lab RIGS=N`: a labgrid lab of virtual rigs
on this machine, and the HIL suite on every place of it at once.

    python tools/lab.py serve --rigs 2          # until Ctrl-C
    python tools/lab.py test --rigs 2           # serve, acquire, run, release, stop
    python tools/lab.py run --places "p1 p2"    # a lab's existing places (LAB_COORDINATOR)

labgrid lives in a virtual environment of its own (LAB_VENV, build/venv-lab:
it replaces pyserial with its fork, so never in .venv); this script runs on
.venv and calls labgrid's three programs from there:

- labgrid-coordinator on 127.0.0.1 (LAB_COORDINATOR);
- N virtual rigs (the simulator, its control channel on TCP 127.0.0.1, and
  the virtual board), each a resource group rigK of one labgrid-exporter
  (exporter.yaml: a RawSerialPort on the board's pty, which the exporter
  publishes through ser2net as a NetworkSerialPort);
- places rigK matching */rigK/*, tagged board=virtual, module=<model> and
  control_port=<the simulator's TCP control port on the exporter's host>.

The exporter's ser2net is Debian's, run through lab/bin/ser2net (first on the
exporter's PATH): it binds to 127.0.0.1 only and takes one client at a time,
so a second mpremote is refused instead of breaking the first one's command.

`test` acquires every place, runs tests_host/test_device_suite.py on all of
them in parallel (pytest-xdist --dist each: one worker per place, through
labgrid's pytest plugin with lab/env.yaml; lab/conftest.py maps worker K to
place rigK+1 and refuses a place this client has not acquired), writes
build/lab/junit-rigK.xml per place and releases the places.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests_host"))
sys.path.insert(0, str(ROOT / "sim"))

LAB_DIR = ROOT / "build" / "lab"
LAB_VENV = Path(os.environ.get("LAB_VENV") or ROOT / "build" / "venv-lab")
COORDINATOR = os.environ.get("LAB_COORDINATOR") or "127.0.0.1:20408"
WRAPPERS = ROOT / "lab" / "bin"  # lab/bin/ser2net: Debian's ser2net, on 127.0.0.1, one client


class LabError(Exception):
    pass


def tool(name):
    path = LAB_VENV / "bin" / name
    if not path.exists():
        raise LabError("%s missing: run `make lab` (it installs labgrid into %s)" % (path, LAB_VENV))
    return str(path)


def client(*args, check=True, timeout=60, coordinator=None):
    cmd = [tool("labgrid-client"), "-x", coordinator or COORDINATOR] + list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode:
        raise LabError("%s: %s" % (" ".join(cmd[3:]), (proc.stderr or proc.stdout).strip()))
    return proc


def tag_value(text):
    """A labgrid tag value: lower case letters, digits and _."""
    return "".join(c if c.isalnum() else "_" for c in text.lower())


def exporter_config(rigs):
    """exporter.yaml: one group per rig, its board's pty (resolved: the
    exporter takes /dev/ paths only) as a RawSerialPort."""
    lines = []
    for name, pty in rigs:
        lines += ["%s:" % name, "  RawSerialPort:", "    port: %s" % pty, "    speed: 115200"]
    return "\n".join(lines) + "\n"


class Lab:
    def __init__(self, count, workdir=LAB_DIR, coordinator=None):
        self.count = count
        self.workdir = Path(workdir)
        self.coordinator = coordinator or COORDINATOR
        self.procs = []          # coordinator, exporter
        self.rigs = []           # (name, SimProcess, VBoard)
        self.logs = []

    def _spawn(self, name, cmd, env=None):
        log = open(self.workdir / (name + ".log"), "wb")
        self.logs.append(log)
        # in the lab's directory: the coordinator keeps its places.yaml there
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=str(self.workdir), start_new_session=True)
        self.procs.append(proc)
        return proc

    def start(self):
        from fixtures_board import VBoard
        from fixtures_sim import SimProcess
        self.workdir.mkdir(parents=True, exist_ok=True)
        state = self.workdir / "state.json"
        if state.exists():
            old = json.loads(state.read_text())
            if _alive(old.get("pid")):
                raise LabError("a lab is already running (pid %d, places %s): stop it first (Ctrl-C "
                               "in its terminal)" % (old["pid"], ", ".join(old["places"])))
            state.unlink()
        self._spawn("coordinator", [tool("labgrid-coordinator"), "-l", self.coordinator])
        self._wait(lambda: self.client("places", check=False).returncode == 0, "the coordinator")
        for k in range(1, self.count + 1):
            name = "rig%d" % k
            rigdir = self.workdir / name
            rigdir.mkdir(exist_ok=True)
            sim = SimProcess(rigdir, baud=115200, state=rigdir / "module", control="tcp:0")
            board = VBoard(rigdir, uart=sim.link, flash=rigdir / "flash")
            self.rigs.append((name, sim, board))
        (self.workdir / "exporter.yaml").write_text(
            exporter_config([(name, os.path.realpath(board.connect)) for name, _, board in self.rigs]))
        env = dict(os.environ, PATH="%s:%s" % (WRAPPERS, os.environ.get("PATH", "")))
        self._spawn("exporter", [tool("labgrid-exporter"), "-c", self.coordinator, "-n", "ubxsec-lab",
                                 "--hostname", "127.0.0.1", str(self.workdir / "exporter.yaml")], env=env)
        for name, sim, _ in self.rigs:
            self._wait(lambda n=name: "/%s/NetworkSerialPort" % n in self.client("resources", check=False).stdout,
                       "the exporter's %s" % name)
            self.client("-p", name, "delete", check=False)
            self.client("-p", name, "create")
            self.client("-p", name, "add-match", "ubxsec-lab/%s/*" % name)
            model = sim.control("status")["model"]
            self.client("-p", name, "set-tags", "board=virtual", "module=" + tag_value(model),
                   "control_port=%s" % sim.control_path.rsplit(":", 1)[1])
        state.write_text(json.dumps({"pid": os.getpid(), "coordinator": self.coordinator,
                                     "places": [name for name, _, _ in self.rigs]}))
        return [name for name, _, _ in self.rigs]

    def client(self, *args, **kw):
        return client(*args, coordinator=self.coordinator, **kw)

    def _wait(self, ready, what, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise LabError("%s ended (status %s): see %s" % (proc.args[0], proc.returncode, self.workdir))
            if ready():
                return
            time.sleep(0.3)
        raise LabError("%s not ready after %d s (logs in %s)" % (what, seconds, self.workdir))

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs = []
        for _, sim, board in self.rigs:
            board.stop()
            sim.stop()
        self.rigs = []
        for log in self.logs:
            log.close()
        (self.workdir / "state.json").unlink(missing_ok=True)


def _alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def run_tests(lab, places, acquire=True, select=None, junit_dir=LAB_DIR, capture=False):
    """Acquire every place (unless acquire is False: then the run must refuse
    them), run the device suite on all of them in parallel (select: a -k
    expression), release them; the pytest process."""
    acquired = []
    try:
        for name in places if acquire else ():
            lab.client("-p", name, "acquire")
            acquired.append(name)
        env = dict(os.environ, LG_COORDINATOR=lab.coordinator, LAB_PLACES=" ".join(places),
                   LAB_JUNIT_DIR=str(junit_dir), VBOARD="unix64")
        for key in ("PORT", "BOARD", "RIG_CONTROL", "RIG_TOKEN", "LG_PLACE"):
            env.pop(key, None)
        cmd = [tool("python"), "-m", "pytest", "-c", str(ROOT / "lab" / "pytest.ini"),
               "--rootdir", str(ROOT / "lab"), "-p", "no:cacheprovider",
               "--lg-env", str(ROOT / "lab" / "env.yaml"),
               "-n", str(len(places)), "--dist", "each", str(ROOT / "lab" / "test_lab_suite.py")]
        if select:
            cmd += ["-k", select]
        print("running the device suite on %s: %s" % (", ".join(places), " ".join(cmd)), flush=True)
        return subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=capture, text=True)
    finally:
        for name in acquired:
            lab.client("-p", name, "release", check=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("serve", "test", "run"))
    parser.add_argument("--rigs", type=int, default=int(os.environ.get("RIGS") or 2))
    parser.add_argument("--places", default=os.environ.get("PLACES", ""),
                        help="run: the places of a running lab to test (acquired, then released)")
    args = parser.parse_args(argv)
    if args.action == "run":
        places = args.places.split()
        if not places:
            print("lab: run needs --places (PLACES=\"p1 p2\")", file=sys.stderr)
            return 2
        try:
            return run_tests(Lab(0), places).returncode
        except LabError as exc:
            print("lab: %s" % exc, file=sys.stderr)
            return 1
    if not 1 <= args.rigs <= 16:
        print("lab: RIGS is 1..16", file=sys.stderr)
        return 2
    lab = Lab(args.rigs)
    # Ctrl-C and SIGTERM stop the lab (a background job starts with SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        places = lab.start()
        print("lab up: coordinator %s, places %s (tags: board, module, control_port)"
              % (lab.coordinator, ", ".join(places)), flush=True)
        if args.action == "test":
            status = run_tests(lab, places).returncode
            print("lab: JUnit XML per place in %s" % LAB_DIR.relative_to(ROOT), flush=True)
            return status
        print("  %s -x %s places -v" % (tool("labgrid-client"), lab.coordinator))
        print("Ctrl-C to stop", flush=True)
        while True:
            time.sleep(3600)
    except LabError as exc:
        print("lab: %s" % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        lab.stop()


if __name__ == "__main__":
    sys.exit(main())
