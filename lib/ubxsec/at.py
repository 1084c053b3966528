"""The AT engine: one command at a time over a UART whose RX goes to a Ring.

Wire rules it follows:
- A command is written as b"AT" + cmd + b"\\r". Echo (ATE1) is tolerated: a
  received line that starts with "AT" is never a response.
- Lines end at CR or LF; blank lines are skipped. A response is the
  information lines up to a final result: OK, ERROR or +CME ERROR: <n|text>.
- The data prompt is a '>' at the start of a line: bare right after the
  echoed command's CR, after a CRLF (SARA-R422), or followed by a space
  (LENA-R8; the space then starts a line that holds nothing else, dropped
  as blank). No line end follows it. A '>' inside a
  line is never a prompt, and a URC always ends with CRLF, so a URC that
  arrives right before the prompt is dispatched as a line and the '>' after
  it is still at the start of a line: both are seen.
- A command's information lines are only those that start with its
  response prefix: "+NAME:" for AT+NAME..., or the prefixes the caller gives
  (`info=`, e.g. the unprefixed lines of the +USECMNG listing). Every other
  line that arrives during a command is a URC (+CEREG, +CSCON, RING, ...):
  handed to its handler if one is registered with on_urc(), else dropped and
  counted in `urc_dropped`. No URC ever fails a command.
- URC handlers: lines starting with a prefix given to on_urc() (and "+UU"
  lines) are recognised everywhere (idle, between echo and response, inside
  a response, during a '>' transfer), never taken for the response, and
  handed to their handler at once, in arrival order, on the caller's thread
  (never in the IRQ). A handler that raises is counted in `urc_errors` (the
  last exception kept in `urc_error`) so that the exchange stays in sync; a
  handler must not issue commands (that raises RuntimeError inside it).
  Lines without a handler that arrive while idle are dropped and counted in
  `stray`.
- Timeouts: timeout_ms bounds each wait without progress (the response, the
  prompt, a UART write that stalls under flow control), measured with
  time.ticks_ms.
- Errors and sync: after a final result the engine is in sync, whatever it
  was. After anything else (timeout, ring overflow, a source that fails or
  runs dry mid-transfer) it resynchronises before raising: it waits out a
  data phase still owed bytes (the module's guard timer, `guard_ms`) without
  sending anything (never padding), then sends "AT" until OK and drains the
  line until it is quiet. If that fails the next command tries again first.
- Ring overflow (bytes lost because the ring was full): the first engine call
  that sees the loss raises RingOverflow after resynchronising. If the loss
  happened while idle, command() raises it before sending anything (the
  message says so) and poll() raises it too; retrying is safe.
- A line longer than `line_max` is dropped (an over-long echo silently); the
  engine reads on to the final result, so it stays in sync, then raises
  ProtocolError (from poll() for a URC while idle).
- Payloads inside a line (command_payload): while the answer line starts
  with the given prefix and ends in `,<size>,"` (every earlier string
  closed), the next <size> bytes go raw to a sink, never into the line (they
  may hold quotes, CR, LF, "OK", "+UU..."); the line is returned as
  `<prefix>...,<size>,""`.
- Memory: line, RX and chunk buffers are allocated here once. The '>'
  streaming loop allocates nothing itself when the source fills each view it
  gets (a short return inside the last chunk costs one new view); decoding a
  received line into a str allocates, as the caller needs a str.
  MicroPython puts a call's frame on the heap when its state (locals, value
  stack, 3 words per try block) exceeds 11 words: functions called per
  chunk or per line stay within that, so the command in progress (name,
  timeout, secrecy, deadline) lives in attributes.
"""

from micropython import const
from time import sleep_ms, ticks_add, ticks_diff, ticks_ms

from .errors import AtError, AtTimeout, CmeError, ProtocolError, RingOverflow, TransferError

_LINE_MAX = const(512)
_RX = const(64)
_GUARD_MS = const(21000)   # spec: 20 s guard timer on an interrupted transfer
_PROBE_MS = const(1000)
_PROBES = const(3)
_QUIET_MS = const(50)

_CR = const(13)
_LF = const(10)
_GT = const(62)
_QUOTE = const(34)
_COMMA = const(44)

_PROMPT = object()  # what _next() returns for the '>' prompt

