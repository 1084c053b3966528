"""The 32-bit virtual board: MicroPython's WebAssembly port under node, behind a pty.

    python boards/wasm32/launch.py --link REPLLINK --flash DIR [--uart SIMLINK]
                                   [--heapsize 192K] [--node PATH] [--runtime PATH]
                                   [--mount / | /flash]

- "USB serial": a pty whose slave REPLLINK links to; `mpremote connect
  REPLLINK ...` drives the board's REPL through it. This process owns the pty
  and relays bytes to and from node (boards/wasm32/board.mjs) over pipes.
- The port and its soft reset, flash and UART live in board.mjs (see there);
  the flash is the directory DIR/fs, kept between runs.
- Wiring: the simulator's pty (SIMLINK) is opened here, made raw and
  non-blocking, and handed to node (--uart-fd): the board's /dev/uart0.
- The runtime is the npm package @micropython/micropython-webassembly-pyscript
  that `make wasm32` installs under build/wasm32 (pinned in package.json here).

Prints "vboard ready REPLLINK" once the board has booted, then runs until
SIGTERM/SIGINT or until node exits.
"""

import argparse
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BOARD_JS = os.path.join(HERE, "board.mjs")
RUNTIME = os.path.join(ROOT, "build", "wasm32", "node_modules", "@micropython",
                       "micropython-webassembly-pyscript", "micropython.mjs")
READY_TIMEOUT_S = 30.0
_BACKLOG = 64 * 1024
_STOP_GRACE_S = 3.0


def parse_size(text):
    match = re.fullmatch(r"(\d+)([KkMm]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError("size like 192K, 1M or 65536: %r" % text)
    scale = {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2).lower()]
    return int(match.group(1)) * scale


def open_uart(path):
    """The simulator's pty: raw 8N1, reads return at once."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[6][termios.VMIN] = 0
    attrs[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    return fd


class Launcher:
    def __init__(self, args):
        self.args = args
        self.stopping = False
        self.master = None
        self.node = None

    def start(self):
        args = self.args
        self.master, slave = os.openpty()
        tty.setraw(slave)
        name = os.ttyname(slave)
        # the slave stays open here too: the link works before mpremote opens it
        self._slave = slave
        if os.path.lexists(args.link):
            os.unlink(args.link)
        os.symlink(name, args.link)
        os.set_blocking(self.master, False)
        cmd = [args.node, BOARD_JS, "--runtime", args.runtime, "--flash",
               os.path.join(args.flash, "fs"), "--heapsize", str(args.heapsize),
               "--mount", args.mount]
        pass_fds = ()
        uart = None
        if args.uart:
            uart = open_uart(args.uart)
            cmd += ["--uart-fd", str(uart)]   # node inherits it under the same number
            pass_fds = (uart,)
        self.node = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, pass_fds=pass_fds, cwd=ROOT)
        if uart is not None:
            os.close(uart)
        for stream in (self.node.stdin, self.node.stdout, self.node.stderr):
            os.set_blocking(stream.fileno(), False)

    def run(self):
        to_board = bytearray()
        to_host = bytearray()
        err_line = bytearray()
        ready = False
        deadline = time.monotonic() + READY_TIMEOUT_S
        n_in, n_out, n_err = (self.node.stdin.fileno(), self.node.stdout.fileno(),
                              self.node.stderr.fileno())
        open_fds = {n_out, n_err}
        while not self.stopping and open_fds:
            if not ready and time.monotonic() > deadline:
                raise SystemExit("launch: the board did not boot within %ds" % READY_TIMEOUT_S)
            rlist = [fd for fd in open_fds]
            if len(to_board) < _BACKLOG:
                rlist.append(self.master)
            wlist = ([self.master] if to_host else []) + ([n_in] if to_board else [])
            try:
                readable, writable, _ = select.select(rlist, wlist, [], 0.1)
            except InterruptedError:
                continue
            if self.master in readable:
                to_board += _read(self.master) or b""
            if n_out in readable:
                data = _read(n_out)
                if data is None:
                    open_fds.discard(n_out)
                else:
                    to_host += data
            if n_err in readable:
                data = _read(n_err)
                if data is None:
                    open_fds.discard(n_err)
                else:
                    err_line += data
                    while b"\n" in err_line:
                        line, _, rest = bytes(err_line).partition(b"\n")
                        err_line[:] = rest
                        if line == b"wasm32: booted" and not ready:
                            ready = True
                            print("vboard ready %s" % self.args.link, flush=True)
                        else:
                            sys.stderr.buffer.write(line + b"\n")
                            sys.stderr.flush()
            if to_host and self.master in writable:
                del to_host[:_write(self.master, to_host)]
            if to_board and n_in in writable:
                del to_board[:_write(n_in, to_board)]
        return ready

    def stop(self):
        if self.node is not None and self.node.poll() is None:
            self.node.terminate()
            try:
                self.node.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.node.kill()
                self.node.wait()
        if self.master is not None:
            os.close(self.master)
            os.close(self._slave)
            self.master = None
        if os.path.islink(self.args.link):
            os.unlink(self.args.link)


def _read(fd):
    """Bytes waiting (maybe b""); None at end of file."""
    try:
        data = os.read(fd, 4096)
    except BlockingIOError:
        return b""
    except OSError:   # EIO: the pty's other side is not open right now
        return b""
    return data if data else None


def _write(fd, data):
    try:
        return os.write(fd, data)
    except (BlockingIOError, OSError):
        return 0


def parse_args(argv):
    p = argparse.ArgumentParser(prog="launch.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--link", required=True, help="symlink to create to the board's USB serial pty")
    p.add_argument("--flash", required=True, help="directory holding the board's files (kept)")
    p.add_argument("--uart", help="path of the module's UART (the simulator's --link)")
    p.add_argument("--heapsize", type=parse_size, default=parse_size("192K"),
                   help="initial GC heap of the port (it grows when full)")
    p.add_argument("--node", default=shutil.which("node") or "node", help="node binary")
    p.add_argument("--runtime", default=RUNTIME, help="the port's micropython.mjs")
    p.add_argument("--mount", default="/", choices=("/", "/flash"),
                   help='where the flash is mounted: "/" as on rp2, "/flash" alone as on stm32')
    args = p.parse_args(argv)
    if not os.path.isfile(args.runtime):
        p.error("no WebAssembly port at %s: run `make wasm32`" % args.runtime)
    if not shutil.which(args.node):
        p.error("no node at %s: run `make wasm32`" % args.node)
    return args


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.flash, exist_ok=True)
    launcher = Launcher(args)

    def on_signal(signum, frame):
        launcher.stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        launcher.start()
        ready = launcher.run()
    finally:
        launcher.stop()
    if not launcher.stopping:
        print("launch: node exited (status %s)" % launcher.node.returncode, file=sys.stderr)
        return 1
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
