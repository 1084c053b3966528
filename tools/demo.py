"""`make demo`: the spec's example, step by step, on a board through mpremote.

    python tools/demo.py                 # the virtual rig (simulator + unix port)
    PORT=/dev/ttyACM0 BOARD=pico python tools/demo.py   # a real board and module
    PORT=build/vboard/board.tty BOARD=virtual python tools/demo.py   # `make board`'s rig

Steps: chip ID; the Thawte root imported from the board's flash, its MD5
verified; the certificate list; profile 2 set to validation level 1 with that
root; the HTTPS GET (once the library has its HTTP helper). Exit status 0
only if every step succeeded.

A simulated module has no network: its HTTPS requests go where the
simulator's host map (control verb "hosts") sends them. On the rig this
script starts, and on one started by hand (`make board`: its control socket
lies beside the board's pty, or give --control), the demo starts a local
HTTPS server with a throw-away PKI, maps RIG_HOST to it and imports that
PKI's root for the GET.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests_host"))

import harness  # noqa: E402

THAWTE_PEM = ROOT / "tests_device" / "data" / "thawte.pem"
THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"   # the spec's example
THAWTE_CN = "thawte Primary Root CA"
ROOT_NAME = "ThawteCA"
# on the board, under its working directory (/ on rp2, /flash on stm32)
ROOT_ON_FLASH = "certs/thawte.pem"
PROFILE = 2
RIG_DIR = ROOT / "build" / "rig"
RIG_HOST = "server.test"
RIG_ROOT_NAME = "RigTestRoot"
RIG_ROOT_ON_FLASH = "certs/rig_root.pem"

SETUP = "import ubxsec, demo_device as d\nfrom board import uart\nm = ubxsec.Module(uart())"


class StepFailed(Exception):
    pass


class Progress:
    """Shows elapsed time once a step has taken more than a second."""

    def __init__(self, out=sys.stdout):
        self.out = out
        self.tty = out.isatty()
        self._done = threading.Event()
        self._shown = False

    def __enter__(self):
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        if self._done.wait(1.0):
            return
        while not self._done.wait(0.0 if not self._shown else 1.0):
            secs = time.monotonic() - self._start
            self.out.write(("\r    ... %.0fs " % secs) if self.tty else ("    ... %.0fs\n" % secs))
            self.out.flush()
            self._shown = True

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        if self._shown and self.tty:
            self.out.write("\r" + " " * 20 + "\r")
            self.out.flush()


def results(output):
    """The "= ..." lines a device step printed."""
    return [line[2:].strip() for line in output.splitlines() if line.startswith("= ")]


class Demo:
    def __init__(self, target, board):
        self.target = target
        self.board = board
        self.number = 0
        self.extra = []

    def step(self, title, fn):
        self.number += 1
        print("[%d] %s" % (self.number, title), flush=True)
        started = time.monotonic()
        try:
            with Progress():
                detail = fn()
        except (StepFailed, harness.HarnessError) as exc:
            print("    FAILED: %s" % exc, flush=True)
            raise StepFailed(title) from None
        for line in detail if isinstance(detail, list) else [detail]:
            print("    " + line, flush=True)
        print("    ok (%.1fs)" % (time.monotonic() - started), flush=True)

    def device(self, call, reset=False):
        """Run one demo_device call on the board; its "= " lines."""
        code = (SETUP + "\n" if reset else "") + call
        proc = self.target.exec(code, reset=reset, check=False)
        out = proc.stdout + proc.stderr
        if proc.returncode or "Traceback" in out:
            raise StepFailed("the board raised:\n" + out.strip())
        return results(out)

    # -- the steps ---------------------------------------------------------

    def deploy(self):
        info = self.target.mpy_info()
        mpy = harness.compile_lib(info, ROOT / "build" / "mpy")
        self.board = harness.deploy(self.target, mpy, self.board, extra=[
            (ROOT / "examples" / "demo_device.py", "demo_device.py"),
            (THAWTE_PEM, ROOT_ON_FLASH),
        ] + self.extra, mkdirs=("certs",))
        where = self.target.layout()
        return "ubxsec as .mpy (%s) in %s, board %s, %s on the board's flash" % (
            info[1] or "bytecode", where.lib, self.board, where.path(ROOT_ON_FLASH))

    def chip_id(self):
        got = self.device("d.chip_id(m)", reset=True)
        if len(got) != 1 or not got[0]:
            raise StepFailed("no chip ID in %r" % got)
        return "chip ID " + got[0]

    def import_root(self):
        path = self.target.layout().path(ROOT_ON_FLASH)
        got = self.device("d.import_root(m, %r, %r)" % (path, ROOT_NAME))
        if got != [THAWTE_MD5]:
            raise StepFailed("MD5 %r, expected %s" % (got, THAWTE_MD5))
        return "%s (%d bytes) -> MD5 %s verified" % (path, THAWTE_PEM.stat().st_size, got[0])

    def list_certs(self):
        got = self.device("d.list_certs(m)")
        mine = [line for line in got if line.split(" | ")[:3] == ["CA", ROOT_NAME, THAWTE_CN]]
        if not mine:
            raise StepFailed("%s (%s) not in the list:\n%s" % (ROOT_NAME, THAWTE_CN, "\n".join(got)))
        return got

    def set_profile(self):
        got = self.device("d.set_profile(m, %d, %r)" % (PROFILE, ROOT_NAME))
        if got != ["1 %s" % ROOT_NAME]:
            raise StepFailed("profile %d reads back %r" % (PROFILE, got))
        return "profile %d: validation level 1, CA %s (read back)" % (PROFILE, ROOT_NAME)

    def https_get(self, url, server=None):
        """With server (the rig's local HTTPS server, whose chain ends in a
        test root: Thawte's key is not ours), that root is imported from flash
        and made the profile's CA first."""
        lines = []
        if server is not None:
            path = self.target.layout().path(RIG_ROOT_ON_FLASH)
            md5 = self.device("d.import_root(m, %r, %r)" % (path, RIG_ROOT_NAME))
            self.device("d.set_profile(m, %d, %r)" % (PROFILE, RIG_ROOT_NAME))
            lines.append("the rig's server chains to a test root: imported as %s (MD5 %s), "
                         "profile %d CA -> %s" % (RIG_ROOT_NAME, md5[0], PROFILE, RIG_ROOT_NAME))
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise StepFailed("not an https URL: %r" % url)
        got = self.device("d.https_get(m, %d, %r, %r)" % (PROFILE, parts.hostname, parts.path or "/"))
        if not got or not got[0].startswith("200 "):
            raise StepFailed("GET %s answered %r" % (url, got))
        status, size = got[0].split()
        return lines + ["GET %s -> HTTP %s, %s bytes with headers" % (url, status, size)]

    def heap(self):
        got = self.device("d.heap()")
        live, size = (int(v) for v in got[0].split())
        if size > 1 << 24:  # the WebAssembly port grows its heap on demand: no fixed size
            return "%d heap bytes live after the flow (this port grows its heap on demand)" % live
        return "%d of %d heap bytes live after the flow" % (live, size)


def control_socket(path):
    """A call into the simulator's control socket (one JSON line each way):
    control(verb, **args) -> the verb's result."""
    import json
    import socket

    def control(verb, **args):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(10)
                s.connect(str(path))
                s.sendall(json.dumps(dict(args, verb=verb)).encode() + b"\n")
                reply = json.loads(s.makefile().readline())
        except (OSError, ValueError) as exc:
            raise harness.HarnessError("the simulator's control socket %s: %s" % (path, exc)) from None
        if not reply.get("ok"):
            raise harness.HarnessError("the simulator refused %r: %s" % (verb, reply.get("error")))
        return reply.get("result")
    return control


def default_control(port, board):
    """`make board`'s control socket beside its pty, for the virtual board."""
    if board not in ("", "virtual"):
        return ""
    sock = Path(port).parent / "control.sock"
    return str(sock) if sock.is_socket() else ""


class RigServer:
    """A local HTTPS server with a throw-away PKI, reachable from the
    simulated module as RIG_HOST (control: the simulator's control call)."""

    def __init__(self, control, workdir):
        from https_server import HttpsServer
        from pki import TestPki
        pki = TestPki()
        directory = Path(workdir) / "https"
        directory.mkdir(parents=True, exist_ok=True)
        self.root_pem = directory / "root.pem"
        self.root_pem.write_bytes(pki.root.pem)
        self.server = HttpsServer(chain=pki.write_server_files(str(directory), pki.server, "server"))
        self.server.start()
        self.port = self.server.port
        try:
            control("hosts", map={RIG_HOST: ["127.0.0.1", self.port]})
        except BaseException:
            self.server.stop()
            raise

    def stop(self):
        self.server.stop()


def run(target, board, url, server=None):
    demo = Demo(target, board)
    if server is not None:
        demo.extra.append((server.root_pem, RIG_ROOT_ON_FLASH))
    demo.step("deploy to the board", demo.deploy)
    demo.step("chip ID (AT+USECCHIP)", demo.chip_id)
    demo.step("import the Thawte root from flash by byte stream (AT+USECMNG=0)", demo.import_root)
    demo.step("list certificates (AT+USECMNG=3)", demo.list_certs)
    demo.step("profile %d: validation level 1 with that root (AT+USECPRF)" % PROFILE, demo.set_profile)
    demo.step("HTTPS GET through the module (AT+UHTTP, AT+UHTTPC)", lambda: demo.https_get(url, server))
    demo.step("memory", demo.heap)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", default=os.environ.get("PORT", ""),
                        help="mpremote connect string of a real board (default: $PORT; "
                             "empty: the virtual rig)")
    parser.add_argument("--board", default=os.environ.get("BOARD", ""),
                        help="board file in boards/ (default: the one the board names itself)")
    parser.add_argument("--url", default="https://www.example.com/",
                        help="step 5's URL on real hardware (the virtual rig uses its own server)")
    parser.add_argument("--heapsize", default=os.environ.get("HEAPSIZE", ""),
                        help="the virtual board's GC heap, e.g. 32K (default: the board's)")
    parser.add_argument("--mount", default=os.environ.get("VBOARD_MOUNT", ""), choices=("", "/", "/flash"),
                        help="the virtual board's flash mount point: / as on rp2 (default), "
                             "/flash alone as on stm32")
    parser.add_argument("--workdir", default=None,
                        help="the virtual rig's directory (module state, flash), kept between runs "
                             "(default %s; with --control, the control socket's directory)" % RIG_DIR)
    parser.add_argument("--control", default=os.environ.get("CONTROL", ""),
                        help="with --port: the simulator's control socket (default: control.sock "
                             "beside a virtual board's pty, as `make board` makes it); the HTTPS "
                             "step then uses a local server")
    args = parser.parse_args(argv)
    try:
        control = args.control or (default_control(args.port, args.board) if args.port else "")
        if args.port and control:
            print("[0] the simulator's control socket %s: the HTTPS step uses a local server"
                  % control, flush=True)
            server = RigServer(control_socket(control), args.workdir or str(Path(control).parent))
            try:
                print("    HTTPS server https://%s/ on 127.0.0.1:%d (through the simulator's host map)"
                      % (RIG_HOST, server.port), flush=True)
                run(harness.Target(args.port), args.board or None, "https://%s/" % RIG_HOST, server)
            finally:
                server.stop()
        elif args.port:
            run(harness.Target(args.port), args.board or None, args.url)
        else:
            print("[0] start the virtual rig (simulator + MicroPython unix port) in %s"
                  % (args.workdir or RIG_DIR), flush=True)
            rig = harness.VirtualRig(args.workdir or str(RIG_DIR), heapsize=args.heapsize or None,
                                     mount=args.mount or None)
            with Progress():
                rig.__enter__()
            server = None
            try:
                print("    board on %s" % rig.connect, flush=True)
                server = RigServer(rig.sim.control, args.workdir or str(RIG_DIR))
                print("    HTTPS server https://%s/ on 127.0.0.1:%d (through the simulator's host map)"
                      % (RIG_HOST, server.port), flush=True)
                run(harness.Target(rig.connect), args.board or None,
                    "https://%s/" % RIG_HOST, server)
            finally:
                if server is not None:
                    server.stop()
                rig.close()
    except StepFailed as exc:
        print("demo FAILED at: %s" % exc, flush=True)
        return 1
    except harness.HarnessError as exc:
        print("demo FAILED: %s" % exc, flush=True)
        return 1
    print("demo OK: every step succeeded", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
