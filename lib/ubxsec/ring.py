"""RX ring buffer between the UART and the AT engine.

One producer (the UART IRQ handler, or fill() when polling) and one consumer
(the AT engine). Storage is `micropython.RingIO` where the port has it,
otherwise a fixed bytearray ring with the same write/readinto/any subset.

The producer path allocates nothing: the handler is bound once here, reads
into a preallocated scratch buffer and copies into the ring. When the ring is
full the bytes just read are dropped and counted in `lost`; the engine turns
a non-zero count into RingOverflow (see AtEngine).
"""

import micropython
from micropython import const

_SCRATCH = const(64)


class _ByteRing:
    """Fallback for ports without micropython.RingIO. Holds `size` bytes.

    The producer only moves `_head`, the consumer only `_tail`, so one of
    each may run concurrently (an IRQ against the main loop).
    """

    def __init__(self, size):
        self._buf = bytearray(size + 1)
        self._head = 0
        self._tail = 0

    def any(self):
        n = self._head - self._tail
        return n if n >= 0 else n + len(self._buf)

    # write/readinto keep few locals: see Ring._move
    def write(self, src, n):
        free = len(self._buf) - 1 - self.any()
        if n > free:
            n = free
        buf = self._buf
        h = self._head
        i = 0
        while i < n:
            buf[h] = src[i]
            i += 1
            h += 1
            if h == len(buf):
                h = 0
        self._head = h
        return n

    def readinto(self, dst, n):
        avail = self.any()
        if n > avail:
            n = avail
        buf = self._buf
        t = self._tail
        i = 0
        while i < n:
            dst[i] = buf[t]
            i += 1
            t += 1
            if t == len(buf):
                t = 0
        self._tail = t
        return n


class Ring:
    """Fixed-size RX buffer fed from `uart`.

    size: bytes the ring holds. uart: any object with readinto(buf, n) and
    any() (machine.UART or a stand-in); None for a ring fed by hand (write).
    """

    def __init__(self, size, uart=None, *, use_ringio=True):
        if size < 2:
            raise ValueError("ring size")
        if use_ringio and hasattr(micropython, "RingIO"):
            self._store = micropython.RingIO(size)
        else:
            self._store = _ByteRing(size)
        self.size = size
        self.uart = uart
        self.lost = 0          # bytes dropped because the ring was full (only grows)
        self.irq_calls = 0     # how often the IRQ handler ran
        self._busy = False     # a fill is running: a nested call must not interleave
        self._scratch = bytearray(_SCRATCH)
        # Bound once: creating a bound method allocates, the IRQ must not.
        self.irq_handler = self._on_irq

    # -- producer side ------------------------------------------------------

    def _on_irq(self, _uart):
        self.irq_calls += 1
        self.fill()

    def fill(self):
        """Move everything the UART holds into the ring; returns bytes moved.

        Allocation free, safe to call from a hard IRQ. A call that lands while
        another fill runs returns 0 at once: the running one drains the UART
        (it loops until any() is 0), so no byte is reordered. Bytes that
        arrive after its last any() wait in the UART driver's own buffer for
        the next IRQ or fill (the engine fills whenever it waits or polls).
        """
        if self._busy:
            return 0
        self._busy = True
        try:
            return self._move()
        finally:
            self._busy = False

    def _move(self):
        # Split from fill(): with the try block, one frame would exceed the
        # state MicroPython keeps on the C stack and be heap-allocated.
        uart = self.uart
        moved = 0
        while uart is not None:
            want = uart.any()
            if not want:
                break
            got = uart.readinto(self._scratch, want if want < _SCRATCH else _SCRATCH)
            if not got:
                break
            want = self._store.write(self._scratch, got)
            if want < got:
                self.lost += got - want
            moved += want
        return moved

    def write(self, data, n=None):
        """Put bytes in by hand (tests, or a port that delivers bytes itself)."""
        if n is None:
            n = len(data)
        put = self._store.write(data, n)
        if put < n:
            self.lost += n - put
        return put

    # -- consumer side ------------------------------------------------------

    def any(self):
        return self._store.any()

    def readinto(self, buf, n=None):
        if n is None:
            n = len(buf)
        return self._store.readinto(buf, n)

    def clear(self):
        """Drop everything buffered (used when resynchronising)."""
        scratch = self._scratch
        while self._store.any():
            self._store.readinto(scratch, _SCRATCH)
