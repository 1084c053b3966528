"""machine.UART for the virtual board: the unix port, wired over a pty.

The unix port has no machine.UART. This class offers the subset the library
and the tests use, with a board's semantics:

- UART(id_or_path, baudrate=115200, *, rxbuf=256, timeout=0, timeout_char=0,
  bits=8, parity=None, stop=1, flow=0, ...). An int id opens /dev/uart<id>,
  the board's wiring (the launcher mounts it); a str opens that path. One
  driver per path, as a board has one per peripheral: UART(0) again returns
  the open one, re-initialised (its IRQ handler kept) until deinit().
- A driver-level RX buffer of `rxbuf` bytes (a micropython.RingIO, allocated
  on the GC heap as the C drivers do) filled by a reader thread. When it is
  full, further bytes are dropped and counted in `overruns`, like a UART
  whose FIFO overflows (no flow control on a pty).
- readinto(buf[, nbytes]) / read([nbytes]): wait up to `timeout` ms for the
  first byte, then up to `timeout_char` ms for each further byte, and return
  what arrived (1.27+ semantics: no retry after a timeout); None if nothing
  arrived. write(buf[, max_len]) / write(buf, off, max_len) -> bytes written.
- irq(handler, trigger=IRQ_RXIDLE, hard=False): a soft IRQ. The reader
  thread notices received bytes and calls micropython.schedule(), so the
  handler runs in the main thread between two bytecodes, never in the reader.
  IRQ_RXIDLE fires once the line has been quiet for ~2 character times
  (at least 1 ms) after bytes arrived; IRQ_RX fires for every chunk read.
  Events are coalesced: while a call is scheduled and not yet run, new
  events do not queue another one (the handler drains the buffer anyway).
  hard=True runs the handler with the heap locked, so an allocating handler
  fails with MemoryError as in a hard IRQ, and an exception disables it.

Latency: the reader wakes on poll() within microseconds; the handler runs at
the main thread's next bytecode boundary check or inside time.sleep_ms(), and
waits while the main thread is in another blocking call (a write blocked on a
full pty).
TX is not paced here: the peer reads at its wire rate and a full pty makes
write() block, as a UART with a full TX FIFO does.
"""

import _thread
import micropython
import select
import sys
import termios
import time
from micropython import const

_VTIME = const(5)   # termios c_cc indexes (Linux)
_VMIN = const(6)
_CHUNK = const(256)
_IDLE_POLL_MS = const(100)   # how soon the reader notices deinit()
_HUP_WAIT_MS = const(20)

_POLLIN = const(1)
_POLLERR = const(8)
_POLLHUP = const(16)

_UNSET = object()   # irq() called without a handler argument

_IRQ_RX = const(1)
_IRQ_RXIDLE = const(2)


class _Irq:
    """What irq() returns, as on a board: trigger() and flags()."""

    def __init__(self, uart):
        self._uart = uart

    def trigger(self):
        return self._uart._trigger

    def flags(self):
        return self._uart._flags


def _path(id):
    if isinstance(id, int):
        return "/dev/uart%d" % id
    if isinstance(id, str):
        return id
    raise TypeError("UART id must be an int or a path")


# The open driver of each UART, by path: as on a board, UART(0) a second
# time is the same peripheral re-initialised, not a second reader on the
# link (two readers would each take part of every answer).
_open = {}


