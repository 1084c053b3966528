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
- Every received line is classified in this order, the first match
  winning (AtEngine._classify, called by _next for every line):
    1. a prefix registered with on_urc()   its handler, at once
    2. "+UU..."                            a URC without a handler: counted
                                           in `urc_dropped`
    3. "AT..." in any case                 the command's echo: skipped
    4. OK, ERROR, +CME ERROR: <n|text>     the final result
    5. the command's information prefix    an information line
    6. anything else                       unsolicited (+CEREG, +CSCON, RING):
                                           counted in `urc_dropped`
  The information prefix is "+NAME:" for AT+NAME..., or the prefixes the
  caller gives (`info=`, e.g. the unprefixed lines of the +USECMNG listing).
  While idle, kinds 3-6 are stray lines (counted in `stray`). No URC ever
  fails a command.
- URC handlers (kinds 1-2) are recognised everywhere (idle, between echo and
  response, inside a response, during a '>' transfer, during a resync),
  never taken for the response, and handed to their handler at once, in
  arrival order, on the caller's thread (never in the IRQ). A handler that raises is counted in `urc_errors` (the
  last exception kept in `urc_error`) so that the exchange stays in sync; a
  handler must not issue commands (that raises RuntimeError inside it).
- Timeouts: timeout_ms bounds each wait without progress (the response, the
  prompt, payload bytes, a UART write that stalls under flow control),
  measured with time.ticks_ms. Progress is the command's own traffic only
  (its echo, information lines, payload bytes and prompt; for a stalled
  write, bytes taken): a URC or unsolicited line (kinds 1, 2, 6) is not, so
  a command never answered times out on a line that never goes quiet.
- One rule set, two front ends: every wait (response, prompt, payload
  bytes, write stall, guard wait, resync probes, quiet drain) is a `yield`
  inside the generators exchange(), exchange_data(), exchange_payload() and
  prepare(); the steps between waits never wait. run() drives them here,
  sleeping 1 ms at each bare `yield` and going straight on at `yield TURN`
  (a '>' chunk went out); an exception raised in run() while a generator
  waits (KeyboardInterrupt) is thrown into it, so it recovers as from any
  other interruption. ubxsec.aio drives the same generators with awaits.
- Errors and sync: after a final result the engine is in sync, whatever it
  was, except a final result that fails a '>' transfer once data went out
  (ERROR, +CME ERROR, or an OK partway: ProtocolError): the module may have
  ended its data phase early and read the rest as a command line, so the
  engine resynchronises, probing at once. After anything else (timeout,
  ring overflow, a source that fails or runs dry mid-transfer) it
  resynchronises before raising: it waits out a data phase still owed bytes
  (the module's guard timer, `guard_ms`) without sending anything (never
  padding), then sends "AT" until OK and drains the line until it is quiet.
  If that fails the next command tries again first.
- A late prompt: after a prompt timeout, until the next command is written,
  a '>' at the start of a line seen while resynchronising or idle is that
  command's prompt come late: the module's data phase is open, and anything
  sent would become its data. The engine sends nothing then: it waits for
  the module's final result (its guard timer; `guard_ms` at most) before it
  probes, in that resync, or, idle (command(), poll()), in the resync the
  next command runs before it is sent. Any other '>' nobody awaits is part
  of a line.
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
- Memory: line, RX and chunk buffers are allocated here once. A command
  costs its generators (one per exchange, one per wait phase; one for the
  whole '>' transfer, whose per-chunk collection never waits, so it stays
  a plain call). The '>' streaming loop allocates nothing itself when the source fills each view it
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

# what a generator yields: None to wait (for bytes, or for time to pass);
# TURN when a '>' chunk went out and it can go straight on (a front end
# lets other tasks run there)
TURN = const(1)

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