# what _collect() waits for
_RESPONSE = const(0)     # the final result
_PROMPT_WAIT = const(1)  # the '>' prompt
_DURING = const(2)       # nothing: takes what arrived while streaming


def _name(cmd):
    """The command's name for messages: never its parameters (secrets)."""
    return "AT" + cmd.split("=")[0].split("?")[0]


def _prefixes(cmd, info):
    """The prefixes of cmd's information lines: info (a str or a tuple of
    them) if given, else "+NAME:" for "+NAME...", else none."""
    if info is not None:
        return (info,) if isinstance(info, str) else tuple(info)
    if cmd[:1] != "+":
        return ()
    end = len(cmd)
    for sep in "=?":
        j = cmd.find(sep)
        if 0 < j < end:
            end = j
    return (cmd[:end] + ":",)


# an echoed command, in any case (a slice and upper() would be two new strs)
_ECHO = ("AT", "at", "At", "aT")


def _is_final(line):
    return line == "OK" or line == "ERROR" or line.startswith("+CME ERROR:")


class AtEngine:
    def __init__(self, uart, ring, *, timeout_ms=5000, chunk=256, trace=None,
                 line_max=_LINE_MAX, guard_ms=_GUARD_MS, probe_ms=_PROBE_MS,
                 quiet_ms=_QUIET_MS):
        if chunk < 1 or line_max < 8:
            raise ValueError("chunk/line_max")
        self.uart = uart
        self.ring = ring
        self.timeout_ms = timeout_ms
        self.guard_ms = guard_ms
        self.probe_ms = probe_ms
        self.quiet_ms = quiet_ms
        if trace is not None:  # the trace module is loaded only when used
            from .trace import make
            trace = make(trace)
        self.trace = trace
        self._chunk = memoryview(bytearray(chunk))
        self._line = memoryview(bytearray(line_max))
        self._cap = line_max
        self._len = 0
        self._overlong = False
        self._bad = None          # why the response in progress is unusable
        self._rx = bytearray(_RX)
        self._rx_mv = memoryview(self._rx)
        self._rx_n = 0
        self._rx_i = 0
        self._lost_seen = ring.lost
        self._urcs = []           # [(prefix, handler)], first match wins
        self._redact_rx = ["+UUSECPRF:"]
        self._startup = ()
        self._need_startup = False
        self._active = False
        self._synced = True
        self._final_seen = True
        self._owed = 0            # bytes of a '>' transfer not yet sent
        self._guard_owed = False  # a transfer was cut short by an interrupt
        # the command in progress (attributes keep the per-call frames small)
        self._cmd = None
        self._info = ()           # prefixes of its information lines
        self._out = None          # its bytes, until sent
        self._tmo = timeout_ms
        self._secret = False
        self._redact = None
        self._deadline = None
        self._pay = None          # command_payload(): the line prefix (bytes)
        self._sink = None         # and where the payload bytes go
        self._wait = None         # deadline of a stalled UART write
        self.urc_dropped = 0
        self.urc_errors = 0
        self.urc_error = None
        self.stray = 0            # non-URC lines received outside a command
        self.resyncs = 0

    # -- configuration -------------------------------------------------------

    def on_urc(self, prefix, handler):
        """Call handler(line) for each received line starting with prefix;
        handler None removes it."""
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("URC prefix")
        urcs = self._urcs
        for i in range(len(urcs)):
            if urcs[i][0] == prefix:
                if handler is None:
                    urcs.pop(i)
                else:
                    urcs[i] = (prefix, handler)
                return
        if handler is not None:
            urcs.append((prefix, handler))

    @property
    def busy(self):
        """True while a command or a '>' transfer is in flight (e.g. inside
        a URC handler): SessionKeeper.save() writes no flash then."""
        return self._active

    def redact_rx(self, prefix):
        """Trace received lines starting with prefix without their content."""
        if prefix not in self._redact_rx:
            self._redact_rx.append(prefix)

    def set_startup(self, cmds):
        """Commands run before the first command and after each resync."""
        self._startup = tuple(cmds)
        self._need_startup = bool(self._startup)

    def start(self):
        """Run the startup commands now."""
        self._enter()
        self._active = False

    # -- public commands -----------------------------------------------------

    # -- the engine contract: generator forms, driven by run() ----------------
    # A command family is written once as a generator over exchange*(); the
    # blocking engine's run() drives it here, ubxsec.aio's run() with awaits.

    def exchange(self, cmd, timeout_ms=None, *, secret=False, redact=None, info=None):
        """Generator form of command(): returns its information lines."""
        return (yield from self._exchange(cmd, timeout_ms, secret, redact, info, 0, None, None, None))

    def exchange_data(self, cmd, size, source, timeout_ms=None, *, secret=False,
                      redact=None, info=None):
        """Generator form of command_with_data()."""
        return (yield from self._exchange(cmd, timeout_ms, secret, redact, info, size, source, None, None))

    def exchange_payload(self, cmd, prefix, sink, timeout_ms=None):
        """Generator form of command_payload()."""
        return (yield from self._exchange(cmd, timeout_ms, False, None, None, 0, None, prefix, sink))

    def run(self, gen):
        """Drive gen (an exchange*() generator, or one built over them) to
        its end and return its value. An exception raised here while gen
        waits (KeyboardInterrupt) is thrown into gen, so the engine recovers
        as for any other interruption."""
        value = None
        while True:
            try:
                value = gen.send(value)
            except StopIteration as stop:
                return stop.value
            value = None

    def command(self, cmd, timeout_ms=None, *, secret=False, redact=None, info=None):
        """Send AT<cmd>; returns its information lines (those starting with
        "+NAME:", or with a prefix of info). Raises for an error result."""
        self._begin(cmd, timeout_ms, secret, redact, info)
        return self._run(0, None)

    def command_with_data(self, cmd, size, source, timeout_ms=None, *,
                          secret=False, redact=None, info=None):
        """command() with a '>' data phase: streams size bytes from
        source(memoryview) -> count."""
        if not isinstance(size, int) or size < 1:
            raise ValueError("data size")
        self._begin(cmd, timeout_ms, secret, redact, info)
        return self._run(size, source)

    def command_payload(self, cmd, prefix, sink, timeout_ms=None):
        """command() for an answer line `<prefix>...,<size>,"<data>"` whose
        <size> data bytes may be anything (quotes, CR, LF, "OK"): they go to
        sink(memoryview) in order, never into a line, and the line is
        returned among the others without them: `<prefix>...,<size>,""`."""
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("payload prefix")
        pay = prefix.encode()
        self._begin(cmd, timeout_ms, False, None, prefix)
        self._pay = pay
        self._sink = sink
        return self._run(0, None)

    def _exchange(self, cmd, tmo, secret, redact, info, size, source, prefix, sink):
        if prefix is not None:
            return self.command_payload(cmd, prefix, sink, tmo)
        if size or source is not None:
            return self.command_with_data(cmd, size, source, tmo, secret=secret,
                                          redact=redact, info=info)
        return self.command(cmd, tmo, secret=secret, redact=redact, info=info)
        yield  # a generator: the waits move in here

    def _begin(self, cmd, tmo, secret, redact, info):
        """Check cmd, get the engine in sync, and make cmd the one in
        progress (sent by _run)."""
        self._out = self._encode(cmd)
        prefixes = _prefixes(cmd, info)
        self._enter()
        self._context(cmd, tmo, secret, redact)
        self._info = prefixes

    def _context(self, cmd, tmo, secret, redact):
        self._cmd = cmd
        self._info = _prefixes(cmd, None)
        self._tmo = self.timeout_ms if tmo is None else tmo
        self._secret = secret
        self._redact = redact

    def _run(self, size, source):
        """Send the command; with a size, wait for the '>' prompt and stream
        size bytes from source; return the information lines."""
        streamed = False  # set before anything can raise: the except reads it
        try:
            data = self._out
            self._out = None
            self._send(data)
            info = []
            if size:
                self._collect(info, _PROMPT_WAIT)
                self._owed = size
                streamed = True
                self._stream(size, source, info)
            self._collect(info, _RESPONSE)
        except BaseException as exc:
            if streamed and isinstance(exc, AtError):
                # refused after data went out: the module may have ended its
                # data phase early and read the rest as command lines
                self._final_seen = False
                self._owed = 0
            try:
                self._recover(exc)
            finally:
                self._end()
            raise
        self._end()
        return info

    def _end(self):
        self._bad = None  # a bad line belongs to its command only
        self._owed = 0
        self._pay = None
        self._sink = None
        self._active = False

    def poll(self):
        """Dispatch the URCs that arrived while idle; returns how many other
        (stray) lines were dropped. Raises RingOverflow / ProtocolError once
        for bytes lost or an over-long line while idle."""
        if self._active:
            return 0
        self._active = True
        try:
            return self._drain_idle()
        finally:
            self._active = False

    # -- sending -------------------------------------------------------------

    @staticmethod
    def _encode(cmd):
        if not isinstance(cmd, str):
            raise ValueError("command must be a str")
        for ch in cmd:
            c = ord(ch)
            if c < 0x20 or c > 0x7E:
                raise ValueError("command holds a forbidden character (code %d)" % c)
        return ("AT" + cmd + "\r").encode()

    def _send(self, data):
        self._final_seen = False
        self._bad = None
        if self.trace:
            self.trace.tx(self._cmd, self._secret, self._redact)
        self._write_all(data, 0, len(data))

    def _write_all(self, buf, off, n):
        """Write n bytes of buf from off, honouring short writes (None or
        fewer bytes); a stall longer than the command's timeout raises."""
        self._wait = None
        while n:
            w = self.uart.write(buf, off, n)
            if w:
                off += w
                n -= w
                self._wait = None
            else:
                self._stalled()

    def _stalled(self):
        if self._wait is None:
            self._wait = ticks_add(ticks_ms(), self._tmo)
        self.ring.fill()  # keep RX moving while TX is held back
        if ticks_diff(self._wait, ticks_ms()) <= 0:
            raise AtTimeout("UART write stalled for %d ms" % self._tmo)
        sleep_ms(1)

    # -- receiving -----------------------------------------------------------

    def _refill(self):
        """Read the ring into the RX buffer; returns bytes now available."""
        ring = self.ring
        ring.fill()
        n = ring.readinto(self._rx, _RX)
        if ring.lost != self._lost_seen:
            n = ring.lost - self._lost_seen
            self._lost_seen = ring.lost
            self._rx_n = 0
            self._rx_i = 0
            self._len = 0
            raise RingOverflow("%d received bytes lost (ring full)" % n)
        self._rx_n = n
        self._rx_i = 0
        return n

    def _next(self, deadline, want_prompt=False):
        """The next response line (str), _PROMPT, or None when nothing more
        arrives before deadline (None: do not wait). URCs are dispatched here.
        """
        while True:
            i = self._rx_i
            if i >= self._rx_n:
                if not self._refill():
                    if deadline is None or ticks_diff(deadline, ticks_ms()) <= 0:
                        return None
                    sleep_ms(1)
                    continue
                i = 0
            c = self._rx[i]
            self._rx_i = i + 1
            if c == _CR or c == _LF:
                if self._len:
                    line = self._take()
                    if line is not None:
                        return line
            elif c == _GT and want_prompt and not self._len:
                return _PROMPT
            elif self._len < self._cap:
                self._line[self._len] = c
                self._len += 1
                if c == _QUOTE and self._sink is not None:
                    deadline = self._payload(deadline)
            else:
                self._overlong = True

    def _take(self):
        """The line just ended, as a str; None for a URC (dispatched), a
        blank line, or a line that cannot be used (noted in _bad)."""
        n = self._len
        self._len = 0
        if self._overlong:
            self._overlong = False
            line = self._line
            if not (line[0] | 32 == 97 and line[1] | 32 == 116):  # not an "AT" echo
                self._bad = "line longer than %d bytes" % self._cap
                if self.trace:
                    self.trace.event(self._bad)
            return None
        text = self._decode(n)
        if text and not self._urc(text):
            return text
        return None

    def _decode(self, n):
        try:
            return str(self._line[:n], "utf-8").strip()
        except UnicodeError:
            self._bad = "line is not UTF-8"
            return None

    # -- payload inside a line (command_payload) -------------------------------

    def _payload(self, deadline):
        """At a '"' just stored: if it opens the payload, hand the payload to
        the sink; returns the deadline to go on with."""
        size = self._payload_size()
        if size < 0:
            return deadline
        while size:
            i = self._rx_i
            if i >= self._rx_n:
                if not self._refill():
                    if deadline is None or ticks_diff(deadline, ticks_ms()) <= 0:
                        raise AtTimeout("payload stopped with %d bytes owed" % size)
                    sleep_ms(1)
                    continue
                i = 0
            k = self._rx_n - i
            if k > size:
                k = size
            self._sink(self._rx_mv[i:i + k])
            self._rx_i = i + k
            size -= k
            deadline = ticks_add(ticks_ms(), self._tmo)
        self._deadline = deadline  # progress: the response wait starts again
        return deadline

    def _payload_size(self):
        """<size> when the line so far is `<prefix>...,<size>,"` with every
        earlier string closed (a name may hold `,12,`), else -1."""
        line = self._line
        pay = self._pay
        k = len(pay)
        i = self._len - 2
        if i < k + 1 or line[i] != _COMMA:
            return -1
        for j in range(k):
            if line[j] != pay[j]:
                return -1
        size = 0
        unit = 1
        while i > k and 48 <= line[i - 1] <= 57:
            i -= 1
            size += (line[i] - 48) * unit
            unit *= 10
        if unit == 1 or line[i - 1] != _COMMA:
            return -1
        quotes = 0
        for j in range(k, i):
            if line[j] == _QUOTE:
                quotes += 1
        return -1 if quotes & 1 else size

    # -- URCs ------------------------------------------------------------------

    def _urc(self, text):
        """Dispatch text if it is a URC; True if it was one."""
        for handler in self._urcs:
            if text.startswith(handler[0]):
                handler = handler[1]
                break
        else:
            if not text.startswith("+UU"):
                return False
            handler = None
        if self.trace:
            self.trace.rx(text, False, None, self._redact_rx)
        if handler is None:
            self.urc_dropped += 1
        else:
            self._call(handler, text)
        return True

    def _call(self, handler, text):
        try:
            handler(text)
        except Exception as exc:  # a faulty handler must not desync the engine
            self.urc_errors += 1
            self.urc_error = exc

    # -- responses -------------------------------------------------------------

    def _final(self, line):
        """True for OK; raises for an error result; False otherwise."""
        if not _is_final(line):
            return False
        self._final_seen = True
        if line == "OK":
            return True
        if line == "ERROR":
            raise AtError("ERROR")
        rest = line[11:].strip()
        if rest.isdigit():
            raise CmeError(int(rest), None)
        raise CmeError(None, rest)

    def _collect(self, info, mode):
        """Collect information lines into info (echo skipped, URCs
        dispatched) until: the final result (_RESPONSE: returns info), the
        '>' prompt (_PROMPT_WAIT), or nothing more received right now
        (_DURING: streaming goes on). Raises for an error result, a timeout,
        or a final result where the prompt or more data is owed."""
        self._deadline = None if mode == _DURING else ticks_add(ticks_ms(), self._tmo)
        while True:
            line = self._next(self._deadline, mode == _PROMPT_WAIT)
            if line is _PROMPT:
                return info
            if line is None:
                if mode == _DURING:
                    return info
                raise self._timeout(mode)
            if mode != _DURING:  # a line is progress: timeout_ms starts again
                self._deadline = ticks_add(ticks_ms(), self._tmo)
            if line.startswith(_ECHO):
                continue  # echo
            if self.trace:
                self._trace_rx(line)
            if self._final(line):
                self._check_final(mode)
                return info
            if self._answers(line):
                info.append(line)
            else:  # a URC without a handler (+CEREG, +CSCON, RING, ...)
                self.urc_dropped += 1

    def _answers(self, line):
        """True if line is an information line of the command in progress."""
        for prefix in self._info:
            if line.startswith(prefix):
                return True
        return False

    def _timeout(self, mode):
        return AtTimeout("no %s for %s within %d ms" % (
            "'>' prompt" if mode else "final result", _name(self._cmd), self._tmo))

    def _trace_rx(self, line):
        self.trace.rx(line, self._secret and not _is_final(line), self._redact, self._redact_rx)

    def _check_final(self, mode):
        """Raises if the OK just received comes too early or ends a response
        that was unusable."""
        if mode == _PROMPT_WAIT:
            raise ProtocolError("%s: OK without a '>' prompt" % _name(self._cmd))
        if mode == _DURING:
            raise ProtocolError("OK before the data phase ended")
        bad = self._bad
        if bad:
            self._bad = None
            raise ProtocolError("%s: %s" % (_name(self._cmd), bad))

    # -- '>' data phase ------------------------------------------------------

    def _stream(self, size, source, info):
        full = self._chunk
        csize = len(full)
        view = full
        vlen = csize
        remaining = size
        while remaining:
            want = remaining if remaining < csize else csize
            if want != vlen:
                # the tail, or after a short return: the only allocation here
                view = full if want == csize else full[:want]
                vlen = want
            n = source(view)
            if not n:
                raise TransferError("source ran dry after %d of %d bytes"
                                           % (size - remaining, size))
            if n < 0 or n > vlen:
                raise ValueError("source returned %r for a %d-byte view" % (n, vlen))
            self._write_all(full, 0, n)
            remaining -= n
            self._owed = remaining
            if remaining:  # URCs, or the module ending the data phase early
                self._collect(info, _DURING)
        if self.trace:
            self.trace.data(size)

    # -- sync ----------------------------------------------------------------

    def _enter(self):
        if self._active:
            raise RuntimeError("AT engine busy (a command from a URC handler?)")
        self._active = True
        try:
            if not self._synced and not self._resync(self.guard_ms if self._guard_owed else 0):
                raise AtTimeout("module not answering AT")
            try:
                self._drain_idle()
            except (RingOverflow, ProtocolError) as exc:
                raise type(exc)("%s while idle; command not sent" % exc.args[0])
            if self._need_startup:
                for cmd in self._startup:
                    self._context(cmd, None, False, None)
                    self._send(self._encode(cmd))
                    self._collect([], _RESPONSE)
                self._need_startup = False
        except BaseException as exc:
            self._recover(exc)
            self._active = False
            raise

    def _drain_idle(self):
        try:
            return self._strays()
        except RingOverflow:
            self._flush()
            raise

    def _strays(self):
        handled = 0
        while self._next(None) is not None:
            handled += 1
            self.stray += 1
            if self.trace:
                self.trace.event("stray line dropped")
        if self._bad:
            bad, self._bad = self._bad, None
            raise ProtocolError(bad)
        return handled

    def _recover(self, exc):
        if self._final_seen:
            return  # the module answered: in sync
        if not isinstance(exc, Exception):
            self._synced = False  # e.g. KeyboardInterrupt: resync next time
            # cut inside a '>' transfer: the module is still in its data
            # phase, and the next resync's probes must not become data
            self._guard_owed = self._owed > 0
            return
        if self.trace:
            self.trace.event("resync after %s" % type(exc).__name__)
        self._resync(self.guard_ms if self._owed else 0)
        self._final_seen = True

    def _flush(self):
        self.ring.clear()
        self._rx_n = 0
        self._rx_i = 0
        self._len = 0
        self._overlong = False
        self._bad = None
        self._lost_seen = self.ring.lost

    def _next_quiet(self, deadline):
        try:
            return self._next(deadline)
        except RingOverflow:
            self._flush()
            return ""

    def _resync(self, wait_ms):
        """Bring the module back to command mode, answering AT with OK."""
        self.resyncs += 1
        self._synced = False
        self._guard_owed = False
        self._sink = None  # a payload cut short is not looked for again
        self._tmo = self.probe_ms
        if wait_ms:
            # A data phase still owed bytes: the module ends it by its guard
            # timer. Send nothing (never pad), just wait for its result.
            deadline = ticks_add(ticks_ms(), wait_ms)
            while True:
                line = self._next_quiet(deadline)
                if line is None or _is_final(line):
                    break
        for _ in range(_PROBES):
            self._flush()
            try:
                self._write_all(b"AT\r", 0, 3)
            except AtTimeout:
                continue
            deadline = ticks_add(ticks_ms(), self.probe_ms)
            while True:
                line = self._next_quiet(deadline)
                if line is None:
                    break
                if line == "OK":
                    self._quiet()
                    self._synced = True
                    self._need_startup = bool(self._startup)
                    return True
        if self.trace:
            self.trace.event("resync failed")
        return False

    def _quiet(self):
        """Drop lines until none arrives for quiet_ms (late answers to the
        command that timed out, or to an earlier probe)."""
        deadline = ticks_add(ticks_ms(), self.quiet_ms)
        limit = ticks_add(deadline, self.probe_ms)  # a stream of noise ends it too
        while self._next_quiet(deadline) is not None:
            if ticks_diff(limit, ticks_ms()) <= 0:
                break
            deadline = ticks_add(ticks_ms(), self.quiet_ms)
        self._bad = None
