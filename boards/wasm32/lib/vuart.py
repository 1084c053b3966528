"""machine.UART for the wasm32 virtual board: the WebAssembly port, wired over a pty.

POLL MODE: this UART has no irq(). The WebAssembly port runs the VM on node's
only thread, so nothing can notice bytes while Python code runs and no handler
could be scheduled honestly; the library sees no irq() and fills its ring
whenever it waits or polls (Module.irq_mode == "poll").

- UART(id_or_path, baudrate=115200, *, rxbuf=256, timeout=0, timeout_char=0,
  bits=8, parity=None, stop=1, flow=0, ...). An int id opens /dev/uart<id>, the
  board's wiring: a device whose reads and writes board.mjs passes to the
  simulator's pty without blocking (a read returns what is waiting, maybe 0).
- A driver RX buffer of `rxbuf` bytes (a micropython.RingIO on the GC heap, as
  the C drivers allocate theirs), topped up from the pty by every any(),
  read and readinto. It takes only what fits: the rest waits in the pty, which
  holds the sender back as RTS would, so `overruns` stays 0 here (a board
  without flow control that polls too late loses bytes instead).
- readinto(buf[, nbytes]) / read([nbytes]): wait up to `timeout` ms for the
  first byte, then up to `timeout_char` ms (at least ~2 character times) for
  each further byte, and return what arrived; None if nothing did (1.27+
  semantics). write(buf[, max_len]) / write(buf, off, max_len) -> bytes written.
- Nothing here allocates after the constructor: any(), readinto() and write()
  are safe in the library's allocation-free paths.

Timing: time.sleep_ms and ticks_ms are node's clock; the VM never yields to
node while it waits, so a wait is a busy loop of non-blocking reads.
TX is not paced: the simulator reads at its wire rate.
"""

import micropython
import time
from micropython import const

_CHUNK = const(64)


class UART:
    RTS = const(1)
    CTS = const(2)

    def __init__(self, id, baudrate=115200, bits=8, parity=None, stop=1, *, rxbuf=256,
                 timeout=0, timeout_char=0, flow=0, txbuf=None, tx=None, rx=None, invert=0):
        if isinstance(id, int):
            path = "/dev/uart%d" % id
        elif isinstance(id, str):
            path = id
        else:
            raise TypeError("UART id must be an int or a path")
        if bits != 8 or parity is not None or stop != 1:
            raise ValueError("only 8N1 is wired")
        if invert or flow:
            raise ValueError("a pty has no RTS/CTS lines and no inversion")
        if rxbuf < 16:
            raise ValueError("rxbuf too small")
        self._path = path
        self._rxbuf = rxbuf
        self.overruns = 0
        self.init(baudrate, timeout=timeout, timeout_char=timeout_char)
        self._ring = micropython.RingIO(rxbuf)   # holds exactly rxbuf bytes
        self._chunk = bytearray(_CHUNK)
        self._f = open(path, "r+b")

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
        self._tchar = max(self._timeout_char, self._idle_ms)

    def deinit(self):
        if self._f is not None:
            self._f.close()
            self._f = None

    def _check_open(self):
        if self._f is None:
            raise OSError(9)   # EBADF, as a deinit'ed UART on a board

    def _pump(self):
        """Move what the pty holds into the RX buffer, as far as it fits."""
        ring = self._ring
        chunk = self._chunk
        while True:
            room = self._rxbuf - ring.any()
            if room <= 0:
                return
            n = self._f.readinto(chunk, room if room < _CHUNK else _CHUNK)
            if not n:
                return
            ring.write(chunk, n)

    # -- RX ---------------------------------------------------------------

    def any(self):
        self._check_open()
        self._pump()
        return self._ring.any()

    def _wait_for(self, n):
        """Wait as a board's UART read does; returns the bytes available."""
        self._pump()
        have = self._ring.any()
        if have >= n:
            return have
        wait = self._tchar if have else self._timeout
        start = time.ticks_ms()
        while time.ticks_diff(time.ticks_ms(), start) < wait:
            self._pump()
            now_have = self._ring.any()
            if now_have >= n:
                return now_have
            if now_have != have:
                have = now_have
                wait = self._tchar   # later bytes: the inter-character timeout
                start = time.ticks_ms()
        return have

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
        n = nbytes if nbytes >= 0 else self._rxbuf
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
        self._check_open()

    def txdone(self):
        return True

    def __repr__(self):
        return "UART(%r, baudrate=%d, rxbuf=%d, timeout=%d, timeout_char=%d)" % (
            self._path, self._baud, self._rxbuf, self._timeout, self._timeout_char)