# -- line classification: the kinds, in the order AtEngine._classify tries them
_URC = const(1)     # a prefix registered with on_urc(): its handler
_UU = const(2)      # "+UU...": a URC without a handler
_ECHOED = const(3)  # "AT..." in any case: the command's echo
_FINAL = const(4)   # OK, ERROR, +CME ERROR: ...
_INFO = const(5)    # the command's information prefix
_OTHER = const(6)   # anything else: unsolicited


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
        self._handler = None      # the handler _registered() found
        self._kind = _OTHER       # the kind of the line _next() returned
        self._redact_rx = ["+UUSECPRF:"]
        self._startup = ()
        self._need_startup = False
        self._active = False
        self._synced = True
        self._final_seen = True
        self._owed = 0            # bytes of a '>' transfer not yet sent
        self._guard_owed = False  # a data phase is open: wait for its result
        self._late = 0            # a prompt timed out: its '>' may still come
        # the command in progress (attributes keep the per-call frames small)
        self._cmd = None
        self._info = ()           # prefixes of its information lines
        self._tmo = timeout_ms
        self._secret = False
        self._redact = None
        self._deadline = None
        self._pay = None          # command_payload(): the line prefix (bytes)
        self._sink = None         # and where the payload bytes go
        self._pay_left = 0        # payload bytes still to hand to the sink
        self._wait = None         # deadline of a stalled UART write
        self._woff = 0            # the write in progress: offset, bytes left
        self._wn = 0
        self.dispatching = False  # a URC handler is running
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

    def set_startup(self, cmds):
        """Commands run before the first command and after each resync."""
        self._startup = tuple(cmds)
        self._need_startup = bool(self._startup)

    def start(self):
        """Run the startup commands now."""
        return self.run(self.prepare())

    # -- the engine contract: generator forms, driven by run() ----------------
    # A command family is written once as generators over these; run() drives
    # them here, ubxsec.aio's run() with awaits.

    def exchange_data(self, cmd, size, source, timeout_ms=None, **kw):
        """Generator form of command_with_data(); keywords as exchange()."""
        return self.exchange(cmd, timeout_ms, size=size, source=source, **kw)

    def exchange_payload(self, cmd, prefix, sink, timeout_ms=None):
        """Generator form of command_payload()."""
        return self.exchange(cmd, timeout_ms, prefix=prefix, sink=sink)

    def prepare(self):
        """Generator: get in sync and run the startup commands (start())."""
        yield from self._enter()
        self._active = False

    def run(self, gen):
        """Drive gen (an exchange*() generator, or one built over them) to
        its end and return its value. An exception raised here while gen
        waits (KeyboardInterrupt) is thrown into gen, so the engine recovers
        as from any other interruption."""
        exc = None
        while True:
            try:
                step = gen.send(None) if exc is None else gen.throw(exc)
            except StopIteration as stop:
                return stop.value
            exc = None
            if step is None:
                try:
                    sleep_ms(1)
                except BaseException as e:  # noqa: BLE001 - thrown into gen
                    exc = e

    # -- public commands (blocking) -------------------------------------------

    def command(self, *args, **kw):
        """Send AT<cmd>; returns its information lines (those starting with
        "+NAME:", or with a prefix of info). Raises for an error result.
        Arguments as exchange()."""
        return self.run(self.exchange(*args, **kw))

    def command_with_data(self, *args, **kw):
        """command() with a '>' data phase: streams size bytes from
        source(memoryview) -> count. Arguments as exchange_data()."""
        return self.run(self.exchange_data(*args, **kw))

    def command_payload(self, *args, **kw):
        """command() for an answer line `<prefix>...,<size>,"<data>"` whose
        <size> data bytes may be anything (quotes, CR, LF, "OK"): they go to
        sink(memoryview) in order, never into a line, and the line is
        returned among the others without them: `<prefix>...,<size>,""`.
        Arguments as exchange_payload()."""
        return self.run(self.exchange_payload(*args, **kw))

    def exchange(self, cmd, timeout_ms=None, *, secret=False, redact=None, info=None,
                 size=0, source=None, prefix=None, sink=None):
        """Generator form of command(): returns its information lines. The
        one command generator: it checks, gets in sync, sends cmd, with a
        size waits for the '>' prompt and streams size bytes from source
        (exchange_data), with a prefix hands a sized payload to sink
        (exchange_payload)."""
        tmo = timeout_ms
        pay = prefix
        out = self._encode(cmd)
        if source is not None and (not isinstance(size, int) or size < 1):
            raise ValueError("data size")
        if pay is not None:
            if not isinstance(pay, str) or not pay:
                raise ValueError("payload prefix")
            info = pay
            pay = pay.encode()
        info = _prefixes(cmd, info)
        fast = self._synced and self._final_seen and not (self._need_startup or self._active)
        if fast:
            # in sync and started: _enter() would wait for nothing, and its
            # generator would be one more object per command
            self._active = True
            try:
                self._idle()
            except BaseException:
                self._active = False
                raise
            if not self._synced:  # a late '>' seen while draining: resync first
                self._active = fast = False
        if not fast:
            yield from self._enter()
        self._context(cmd, tmo, secret, redact)
        self._info = info
        self._pay = pay
        self._sink = sink
        streamed = False  # set before anything can raise: the except reads it
        try:
            self._sending()
            self._write(len(out))
            while not self._push(out):
                yield
            info = []
            if size:
                yield from self._collect(info, _PROMPT_WAIT)
                self._owed = size
                streamed = True
                yield from self._stream(size, source, info)
            yield from self._collect(info, _RESPONSE)
        except BaseException as exc:
            if streamed and self._final_seen:
                # a final result (ERROR, or an OK partway: ProtocolError)
                # failed it after data went out: the module may have ended its
                # data phase early and read the rest as command lines
                self._final_seen = False
                self._owed = 0
            try:
                yield from self._recover(exc)
            finally:
                self._end()
            raise
        self._end()
        return info

    def _context(self, cmd, tmo, secret, redact):
        self._cmd = cmd
        self._tmo = self.timeout_ms if tmo is None else tmo
        self._secret = secret
        self._redact = redact

    def _end(self):
        self._bad = None  # a bad line belongs to its command only
        self._owed = 0
        self._pay = None
        self._sink = None
        self._pay_left = 0
        self._info = ()
        self._active = False

    def poll(self):
        """Dispatch the URCs that arrived while idle; returns how many other
        (stray) lines were dropped. Raises RingOverflow / ProtocolError once
        for bytes lost or an over-long line while idle. Never waits."""
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
        return ("AT%s\r" % cmd).encode()

    def _sending(self):
        self._final_seen = False
        self._late = 0
        self._bad = None
        if self.trace:
            self.trace.tx(self._cmd, self._secret, self._redact)

    def _write(self, n):
        """Start a write of n bytes: each _push() sends what the UART takes
        of it (`while not self._push(data): yield`, in the generator itself:
        a generator per write would cost its object at every command)."""
        self._woff = 0
        self._wn = n
        self._wait = None

    def _push(self, buf):
        """Write what the UART takes of the write in progress (_woff, _wn),
        honouring short writes (None or fewer bytes); True when all went
        out, False on a stall. A stall longer than the command's timeout
        raises."""
        while self._wn:
            w = self.uart.write(buf, self._woff, self._wn)
            if not w:
                if self._wait is None:
                    self._wait = ticks_add(ticks_ms(), self._tmo)
                self.ring.fill()  # keep RX moving while TX is held back
                if ticks_diff(self._wait, ticks_ms()) <= 0:
                    raise AtTimeout("UART write stalled for %d ms" % self._tmo)
                return False
            self._woff += w
            self._wn -= w
            self._wait = None
        return True

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
            self._pay_left = 0
            raise RingOverflow("%d received bytes lost (ring full)" % n)
        self._rx_n = n
        self._rx_i = 0
        return n

    def _next(self, want_prompt=False):
        """The next line that is not a URC (str, its kind in _kind), _PROMPT,
        or None when the bytes received so far hold no more. URCs are
        dispatched here. Never waits."""
        while True:
            i = self._rx_i
            if i >= self._rx_n:
                if not self._refill():
                    return None
                i = 0
            if self._pay_left:
                self._feed(i)
                continue
            c = self._rx[i]
            self._rx_i = i + 1
            if c == _CR or c == _LF:
                if self._len:
                    line = self._take()
                    if line is not None:
                        return line
            elif c == _GT and not self._len and (want_prompt or self._late):
                if want_prompt:
                    return _PROMPT
                # the late prompt: its data phase is open (never a line)
                self._synced = False
                self._guard_owed = True
                return None
            elif self._len < self._cap:
                self._line[self._len] = c
                self._len += 1
                if c == _QUOTE and self._sink is not None:
                    self._pay_left = self._payload_size()
            else:
                self._overlong = True

    def _take(self):
        """The line just ended, as a str, classified; None for a URC
        (dispatched), a blank line, or a line that cannot be used (noted in
        _bad)."""
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
        if not text:
            return None
        kind = self._classify(text)
        if kind == _URC or kind == _UU:
            self._urc(text, self._handler if kind == _URC else None)
            return None
        self._kind = kind
        return text

    def _classify(self, line):
        """The kind of a received line: the first of these that holds (the
        order of the module docstring; _next() applies it to every line)."""
        for entry in self._urcs:                 # 1. a registered prefix
            if line.startswith(entry[0]):
                self._handler = entry[1]
                return _URC
        if line.startswith("+UU"):               # 2. +UU without a handler
            return _UU
        if line.startswith(_ECHO):               # 3. echo
            return _ECHOED
        if _is_final(line):                      # 4. final result
            return _FINAL
        for prefix in self._info:                # 5. information prefix
            if line.startswith(prefix):
                return _INFO
        return _OTHER                            # 6. unsolicited

    def _decode(self, n):
        try:
            return str(self._line[:n], "utf-8").strip()
        except UnicodeError:
            self._bad = "line is not UTF-8"
            return None

    # -- payload inside a line (command_payload) -------------------------------

    def _feed(self, i):
        """Hand the payload bytes received from _rx[i] on to the sink."""
        k = self._rx_n - i
        if k > self._pay_left:
            k = self._pay_left
        self._sink(self._rx_mv[i:i + k])
        self._rx_i = i + k
        self._pay_left -= k
        self._deadline = ticks_add(ticks_ms(), self._tmo)  # progress

    def _payload_size(self):
        """<size> when the line so far is `<prefix>...,<size>,"` with every
        earlier string closed (a name may hold `,12,`), else 0."""
        line = self._line
        pay = self._pay
        k = len(pay)
        i = self._len - 2
        if i < k + 1 or line[i] != _COMMA:
            return 0
        for j in range(k):
            if line[j] != pay[j]:
                return 0
        size = 0
        unit = 1
        while i > k and 48 <= line[i - 1] <= 57:
            i -= 1
            size += (line[i] - 48) * unit
            unit *= 10
        if unit == 1 or line[i - 1] != _COMMA:
            return 0
        quotes = 0
        for j in range(k, i):
            if line[j] == _QUOTE:
                quotes += 1
        return 0 if quotes & 1 else size

    # -- URCs ------------------------------------------------------------------

    def _urc(self, text, handler):
        """Dispatch a URC: to its handler, else count it."""
        if self.trace:
            self.trace.rx(text, False, None, self._redact_rx)
        if handler is None:
            self.urc_dropped += 1
        else:
            self._call(handler, text)

    def _call(self, handler, text):
        self.dispatching = True  # a front end refuses commands meanwhile
        try:
            handler(text)
        except Exception as exc:  # a faulty handler must not desync the engine
            self.urc_errors += 1
            self.urc_error = exc
        finally:
            self.dispatching = False

    # -- responses -------------------------------------------------------------

    def _final(self, line):
        """True for OK; raises for an error result."""
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
        """Generator: collect information lines into info until the final
        result (_RESPONSE: returns info) or the '>' prompt (_PROMPT_WAIT).
        Raises for an error result, a timeout, or a final result where the
        prompt is owed."""
        self._deadline = ticks_add(ticks_ms(), self._tmo)
        while True:
            line = self._next(mode == _PROMPT_WAIT)
            if line is None:
                if ticks_diff(self._deadline, ticks_ms()) <= 0:
                    raise self._timeout(mode)
                yield
                continue
            if line is _PROMPT:
                return info
            if self._kind < _OTHER:  # the command's own line: progress
                self._deadline = ticks_add(ticks_ms(), self._tmo)
            if self._answer(line, info, mode):
                return info

    def _answer(self, line, info, mode):
        """Act on a line of kind 3-6 received during a command; True when it
        is the final result that ends it."""
        kind = self._kind
        if kind == _ECHOED:
            return False
        if self.trace:
            self.trace.rx(line, self._secret and kind != _FINAL, self._redact, self._redact_rx)
        if kind == _FINAL:
            self._final(line)
            self._check_final(mode)
            return True
        if kind == _INFO:
            info.append(line)
        else:  # a URC without a handler (+CEREG, +CSCON, RING, ...)
            self.urc_dropped += 1
        return False

    def _timeout(self, mode):
        self._late = mode  # _PROMPT_WAIT: the '>' may still come
        if self._pay_left:
            return AtTimeout("payload stopped with %d bytes owed" % self._pay_left)
        return AtTimeout("no %s for %s within %d ms" % (
            "'>' prompt" if mode else "final result", _name(self._cmd), self._tmo))

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
        """Generator: stream size bytes from source; one per transfer, so
        that nothing is allocated per chunk."""
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
            self._woff = 0
            self._wn = n
            self._wait = None
            while not self._push(full):
                yield
            remaining -= n
            self._owed = remaining
            if remaining:
                # what arrived meanwhile (URCs, or the module ending the data
                # phase early: raises); never waits
                line = self._next()
                while line is not None:
                    self._answer(line, info, _DURING)
                    line = self._next()
                yield TURN
        if self.trace:
            self.trace.data(size)

    # -- sync ----------------------------------------------------------------

    def _enter(self):
        """Generator: make the engine busy, in sync and started."""
        if self._active:
            raise RuntimeError("AT engine busy (a command from a URC handler?)")
        self._active = True
        try:
            if self._synced:  # a late prompt seen while draining unsyncs it
                self._idle()
            if not self._synced and not (yield from self._resync()):
                raise AtTimeout("module not answering AT")
            if self._need_startup:
                for cmd in self._startup:
                    self._context(cmd, None, False, None)
                    self._info = _prefixes(cmd, None)
                    self._sending()
                    out = self._encode(cmd)
                    self._write(len(out))
                    while not self._push(out):
                        yield
                    yield from self._collect([], _RESPONSE)
                self._need_startup = False
        except BaseException as exc:
            try:
                yield from self._recover(exc)
            finally:
                self._active = False
            raise

    def _idle(self):
        """What arrived while idle, before a command: _drain_idle()."""
        try:
            self._drain_idle()
        except (RingOverflow, ProtocolError) as exc:
            raise type(exc)("%s while idle; command not sent" % exc.args[0])

    def _drain_idle(self):
        """Drop what arrived while idle (URCs dispatched); returns how many
        stray lines. Raises once for bytes lost or a bad line."""
        handled = 0
        try:
            while self._next() is not None:
                handled += 1
                self.stray += 1
                if self.trace:
                    self.trace.event("stray line dropped")
        except RingOverflow:
            self._flush()
            raise
        if self._bad:
            bad, self._bad = self._bad, None
            raise ProtocolError(bad)
        return handled

    def _recover(self, exc):
        """Generator: after exc, get back in sync (or note that the next
        command must)."""
        if self._final_seen:
            return  # the module answered: in sync
        self._synced = False
        # cut inside a '>' transfer: the module is still in its data phase,
        # and the probes must not become data
        self._guard_owed = self._owed > 0
        if not isinstance(exc, Exception):
            return  # e.g. KeyboardInterrupt: resync next time
        if self.trace:
            self.trace.event("resync after %s" % type(exc).__name__)
        yield from self._resync()
        self._final_seen = True

    def _flush(self):
        self.ring.clear()
        self._rx_n = 0
        self._rx_i = 0
        self._len = 0
        self._overlong = False
        self._bad = None
        self._pay_left = 0
        self._lost_seen = self.ring.lost

    def _line_by(self, deadline):
        """Generator: the next line (URCs dispatched; "" after lost bytes),
        or None when none arrives before deadline."""
        while True:
            try:
                line = self._next()
            except RingOverflow:
                self._flush()
                return ""
            if line is not None or ticks_diff(deadline, ticks_ms()) <= 0:
                return line
            yield

    def _resync(self):
        """Generator: bring the module back to command mode, answering AT
        with OK; returns True once it did."""
        self.resyncs += 1
        self._synced = False
        self._sink = None  # a payload cut short is not looked for again
        self._pay_left = 0
        self._tmo = self.probe_ms
        for _ in range(_PROBES):
            if self._guard_owed:
                # A data phase is open: the module ends it by its guard
                # timer. Send nothing (never pad), just wait for its result.
                self._guard_owed = False
                deadline = ticks_add(ticks_ms(), self.guard_ms)
                while True:
                    line = yield from self._line_by(deadline)
                    if line is None or _is_final(line):
                        break
            self._flush()
            try:
                self._write(3)
                while not self._push(b"AT\r"):
                    yield
            except AtTimeout:
                continue
            deadline = ticks_add(ticks_ms(), self.probe_ms)
            while True:
                line = yield from self._line_by(deadline)
                if line is None:
                    break
                if line == "OK":
                    # drop lines until none arrives for quiet_ms (late answers
                    # to the command that timed out, or to an earlier probe);
                    # a stream of noise ends it too
                    deadline = ticks_add(ticks_ms(), self.quiet_ms)
                    limit = ticks_add(deadline, self.probe_ms)
                    while (yield from self._line_by(deadline)) is not None:
                        if ticks_diff(limit, ticks_ms()) <= 0:
                            break
                        deadline = ticks_add(ticks_ms(), self.quiet_ms)
                    if self._guard_owed:
                        break  # a late prompt meanwhile: wait it out first
                    self._bad = None
                    self._synced = True
                    self._need_startup = bool(self._startup)
                    return True
        if self.trace:
            self.trace.event("resync failed")
        return False
