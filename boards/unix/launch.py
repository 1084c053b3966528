"""The virtual board: MicroPython's unix port made to look like a Pico to mpremote.

    python boards/unix/launch.py --link REPLLINK --flash DIR [--uart SIMLINK]
                                 [--heapsize 192K] [--micropython PATH]
                                 [--mount /flash]

- "USB serial": a pty whose slave REPLLINK links to; `mpremote connect
  REPLLINK ...` talks to the board's REPL through it.
- The interpreter runs on a second pty (its controlling terminal), so Ctrl-C
  interrupts running code the way the unix port expects (SIGINT), and this
  process relays bytes between the two ptys.
- Soft reset: the unix port exits on Ctrl-D (raw or friendly REPL) and on
  SystemExit. A board instead reboots its interpreter, so this launcher
  starts a fresh one, prints "MPY: soft reboot" and, if the board was in the
  raw REPL, enters the raw REPL again before handing the output back: the
  host sees what a board sends ("OK", "MPY: soft reboot", boot.py's output,
  "raw REPL; CTRL-B to exit", ">").
- Flash: DIR/flash.img, a littlefs2 image of a Pico's flash filesystem size,
  mounted at "/" by boards/unix/_boot.py (see there), with /lib/vuart.py.
  `--mount /flash` mounts it at /flash only, as stm32 does: nothing at "/",
  sys.path ['', '.frozen', '/flash', '/flash/lib'], cwd /flash.
- Wiring: UART(0) on the board opens /dev/uart0, a link to SIMLINK.

Prints "vboard ready REPLLINK" once the board has booted, then runs until
SIGTERM/SIGINT.
"""

import argparse
import errno
import fcntl
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT_SCRIPT = os.path.join(HERE, "_boot.py")
DRIVERS_DIR = os.path.join(HERE, "lib")

FLASH_BYTES = 1408 * 1024   # a Pico's (RP2040, 2 MB) flash filesystem
FLASH_IMAGE = "flash.img"

_MARK = b"\x1b]vboard;"
BOOTED = _MARK + b"booted\x07"
RESET = _MARK + b"reset\x07"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
FRIENDLY_BANNER = b'Type "help()" for more information.\r\n'
SOFT_REBOOT = b"MPY: soft reboot\r\n"
CTRL_A = b"\x01"

_BACKLOG = 64 * 1024      # bytes queued one way before that side stops being read
_HOLD_MS = 50             # a possible marker prefix is held at most this long
_STOP_GRACE_S = 2.0
_SIGINT_GAP_S = 0.25      # at most one SIGINT per this long (see Interpreter.interrupt)
CTRL_C = 0x03


class BootFailed(Exception):
    pass


