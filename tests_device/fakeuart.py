"""A scripted stand-in for machine.UART with a pretend module behind it.

Runs on MicroPython (unix port or a board) and CPython-free. The UART subset:
write(buf[, max_len]) / write(buf, off, max_len), readinto(buf[, n]), read(n),
any(), irq(handler, trigger, hard) and the IRQ_* constants chosen at
construction.

The pretend module:
- Echo (ATE1 behaviour) when echo=True: every byte written in command mode
  comes straight back, the CR included. "ATE0"/"ATE1" switch it.
- Each command line (bytes up to CR, without it; LF ignored) goes to
  responder(line) which returns the bytes to send back, None for silence, or
  a PromptReply for a '>' data phase. When the responder returns None for
  AT, ATE0, ATE1 or AT+CMEE=<n>, the fake answers OK itself.
- PromptReply(prefix, nbytes, then, on_abort): sends prefix (e.g. b">" or
  b"\\r\\n>"), collects exactly nbytes raw bytes (no echo), then sends
  then(data). With guard_ms set, a data phase that receives nothing for
  guard_ms sends on_abort (default ERROR) and ends, like the module's guard
  timer (checked whenever the UART is used).

Test knobs:
- writes=(3, None, 0, ...): per-call limits cycled through by write() (an int
  caps the bytes accepted, None returns None and 0 returns 0: a stalled
  write under flow control). None (default): everything is accepted.
- piece=n: the module's output arrives n bytes at a time; one more piece
  arrives each time the receiver finds the buffer empty (any() returns 0 on
  that call), so a response spans many reads. None: all at once.
- inject(data): bytes (a URC) the module sends now; inject_at(count, data):
  sends them once `count` bytes in total have been written (so a URC can land
  at any byte offset of a '>' transfer); later(ms, data): sends them ms from
  now (a responder may call it: a response whose lines come apart in time).
  The module's own output is one stream: an answer it sends while a later()
  piece is still to come follows that piece.
- stall_ms=n: flow control holds every write for n ms after the last byte
  accepted (write() returns 0 meanwhile); with writes=(1,) each byte waits.
- IRQ: the handler fires after each arrival (not while it already runs). A
  handler registered with hard=True runs with the heap locked, as a hard
  IRQ does: an allocation raises MemoryError there, which is recorded in
  irq_errors and disables the handler (as a real port does).
- rx_cap: the driver's RX buffer. Output that does not fit waits in the
  module (as under flow control) unless lossy=True: then it is dropped and
  counted in driver_lost, as a UART without flow control does.
- .written (every byte written), .commands (command lines), .payloads (data
  of each '>' phase), .aborted (data of each '>' phase the guard timer
  ended), .write_log ((ticks_ms, offset in .written, count) per write that
  took bytes), .irq_fired, .irq_errors, .driver_lost.
"""

import time

try:
    import micropython
except ImportError:  # pragma: no cover - CPython
    micropython = None

_ECHO_DEFAULT_OK = (b"AT", b"ATE0", b"ATE1")


def reply(*lines):
    """The bytes of a response: each line framed by CRLF as V.250 does."""
    out = bytearray()
    for line in lines:
        if isinstance(line, str):
            line = line.encode()
        out += b"\r\n" + line + b"\r\n"
    return bytes(out)


OK = reply(b"OK")
ERROR = reply(b"ERROR")


class PromptReply:
    def __init__(self, prefix, nbytes, then, on_abort=ERROR):
        self.prefix = prefix
        self.nbytes = nbytes
        self.then = then
        self.on_abort = on_abort


