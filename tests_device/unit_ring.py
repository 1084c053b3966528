"""Ring buffer: wraparound, overflow counting, the allocation-free IRQ path."""

import micropython

from ubxsec.ring import Ring
from fakeuart import FakeUart
from alloc import allocated


def _both_stores(size, uart=None):
    rings = [Ring(size, uart, use_ringio=False)]
    if hasattr(micropython, "RingIO"):
        rings.append(Ring(size, uart))
    return rings


def _drain(ring):
    out = bytearray()
    buf = bytearray(5)
    while True:
        n = ring.readinto(buf, 5)
        if not n:
            return bytes(out)
        out += buf[:n]


def test_wraparound_keeps_order():
    for ring in _both_stores(16):
        expect = bytearray()
        got = bytearray()
        buf = bytearray(7)
        for i in range(40):
            chunk = bytes((i * 7 + k) & 0xFF for k in range(i % 11))
            assert ring.write(chunk) == len(chunk)
            expect += chunk
            n = ring.readinto(buf, 7)
            got += buf[:n]
        got += _drain(ring)
        assert bytes(got) == bytes(expect)
        assert ring.lost == 0


def test_capacity_and_overflow_count():
    for ring in _both_stores(8):
        assert ring.write(b"0123456789AB") == 8
        assert ring.lost == 4
        assert ring.any() == 8
        assert _drain(ring) == b"01234567"
        assert ring.write(b"xyz") == 3
        assert ring.lost == 4  # the count only grows


def test_fill_from_uart_counts_lost_bytes():
    for use_ringio in (False, True):
        uart = FakeUart(triggers=())
        ring = Ring(32, uart, use_ringio=use_ringio)
        uart.inject(bytes(range(100)))
        ring.fill()
        assert ring.any() == 32
        assert ring.lost == 68
        assert _drain(ring) == bytes(range(32))


def test_irq_handler_is_bound_once():
    ring = Ring(16)
    assert ring.irq_handler is ring.irq_handler


def test_irq_path_allocates_nothing():
    # The fake calls a hard handler with the heap locked: any allocation in
    # ring.fill / RingIO.write / uart.readinto would raise MemoryError there.
    for use_ringio in (False, True):
        uart = FakeUart(triggers=("IRQ_RXIDLE",))
        ring = Ring(256, uart, use_ringio=use_ringio)
        uart.irq(handler=ring.irq_handler, trigger=uart.IRQ_RXIDLE, hard=True)
        sent = bytearray()
        for i in range(30):
            data = bytes((i + k) & 0xFF for k in range(1 + i % 9))
            sent += data
            uart.inject(data)
        assert uart.irq_errors == [], uart.irq_errors
        assert uart.irq_fired == 30 and ring.irq_calls == 30
        assert _drain(ring) == bytes(sent)


def test_irq_path_overflow_allocates_nothing():
    uart = FakeUart()
    ring = Ring(16, uart)
    uart.irq(handler=ring.irq_handler, trigger=uart.IRQ_RXIDLE, hard=True)
    uart.inject(b"A" * 100)
    assert uart.irq_errors == []
    assert ring.any() == 16 and ring.lost == 84


def test_direct_heap_locked_fill():
    uart = FakeUart()
    ring = Ring(64, uart)
    uart.inject(b"hello world\r\n")  # arrives in the driver buffer, no IRQ set
    micropython.heap_lock()
    try:
        moved = ring.fill()
        calls = ring.irq_calls
        ring.irq_handler(uart)
    finally:
        micropython.heap_unlock()
    assert moved == 13 and ring.irq_calls == calls + 1
    assert _drain(ring) == b"hello world\r\n"


class _ByteSource:
    """A UART holding `left` bytes of 0x55; small frames, so that it
    allocates nothing itself."""

    def __init__(self):
        self.left = 0

    def any(self):
        return self.left

    def readinto(self, buf, n):
        i = 0
        while i < n:
            buf[i] = 0x55
            i += 1
        self.left -= n
        return n


def _irq_rounds(ring, uart, rounds, sink):
    # each round: bytes arrive, the handler moves them, the consumer reads
    for _ in range(rounds):
        uart.left = 150  # more than the 64-byte scratch: the loop runs thrice
        ring.irq_handler(uart)
        while ring.readinto(sink, 50):
            pass


def test_irq_path_allocates_nothing_not_even_frames():
    # heap_lock() alone cannot show this: under it the port puts a call frame
    # too big for the C stack on the C stack instead of the heap, silently.
    # alloc.measured counts every allocation (mem_total or gc.mem_alloc).
    sink = bytearray(50)
    for ring_uart in [(r, r.uart) for r in _both_stores(512, _ByteSource())]:
        ring, uart = ring_uart
        _irq_rounds(ring, uart, 1, sink)  # warm up
        spent = allocated(_irq_rounds, ring, uart, 20, sink)
        assert spent == 0, spent
        assert ring.irq_calls == 21 and ring.lost == 0 and uart.left == 0


def test_nested_fill_is_refused_not_interleaved():
    uart = FakeUart()
    ring = Ring(64, uart)
    ring._busy = True  # as if an IRQ landed inside a running fill
    uart.inject(b"abc")
    assert ring.fill() == 0
    ring._busy = False
    assert ring.fill() == 3


def test_clear():
    ring = Ring(32)
    ring.write(b"stale bytes")
    ring.clear()
    assert ring.any() == 0