class OutputFilter:
    """The interpreter's output on its way to the host, for one interpreter life.

    Strips the boot markers, notes whether the REPL last announced raw or
    friendly mode, and after a restart into the raw REPL swallows the unix
    port's banner up to its "raw REPL" line.
    """

    def __init__(self, enter_raw, quiet=False, mode="friendly"):
        self.enter_raw = enter_raw  # restarted from the raw REPL: enter it again
        self.quiet = quiet          # ...and show only its prompt (not the banner)
        self.mode = mode
        self.booted = False
        self.reset = False
        self.failed = False         # the REPL started without the boot marker
        self.want_raw = False       # the launcher should send Ctrl-A now
        self._state = "boot"
        self._held = b""
        self._tail = b""            # last bytes forwarded, to find split banners
        self.last = b""             # last bytes forwarded (how the interpreter ended)
        self.early = b""            # output before the boot marker, for errors

    def feed(self, data):
        buf = self._held + data
        self._held = b""
        out = []
        while buf:
            if self._state == "swallow":
                i = buf.find(RAW_BANNER)
                if i < 0:
                    self._held = buf[-(len(RAW_BANNER) - 1):]
                    break
                self._state = "run"
                buf = buf[i + len(RAW_BANNER):] if self.quiet else buf[i:]
                continue
            i = buf.find(_MARK)
            if i < 0:
                keep = _partial_prefix(buf, _MARK)
                out.append(buf[:len(buf) - keep])
                self._held = buf[len(buf) - keep:]
                break
            out.append(buf[:i])
            rest = buf[i:]
            if rest.startswith(BOOTED):
                self.booted = True
                if self.enter_raw:
                    self._state = "swallow"
                    self.want_raw = True
                else:
                    self._state = "run"
                buf = rest[len(BOOTED):]
            elif rest.startswith(RESET):
                self.reset = True
                buf = rest[len(RESET):]
            elif BOOTED.startswith(rest) or RESET.startswith(rest):
                self._held = rest
                break
            else:
                out.append(rest[:1])
                buf = rest[1:]
        return self._forward(b"".join(out))

    def flush(self):
        """Release held bytes that turned out not to be a marker."""
        if self._state == "swallow" or not self._held:
            return b""
        held, self._held = self._held, b""
        return self._forward(held)

    def _forward(self, data):
        if not data:
            return data
        seen = self._tail + data
        raw_at = seen.rfind(RAW_BANNER)
        friendly_at = seen.rfind(FRIENDLY_BANNER)
        if raw_at >= 0 or friendly_at >= 0:
            self.mode = "raw" if raw_at > friendly_at else "friendly"
        if self._state == "boot" and friendly_at >= 0 and not self.booted:
            self.failed = True
        self._tail = seen[-len(FRIENDLY_BANNER):]
        self.last = (self.last + data)[-16:]
        if not self.booted:
            self.early = (self.early + data)[-4096:]
        return data


def _partial_prefix(buf, prefix):
    """Length of the longest tail of buf that is a proper prefix of prefix."""
    for n in range(min(len(buf), len(prefix) - 1), 0, -1):
        if prefix.startswith(buf[-n:]):
            return n
    return 0


