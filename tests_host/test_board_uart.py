"""The virtual board's UART (boards/unix/lib/vuart.py) on the real unix port.

Each test runs a MicroPython script with the UART on one end of a pty and
plays the other end (the "module") here. The script reports one line
`RESULT <json>` that the test asserts on.
"""

import hashlib
import json
import os
import select
import subprocess
import threading
import time
import tty
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DRIVERS = ROOT / "boards" / "unix" / "lib"
_VENV_MPY = ROOT / ".venv" / "bin" / "micropython"
MICROPYTHON = str(_VENV_MPY) if _VENV_MPY.exists() else "micropython"
RUN_TIMEOUT = 60

PRELUDE = """\
import sys, json, time, _thread, micropython
sys.path.insert(0, %r)
from vuart import UART
PATH = sys.argv[1]
def result(**kw):
    print("RESULT " + json.dumps(kw))
def wait(cond, ms=10000):
    t = time.ticks_ms()
    while not cond():
        if time.ticks_diff(time.ticks_ms(), t) > ms:
            return False
        time.sleep_ms(1)
    return True
""" % str(DRIVERS)


class Peer:
    """The module's end of the pty: raw, read with a timeout."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def read_exactly(self, n, timeout=10.0):
        data = b""
        deadline = time.monotonic() + timeout
        while len(data) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("peer got %d of %d bytes: %r" % (len(data), n, data[:64]))
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                data += os.read(self.master, n - len(data))
        return data

    def write(self, data):
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view):]

    def close(self):
        for fd in (self.master, self.slave):
            os.close(fd)


@pytest.fixture
def peer():
    p = Peer()
    yield p
    p.close()


@pytest.fixture
def mcu(tmp_path, peer):
    """Start a script on the unix port against the peer; returns a handle
    whose .result() waits for the script and parses its RESULT line."""
    procs = []

    class Handle:
        def __init__(self, body):
            script = tmp_path / ("mcu%d.py" % len(procs))
            script.write_text(PRELUDE + body)
            self.proc = subprocess.Popen([MICROPYTHON, str(script), peer.path],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            procs.append(self.proc)

        def result(self):
            try:
                out, _ = self.proc.communicate(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, _ = self.proc.communicate()
                raise AssertionError("script timed out:\n%s" % out.decode(errors="replace"))
            text = out.decode(errors="replace")
            self.output = text
            lines = [l for l in text.splitlines() if l.startswith("RESULT ")]
            assert self.proc.returncode == 0 and lines, "script failed:\n%s" % text
            return json.loads(lines[-1][len("RESULT "):])

    yield Handle
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_write_reaches_the_peer_and_readinto_returns_its_answer(mcu, peer):
    m = mcu("""
u = UART(PATH, baudrate=115200, timeout=5000)
n_written = u.write(b"AT+USECCHIP\\r")
buf = bytearray(32)
assert wait(lambda: u.any() >= 10)
available = u.any()
n = u.readinto(buf)
result(written=n_written, available=available, n=n, data=bytes(buf[:n]).decode(), after=u.any())
""")
    assert peer.read_exactly(12) == b"AT+USECCHIP\r"
    peer.write(b"\r\nOK\r\nABCD")
    r = m.result()
    assert r == {"written": 12, "available": 10, "n": 10, "data": "\r\nOK\r\nABCD", "after": 0}


def test_readinto_respects_nbytes_and_leaves_the_rest_buffered(mcu, peer):
    m = mcu("""
u = UART(PATH, timeout=5000)
u.write(b"!")
assert wait(lambda: u.any() == 6)
buf = bytearray(8)
n1 = u.readinto(buf, 2)
first = bytes(buf[:n1])
n2 = u.readinto(buf)
result(n1=n1, first=first.decode(), n2=n2, rest=bytes(buf[:n2]).decode())
""")
    peer.read_exactly(1)
    peer.write(b"abcdef")
    assert m.result() == {"n1": 2, "first": "ab", "n2": 4, "rest": "cdef"}


def test_reads_return_none_after_the_timeout_when_the_line_is_silent(mcu, peer):
    m = mcu("""
u = UART(PATH, timeout=50)
buf = bytearray(4)
t = time.ticks_ms()
r1 = u.readinto(buf)
r2 = u.read(4)
r3 = u.read()
waited = time.ticks_diff(time.ticks_ms(), t)
result(r1=r1, r2=r2, r3=r3, any=u.any(), waited_at_least_timeouts=waited >= 150)
""")
    assert m.result() == {"r1": None, "r2": None, "r3": None, "any": 0,
                          "waited_at_least_timeouts": True}


def test_read_returns_what_arrived_instead_of_waiting_for_more(mcu, peer):
    # 1.27+ semantics: after the first byte, a quiet line ends the read.
    m = mcu("""
u = UART(PATH, timeout=10000, timeout_char=20)
u.write(b"?")
data = u.read(10)
result(data=data.decode())
""")
    peer.read_exactly(1)
    peer.write(b"xyz")
    assert m.result() == {"data": "xyz"}


def test_irq_handler_is_scheduled_into_the_main_thread(mcu, peer):
    m = mcu("""
u = UART(PATH, rxbuf=256)
main = _thread.get_ident()
calls = []
got = bytearray()
buf = bytearray(64)
def handler(uart):
    calls.append((_thread.get_ident() == main, uart.irq().flags()))
    n = uart.readinto(buf)
    if n:
        got.extend(buf[:n])
irq = u.irq(handler, UART.IRQ_RXIDLE)
time.sleep_ms(50)
before = len(calls)
u.write(b"go")
ok = wait(lambda: bytes(got) == b"+UUSECPRF: 0,1\\r\\n")
result(ok=ok, before=before, in_main=all(c[0] for c in calls),
       idle=all(c[1] & UART.IRQ_RXIDLE for c in calls), calls=len(calls),
       trigger=irq.trigger(), same_obj=u.irq() is irq)