class UART:
    IRQ_RX = _IRQ_RX
    IRQ_RXIDLE = _IRQ_RXIDLE
    RTS = const(1)
    CTS = const(2)

    def __new__(cls, id, *args, **kwargs):
        u = _open.get(_path(id))
        if u is None:
            u = object.__new__(cls)
            u._f = None
        return u

    def __init__(self, id, baudrate=115200, bits=8, parity=None, stop=1, *, rxbuf=256,
                 timeout=0, timeout_char=0, flow=0, txbuf=None, tx=None, rx=None, invert=0):
        path = _path(id)
        if bits != 8 or parity is not None or stop != 1:
            raise ValueError("only 8N1 is wired")
        if invert or flow:
            raise ValueError("a pty has no RTS/CTS lines and no inversion")
        if rxbuf < 16:
            raise ValueError("rxbuf too small")
        if self._f is not None:
            # already open: new settings for the same driver. A board keeps
            # its IRQ handler; a new RX buffer size drops what was buffered.
            self.init(baudrate, timeout=timeout, timeout_char=timeout_char)
            if rxbuf != self._rxbuf:
                self._stop_reader()
                self._rxbuf = rxbuf
                self._ring = micropython.RingIO(rxbuf)
                self._start_reader()
            return
        self._path = path
        self._f = None
        self._run = False
        self._handler = None
        self._hard = False
        self._trigger = 0
        self._flags = 0
        self._sched_pending = False
        self._irq_obj = None
        self.overruns = 0
        self._rxbuf = rxbuf
        self.init(baudrate, timeout=timeout, timeout_char=timeout_char)
        self._ring = micropython.RingIO(rxbuf)   # holds exactly rxbuf bytes
        self._chunk = bytearray(_CHUNK)
        # Bound once: the reader thread schedules it without allocating.
        self._dispatch_cb = self._dispatch
        self._stopped = _thread.allocate_lock()
        self._open()

    def init(self, baudrate=None, *, timeout=None, timeout_char=None):
        if baudrate is not None:
            if baudrate <= 0:
                raise ValueError("baudrate")
            self._baud = baudrate
            char_us = 10_000_000 // baudrate
            self._idle_ms = max(1, (2 * char_us + 999) // 1000)
        if timeout is not None:
            if timeout < 0:
                raise ValueError("timeout")
            self._timeout = timeout
        if timeout_char is not None:
            if timeout_char < 0:
                raise ValueError("timeout_char")
            self._timeout_char = timeout_char
        # As on rp2: never shorter than a couple of characters on the wire.
        self._tchar = max(self._timeout_char, self._idle_ms)

    def _open(self):
        f = open(self._path, "r+b")
        try:
            fd = f.fileno()
            termios.setraw(fd)
            attrs = termios.tcgetattr(fd)
            # VMIN=0, VTIME=0: a read returns what is waiting (0 if nothing)
            # instead of blocking until the buffer is full.
            attrs[6][_VMIN] = 0
            attrs[6][_VTIME] = 0
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
        except Exception:
            f.close()
            raise
        self._f = f
        _open[self._path] = self
        self._start_reader()

    def _start_reader(self):
        self._run = True
        self._stopped.acquire()
        _thread.start_new_thread(_reader, (self,))

    def _stop_reader(self):
        self._run = False
        # The reader releases the lock when it has left its loop.
        self._stopped.acquire()
        self._stopped.release()

    def deinit(self):
        if self._f is None:
            return
        self._handler = None
        self._trigger = 0
        self._stop_reader()
        self._f.close()
        self._f = None
        if _open.get(self._path) is self:
            del _open[self._path]

    def _check_open(self):
        if self._f is None:
            raise OSError(9)   # EBADF, as a deinit'ed UART on a board

    # -- RX ---------------------------------------------------------------

    def any(self):
        return self._ring.any()

    def _wait_for(self, n):
        """Wait as a board's UART read does; returns the bytes available."""
        ring = self._ring
        have = ring.any()
        if have >= n:
            return have
        # The first byte may take `timeout`; every later one `timeout_char`.
        wait = self._tchar if have else self._timeout
        start = time.ticks_ms()
        while True:
            if time.ticks_diff(time.ticks_ms(), start) >= wait:
                return have
            time.sleep_ms(1)
            now_have = ring.any()
            if now_have >= n:
                return now_have
            if now_have != have:
                have = now_have
                wait = self._tchar   # later bytes: the inter-character timeout
                start = time.ticks_ms()

    def readinto(self, buf, nbytes=-1):
        self._check_open()
        n = len(buf)
        if 0 <= nbytes < n:
            n = nbytes
        if n == 0:
            return 0
        have = self._wait_for(n)
        if not have:
            return None
        return self._ring.readinto(buf, n if have > n else have)

    def read(self, nbytes=-1):
        self._check_open()
        n = nbytes if nbytes >= 0 else self._rxbuf   # at most what the driver holds
        if n == 0:
            return b""
        have = self._wait_for(n)
        if not have:
            return None
        buf = bytearray(n if have > n else have)
        self._ring.readinto(buf, len(buf))
        return bytes(buf)

    # -- TX ---------------------------------------------------------------

    def write(self, buf, a=-1, b=-1):
        self._check_open()
        if a < 0:
            return self._f.write(buf)
        if b < 0:
            return self._f.write(buf, a)
        return self._f.write(buf, a, b)

    def flush(self):
        # Writes reach the pty at once; fsync/flush on a pty raises EINVAL.
        self._check_open()

    def txdone(self):
        return True

    # -- IRQ --------------------------------------------------------------

    def irq(self, handler=_UNSET, trigger=_IRQ_RXIDLE, hard=False):
        """irq() with no argument returns the irq object unchanged, as on a board."""
        self._check_open()
        if self._irq_obj is None:
            self._irq_obj = _Irq(self)
        if handler is _UNSET:
            return self._irq_obj
        if trigger & ~(_IRQ_RX | _IRQ_RXIDLE):
            raise ValueError("trigger")
        self._hard = bool(hard)
        self._handler = handler
        self._trigger = trigger if handler is not None else 0
        return self._irq_obj

    def _dispatch(self, _arg):
        # Runs in the main thread, from the scheduler.
        self._sched_pending = False
        handler = self._handler
        if handler is None:
            return
        if not self._hard:
            handler(self)
            return
        micropython.heap_lock()
        try:
            handler(self)
        except BaseException as exc:   # noqa: B036 - a board disables the handler on any
            micropython.heap_unlock()
            self._handler = None
            self._trigger = 0
            print("Uncaught exception in UART IRQ callback handler; disabled")
            sys.print_exception(exc)
            return
        micropython.heap_unlock()

    def _fire(self, flags):
        """Reader thread: schedule the handler; False if the queue is full."""
        if not (self._trigger & flags) or self._handler is None:
            return True
        self._flags = flags
        if self._sched_pending:
            return True
        self._sched_pending = True
        try:
            micropython.schedule(self._dispatch_cb, None)
        except RuntimeError:   # schedule queue full: retry on the next pass
            self._sched_pending = False
            return False
        return True

    def __repr__(self):
        return "UART(%r, baudrate=%d, rxbuf=%d, timeout=%d, timeout_char=%d)" % (
            self._path, self._baud, self._rxbuf, self._timeout, self._timeout_char)


def _reader(u):
    """The 'interrupt' side: drains the pty into the driver buffer."""
    f = u._f
    ring = u._ring
    chunk = u._chunk
    poller = select.poll()
    poller.register(f, _POLLIN)
    quiet_due = False    # bytes came in and no RXIDLE has been signalled yet
    retry_fire = 0
    try:
        while u._run:
            got = False
            hup = False
            for _obj, ev in poller.ipoll(u._idle_ms if (quiet_due or retry_fire) else _IDLE_POLL_MS):
                if ev & _POLLIN:
                    got = True
                elif ev & (_POLLHUP | _POLLERR):
                    hup = True
            if got:
                try:
                    n = f.readinto(chunk)
                except OSError:
                    n = 0
                if n:
                    put = ring.write(chunk, n)
                    if put < n:
                        u.overruns += n - put
                    quiet_due = True
                    if not u._fire(_IRQ_RX):
                        retry_fire |= _IRQ_RX
                continue
            if hup:
                # The peer is not there (yet): nothing to read, do not spin.
                time.sleep_ms(_HUP_WAIT_MS)
            if quiet_due:
                quiet_due = False
                if not u._fire(_IRQ_RXIDLE):
                    retry_fire |= _IRQ_RXIDLE
            elif retry_fire:
                if u._fire(retry_fire):
                    retry_fire = 0
    finally:
        u._stopped.release()