class FakeUart:
    def __init__(self, responder=None, *, echo=False, writes=None, piece=None,
                 triggers=("IRQ_RXIDLE",), guard_ms=None, rx_cap=1024, lossy=False,
                 timeout=0, stall_ms=None):
        self.responder = responder
        self.echo = echo
        self.writes = writes
        self._wi = 0
        self.piece = piece
        self.guard_ms = guard_ms
        self.timeout = timeout
        self.lossy = lossy
        self.stall_ms = stall_ms
        for i, name in enumerate(triggers):
            setattr(self, name, 1 << (4 + i))
        self.written = bytearray()
        self.commands = []
        self.payloads = []
        self.aborted = []
        self.write_log = []
        self.irq_fired = 0
        self.irq_errors = []
        self.driver_lost = 0
        self._handler = None
        self._hard = False
        self._in_irq = False
        self._pending = bytearray()      # sent by the module, not yet arrived
        self._rx = bytearray(rx_cap)     # arrived: the driver's RX buffer
        self._rx_head = 0
        self._rx_tail = 0
        self._cmd = bytearray()
        self._prompt = None              # PromptReply of a running data phase
        self._data = bytearray()
        self._last_rx = time.ticks_ms()
        self._injections = []            # [(written count, bytes)]
        self._timed = []                 # [(ticks_ms due, bytes)], in order
        self._accepted_at = time.ticks_ms()

    # -- machine.UART subset -------------------------------------------------

    def irq(self, handler=None, trigger=0, hard=False):
        self._handler = handler
        self._hard = hard
        self.trigger = trigger

    def any(self):
        if self._in_irq:
            return self._rx_tail - self._rx_head
        self._check_guard()
        self._check_timed()
        n = self._rx_tail - self._rx_head
        if not n and self._pending:
            self._deliver()
            if self.piece is not None:
                return 0  # the next piece is there for the next look
            n = self._rx_tail - self._rx_head
        return n

    def readinto(self, buf, nbytes=None):
        # Allocation free (an IRQ handler calls it with the heap locked).
        n = len(buf) if nbytes is None or nbytes > len(buf) else nbytes
        if not self._in_irq and self._rx_tail == self._rx_head:
            self.any()
            if self._rx_tail == self._rx_head:
                self.any()
            if self.timeout and self._rx_tail == self._rx_head:
                self._wait(self.timeout)
        avail = self._rx_tail - self._rx_head
        if n > avail:
            n = avail
        if not n:
            return None
        rx = self._rx
        h = self._rx_head
        for i in range(n):
            buf[i] = rx[h + i]
        self._rx_head = h + n
        return n

    def read(self, n=-1):
        avail = self.any() or self.any()
        if n < 0 or n > avail:
            n = avail
        if not n:
            return None
        buf = bytearray(n)
        got = self.readinto(buf)
        return bytes(buf[:got])

    def write(self, buf, *args):
        if len(args) == 0:
            off, n = 0, len(buf)
        elif len(args) == 1:
            off, n = 0, args[0]
        else:
            off, n = args[0], args[1]
        if off + n > len(buf):
            n = len(buf) - off
        if self.stall_ms is not None and \
                time.ticks_diff(time.ticks_ms(), self._accepted_at) < self.stall_ms:
            return 0
        limit = self._next_limit()
        if limit is None:
            return None
        if limit < n:
            n = limit
        if n > 0:
            self._accepted_at = time.ticks_ms()
            self.write_log.append((self._accepted_at, len(self.written), n))
        for i in range(off, off + n):
            self._module_gets(buf[i])
        self._deliver()
        return n

    def flush(self):
        pass

    # -- test controls -------------------------------------------------------

    def inject(self, data):
        self._pending += data
        if not self._in_irq:
            self._deliver()

    def inject_at(self, count, data):
        self._injections.append((count, data))

    def later(self, ms, data):
        due = time.ticks_add(time.ticks_ms(), ms)
        timed = self._timed
        i = len(timed)
        while i and time.ticks_diff(timed[i - 1][0], due) > 0:
            i -= 1
        timed.insert(i, (due, data))

    def written_at(self, offset):
        """ticks_ms of the write that took byte `offset` of .written, or None."""
        for at, start, n in self.write_log:
            if start <= offset < start + n:
                return at
        return None

    def in_data_phase(self):
        return self._prompt is not None

    def wait_quiet(self, ms):
        """Let guard timers run for ms (tests that stop mid-transfer)."""
        self._wait(ms)

    # -- the pretend module --------------------------------------------------

    def _next_limit(self):
        w = self.writes
        if w is None:
            return 1 << 30
        limit = w[self._wi % len(w)]
        self._wi += 1
        return limit

    def _module_gets(self, b):
        self.written.append(b)
        self._last_rx = time.ticks_ms()
        if self._prompt is not None:
            self._data.append(b)
            if len(self._data) == self._prompt.nbytes:
                prompt, data = self._prompt, bytes(self._data)
                self._prompt = None
                self._data = bytearray()
                self.payloads.append(data)
                self._send(prompt.then(data))
        else:
            if self.echo:
                self._pending.append(b)
            if b == 13:
                line = bytes(self._cmd)
                self._cmd = bytearray()
                self._command(line)
            elif b != 10:
                self._cmd.append(b)
        self._run_injections()

    def _run_injections(self):
        if not self._injections:
            return
        count = len(self.written)
        keep = []
        for at, data in self._injections:
            if count >= at:
                self._pending += data
            else:
                keep.append((at, data))
        self._injections = keep

    def _command(self, line):
        self.commands.append(line)
        upper = line.upper()
        out = self.responder(line) if self.responder is not None else None
        if upper == b"ATE0":
            self.echo = False
        elif upper == b"ATE1":
            self.echo = True
        if out is None and (upper in _ECHO_DEFAULT_OK or upper.startswith(b"AT+CMEE=")):
            out = OK
        if isinstance(out, PromptReply):
            self._prompt = out
            self._data = bytearray()
            self._send(out.prefix)
        else:
            self._send(out)

    def _send(self, data):
        if not data:
            return
        if self._timed:  # one output stream: it waits behind what is still to come
            self._timed.append((self._timed[-1][0], data))
        else:
            self._pending += data

    def _check_guard(self):
        if self._prompt is None or self.guard_ms is None:
            return
        if time.ticks_diff(time.ticks_ms(), self._last_rx) >= self.guard_ms:
            prompt = self._prompt
            self._prompt = None
            self.aborted.append(bytes(self._data))
            self._data = bytearray()
            self._send(prompt.on_abort)

    def _check_timed(self):
        timed = self._timed
        while timed and time.ticks_diff(time.ticks_ms(), timed[0][0]) >= 0:
            self._pending += timed.pop(0)[1]

    def _wait(self, ms):
        deadline = time.ticks_add(time.ticks_ms(), ms)
        while time.ticks_diff(deadline, time.ticks_ms()) > 0:
            self._check_guard()
            self._check_timed()
            if self._pending or self._rx_tail != self._rx_head:
                break
            time.sleep_ms(1)
        self._deliver()

    # -- arrival -------------------------------------------------------------

    def _arrive(self):
        """Move one piece (or everything) of the module's output into the
        driver buffer; returns bytes moved."""
        pending = self._pending
        if not pending:
            return 0
        n = len(pending) if self.piece is None else min(self.piece, len(pending))
        rx = self._rx
        if self._rx_head == self._rx_tail:
            self._rx_head = self._rx_tail = 0
        elif self._rx_tail + n > len(rx):
            live = self._rx_tail - self._rx_head
            rx[0:live] = rx[self._rx_head:self._rx_tail]
            self._rx_head, self._rx_tail = 0, live
        room = len(rx) - self._rx_tail
        take = n if n <= room else room
        rx[self._rx_tail:self._rx_tail + take] = pending[:take]
        self._rx_tail += take
        if self.lossy:
            self.driver_lost += n - take
            self._pending = pending[n:]
        else:  # the rest waits in the module, as under flow control
            self._pending = pending[take:]
        return take

    def _deliver(self):
        """The module's output starts arriving: one piece, then the IRQ."""
        if self._arrive():
            self._fire()

    def _fire(self):
        handler = self._handler
        if handler is None or self._in_irq:
            return
        self.irq_fired += 1
        self._in_irq = True
        err = None
        if self._hard and micropython is not None:
            micropython.heap_lock()
            try:
                handler(self)
            except Exception as exc:  # noqa: BLE001 - recorded after unlocking
                err = exc
            micropython.heap_unlock()
        else:
            try:
                handler(self)
            except Exception as exc:  # noqa: BLE001
                err = exc
        self._in_irq = False
        if err is not None:
            self.irq_errors.append(err)
            self._handler = None  # an uncaught exception disables the IRQ