""")
    peer.read_exactly(2)
    peer.write(b"+UUSECPRF: 0,1\r\n")
    r = m.result()
    assert r["ok"] and r["in_main"] and r["idle"] and r["same_obj"]
    assert r["before"] == 0          # nothing before bytes came
    assert r["calls"] >= 1
    assert r["trigger"] == 2         # UART.IRQ_RXIDLE as configured


def test_irq_rx_trigger_and_disabling_the_handler(mcu, peer):
    m = mcu("""
u = UART(PATH)
calls = []
u.irq(lambda uart: calls.append(uart.irq().flags()), UART.IRQ_RX)
u.write(b"1")
assert wait(lambda: calls)
flags = calls[0]
u.irq(None)
n = len(calls)
u.write(b"2")
assert wait(lambda: u.any() == 2)
time.sleep_ms(50)
result(flags=flags, more_calls=len(calls) - n, trigger=u.irq().trigger())
""")
    peer.read_exactly(1)
    peer.write(b"a")
    peer.read_exactly(1)
    peer.write(b"b")
    assert m.result() == {"flags": 1, "more_calls": 0, "trigger": 0}


def test_no_byte_lost_over_kilobytes_in_either_direction(mcu, peer):
    size = 8192
    payload = os.urandom(size)
    m = mcu("""
import hashlib
SIZE = %d
u = UART(PATH, rxbuf=1024)
got = bytearray()
buf = bytearray(256)
def handler(uart):
    while True:
        n = uart.readinto(buf)
        if not n:
            break
        got.extend(buf[:n])
u.irq(handler, UART.IRQ_RXIDLE)
u.write(b"S")
ok = wait(lambda: len(got) >= SIZE, 20000)
sent = 0
mv = memoryview(got)
while sent < len(got):
    sent += u.write(mv[sent:sent + 512])
result(ok=ok, n=len(got), overruns=u.overruns, sha=hashlib.sha256(got).digest().hex())
""" % size)
    peer.read_exactly(1)

    def feed():
        for i in range(0, size, 512):
            peer.write(payload[i:i + 512])
            time.sleep(0.002)
    writer = threading.Thread(target=feed)
    writer.start()
    echoed = peer.read_exactly(size, timeout=30)
    writer.join()
    r = m.result()
    assert r["ok"] and r["n"] == size and r["overruns"] == 0
    assert r["sha"] == hashlib.sha256(payload).hexdigest()
    assert echoed == payload


def test_a_full_driver_buffer_drops_and_counts_the_excess(mcu, peer):
    m = mcu("""
u = UART(PATH, rxbuf=64)
u.write(b"S")
assert wait(lambda: u.any() + u.overruns >= 200)
buf = bytearray(100)
n = u.readinto(buf)
result(overruns=u.overruns, n=n, data=bytes(buf[:n]).hex())
""")
    peer.read_exactly(1)
    sent = bytes(range(200))
    peer.write(sent)
    r = m.result()
    assert r["overruns"] == 200 - 64
    assert r["n"] == 64
    assert bytes.fromhex(r["data"]) == sent[:64]   # the oldest bytes are kept


def test_hard_handler_runs_with_the_heap_locked(mcu, peer):
    m = mcu("""
u = UART(PATH)
buf = bytearray(16)
counts = [0]
def quiet(uart):       # allocates nothing: fine in a hard handler
    n = uart.readinto(buf)
    counts[0] += n or 0
u.irq(quiet, UART.IRQ_RXIDLE, hard=True)
u.write(b"1")
ok_quiet = wait(lambda: counts[0] == 3)
def allocating(uart):  # read() builds a bytes object: MemoryError
    uart.read()
u.irq(allocating, UART.IRQ_RXIDLE, hard=True)
u.write(b"2")
disabled = wait(lambda: u.irq().trigger() == 0)
result(ok_quiet=ok_quiet, disabled=disabled)
""")
    peer.read_exactly(1)
    peer.write(b"abc")
    peer.read_exactly(1)
    peer.write(b"def")
    r = m.result()
    assert r == {"ok_quiet": True, "disabled": True}
    assert "MemoryError" in m.output


def test_deinit_stops_the_reader_and_closes_the_port(mcu, peer):
    m = mcu("""
u = UART(PATH)
u.irq(lambda uart: None)
u.deinit()
u.deinit()
errors = []
for op in (lambda: u.write(b"x"), lambda: u.readinto(bytearray(1)), lambda: u.irq(None)):
    try:
        op()
    except OSError:
        errors.append("OSError")
result(errors=errors)
""")
    assert m.result() == {"errors": ["OSError"] * 3}


@pytest.mark.parametrize("ctor, error", [
    ("UART(1.5)", "TypeError"),
    ("UART(PATH, bits=7)", "ValueError"),
    ("UART(PATH, parity=0)", "ValueError"),
    ("UART(PATH, rxbuf=4)", "ValueError"),
    ("UART(PATH, baudrate=0)", "ValueError"),
    ("UART(PATH, timeout=-1)", "ValueError"),
    ("UART(PATH, flow=UART.RTS)", "ValueError"),
    ("UART(PATH).irq(print, 0x100)", "ValueError"),
    ("UART('/nonexistent/tty')", "OSError"),
])
def test_bad_arguments_raise_typed_errors(mcu, peer, ctor, error):
    m = mcu("""
try:
    %s
    result(error=None)
except Exception as exc:
    result(error=type(exc).__name__)
""" % ctor)
    assert m.result() == {"error": error}