class Interpreter:
    """One run of the unix port on its own pty (its controlling terminal)."""

    def __init__(self, argv, env, cwd):
        self.master, slave = os.openpty()
        # Raw, without ISIG: the tty never turns Ctrl-C into a signal itself
        # (the unix port keeps the terminal raw while raw-paste code runs, and
        # a SIGINT between two programs would kill it); interrupt() does.
        tty.setraw(slave)
        self._last_sigint = 0.0
        try:
            self.proc = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                start_new_session=True, preexec_fn=_take_controlling_tty)
        finally:
            os.close(slave)
        os.set_blocking(self.master, False)

    def read(self):
        """Bytes waiting; b"" if none; None once the interpreter has gone."""
        try:
            return os.read(self.master, 4096)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:
                return None
            raise

    def write(self, data):
        try:
            return os.write(self.master, data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            if exc.errno == errno.EIO:
                return 0
            raise

    def interrupt(self):
        """Ctrl-C from the host: True if it interrupted running code.

        The unix port installs its SIGINT handler only while it runs code
        (the board's "interrupt character" is armed then), so the handler
        being installed is the test. A board consumes the Ctrl-C then; at a
        prompt it is an ordinary input byte. A second SIGINT before the
        first is handled makes the unix port exit, hence the rate limit.
        """
        if not self._sigint_caught():
            return False
        now = time.monotonic()
        if now - self._last_sigint >= _SIGINT_GAP_S:
            self._last_sigint = now
            try:
                os.kill(self.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        return True

    def running(self):
        """True while the interpreter runs code (not at a REPL prompt)."""
        return self._sigint_caught()

    def _sigint_caught(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("SigCgt:"):
                        return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
        except OSError:
            pass
        return False

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.close(self.master)
        except OSError:
            pass


def _take_controlling_tty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class UsbSerial:
    """The host's side: a raw pty whose slave `link` points to.

    This process keeps the slave open too, so the port keeps its settings
    and the master never reports a hang-up between two host sessions.
    """

    def __init__(self, link):
        self.link = link
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.name = os.ttyname(self.slave)
        if os.path.islink(link):
            os.unlink(link)
        elif os.path.exists(link):
            raise FileExistsError("%s exists and is not a symlink" % link)
        os.symlink(self.name, link)

    def close(self):
        try:
            if os.path.islink(self.link) and os.readlink(self.link) == self.name:
                os.unlink(self.link)
        except OSError:
            pass
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class Board:
    def __init__(self, args):
        self.args = args
        self.stopping = False
        self.usb = None
        self.wiring = None
        self.to_host = bytearray()
        self.to_board = bytearray()
        self._out_cr = False    # the last byte sent to the host was CR
        self._typed = b""       # the start of a UTF-8 character typed

    # -- set-up -----------------------------------------------------------

    def _prepare(self):
        os.makedirs(self.args.flash, exist_ok=True)
        image = os.path.join(self.args.flash, FLASH_IMAGE)
        if not os.path.exists(image):
            with open(image + ".tmp", "wb") as f:
                f.write(b"\xff" * FLASH_BYTES)   # erased flash; _boot.py formats it
            os.replace(image + ".tmp", image)
        elif os.path.getsize(image) % 4096:
            raise SystemExit("launch: %s is not a whole number of 4 KB blocks" % image)
        self.image = os.path.abspath(image)
        self.wiring = tempfile.mkdtemp(prefix="vboard-wiring-")
        if self.args.uart:
            os.symlink(os.path.abspath(self.args.uart), os.path.join(self.wiring, "uart0"))
        self.usb = UsbSerial(self.args.link)

    def _env(self, raw):
        env = dict(os.environ)
        env.update({
            "VBOARD_FLASH": self.image,
            "VBOARD_WIRING": self.wiring,
            "VBOARD_DRIVERS": DRIVERS_DIR,
            "VBOARD_REPL": "raw" if raw else "friendly",
            "VBOARD_MOUNT": self.args.mount,
            "VBOARD_BOOTED": BOOTED.decode(),
            "VBOARD_RESET": RESET.decode(),
            "MICROPYPATH": "",
        })
        return env

    def _argv(self):
        return [self.args.micropython, "-X", "heapsize=" + self.args.heapsize, "-i", BOOT_SCRIPT]

    # -- running ----------------------------------------------------------

    def run(self):
        self._prepare()
        mode, quiet, first = "friendly", False, True
        try:
            while not self.stopping:
                filt = OutputFilter(enter_raw=(mode == "raw"), quiet=quiet, mode=mode)
                interp = Interpreter(self._argv(), self._env(mode == "raw"), self.wiring)
                try:
                    self._relay(interp, filt, first)
                finally:
                    interp.stop()
                if self.stopping:
                    break
                if filt.failed or (first and not filt.booted):
                    raise BootFailed("the board did not boot:\n"
                                     + filt.early.decode("utf-8", "replace"))
                first = False
                mode = filt.mode
                # sys.exit() in the raw REPL: a board ends the program and shows
                # its prompt again; here the interpreter is gone, so bring up a
                # fresh one quietly. Anything else is a soft reset.
                quiet = (mode == "raw" and not filt.reset and filt.last.endswith(b"\x04\x04"))
                if not quiet:
                    self._to_host(SOFT_REBOOT)
        finally:
            self._drain_to_host(0.2)
            self.close()

    def _relay(self, interp, filt, first):
        usb = self.usb.master
        last_out = time.monotonic()
        while not self.stopping:
            rlist = []
            if len(self.to_board) < _BACKLOG:
                rlist.append(usb)
            if len(self.to_host) < _BACKLOG:
                rlist.append(interp.master)
            wlist = []
            if self.to_host:
                wlist.append(usb)
            if self.to_board:
                wlist.append(interp.master)
            try:
                readable, writable, _ = select.select(rlist, wlist, [], _HOLD_MS / 1000)
            except InterruptedError:
                continue
            if usb in readable:
                try:
                    data = os.read(usb, 4096)
                except BlockingIOError:
                    data = b""
                if filt.mode == "friendly" and (self._typed or max(data, default=0) > 0x7F):
                    data = self._typed_text(data, interp)
                for byte in data:
                    if byte == CTRL_C and interp.interrupt():
                        continue
                    self.to_board.append(byte)
            if interp.master in readable:
                data = interp.read()
                if data is None:        # the interpreter has exited
                    self._to_host(filt.flush())
                    return
                if data:
                    last_out = time.monotonic()
                    self._to_host(filt.feed(data))
                    if filt.want_raw:
                        filt.want_raw = False
                        self.to_board[:0] = CTRL_A
                    if filt.booted and first:
                        first = False
                        print("vboard ready %s" % self.args.link, flush=True)
                    if filt.reset or filt.failed:
                        return
            elif time.monotonic() - last_out > _HOLD_MS / 1000:
                self._to_host(filt.flush())
            if self.to_host and usb in writable:
                n = self._write(usb, self.to_host)
                del self.to_host[:n]
            if self.to_board and interp.master in writable:
                n = interp.write(bytes(self.to_board))
                del self.to_board[:n]

    @staticmethod
    def _write(fd, data):
        try:
            return os.write(fd, data)
        except BlockingIOError:
            return 0

    def _to_host(self, data):
        # A board's stdout is "cooked": every LF goes out as CR LF. The unix
        # port writes a bare LF, which staircases in a terminal.
        if data:
            lf_first = data[:1] == b"\n" and self._out_cr
            self._out_cr = data[-1:] == b"\r"
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            self.to_host += data[1:] if lf_first else data

    def _typed_text(self, data, interp):
        """Typed text for the friendly REPL: MicroPython's line editor drops
        every byte above 0x7E, so each non-ASCII character becomes its
        escape (\\u00e9 for é): the same str once inside a string literal.
        Code that is running (input()) gets the bytes as they are."""
        data = self._typed + data
        self._typed = b""
        if interp.running():
            return data
        cut = len(data)
        for back in range(1, min(4, len(data)) + 1):   # keep a split character
            lead = data[-back]
            if lead >= 0xC0:
                if back < (2 if lead < 0xE0 else 3 if lead < 0xF0 else 4):
                    cut = len(data) - back
                break
            if lead < 0x80:
                break
        data, self._typed = data[:cut], data[cut:]
        text = data.decode("utf-8", "replace")
        return "".join(c if ord(c) < 0x80 else
                       ("\\u%04x" % ord(c) if ord(c) < 0x10000 else "\\U%08x" % ord(c))
                       for c in text).encode()

    def _drain_to_host(self, seconds):
        deadline = time.monotonic() + seconds
        while self.to_host and self.usb and time.monotonic() < deadline:
            n = self._write(self.usb.master, self.to_host)
            del self.to_host[:n]
            if not n:
                time.sleep(0.01)

    def close(self):
        if self.usb:
            self.usb.close()
            self.usb = None
        if self.wiring:
            shutil.rmtree(self.wiring, ignore_errors=True)
            self.wiring = None


def _default_micropython():
    beside = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("micropython") or "micropython"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="launch.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--link", required=True, help="symlink to create to the board's USB serial pty")
    p.add_argument("--flash", required=True, help="directory holding the flash image (kept)")
    p.add_argument("--uart", help="path of the module's UART (the simulator's --link)")
    p.add_argument("--heapsize", default="192K", help="MicroPython GC heap (-X heapsize=...)")
    p.add_argument("--micropython", default=_default_micropython(), help="the unix port's binary")
    p.add_argument("--mount", default="/", choices=("/", "/flash"),
                   help='where the flash is mounted: "/" as on rp2, "/flash" alone as on stm32')
    args = p.parse_args(argv)
    if not os.access(args.micropython, os.X_OK) and not shutil.which(args.micropython):
        p.error("no MicroPython unix port at %s" % args.micropython)
    return args


def main(argv=None):
    args = parse_args(argv)
    board = Board(args)

    def on_signal(signum, frame):
        board.stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        board.run()
    except BootFailed as exc:
        print("launch: %s" % exc, file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
