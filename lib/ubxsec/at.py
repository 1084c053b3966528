"""The AT engine: one command at a time over a UART whose RX goes to a Ring.

Wire rules it follows:
- A command is written as b"AT" + cmd + b"\\r". Echo (ATE1) is tolerated: a
  received line that starts with "AT" is never a response.
- Lines end at CR or LF; blank lines are skipped. A response is the
  information lines up to a final result: OK, ERROR or +CME ERROR: <n|text>.
- The data prompt is a bare '>' at the start of a line (no line end follows).
  A '>' inside a line is never a prompt, and a URC always ends with CRLF, so a
  URC that arrives right before the prompt is dispatched as a line and the
  '>' after it is still at the start of a line: both are seen.
- URCs: lines starting with "+UU" or with a prefix given to on_urc(). They
  are recognised everywhere (idle, between echo and response, inside a
  response, during a '>' transfer), never taken for the response, and handed
  to their handler at once, in arrival order, on the caller's thread (never
  in the IRQ). A "+UU" line without a handler is dropped and counted in
  `urc_dropped`. A handler that raises is counted in `urc_errors` (the last
  exception kept in `urc_error`) so that the exchange stays in sync; a
  handler must not issue commands (that raises RuntimeError inside it).
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
- Memory: line, RX and chunk buffers are allocated here once. The '>'
  streaming loop allocates nothing itself when the source fills each view it
  gets (a short return inside the last chunk costs one new view); decoding a
  received line into a str allocates, as the caller needs a str.
"""

import time
from micropython import const

from . import errors

_LINE_MAX = const(512)
_RX = const(64)
_GUARD_MS = const(21000)   # spec: 20 s guard timer on an interrupted transfer
_PROBE_MS = const(1000)
_PROBES = const(3)
_QUIET_MS = const(50)

_CR = const(13)
_LF = const(10)
_GT = const(62)

_PROMPT = object()  # what _next() returns for the '>' prompt

# what _collect() waits for
_RESPONSE = const(0)     # the final result
_PROMPT_WAIT = const(1)  # the '>' prompt
_DURING = const(2)       # nothing: takes what arrived while streaming


def _name(cmd):
    """The command's name for messages: never its parameters (secrets)."""
    return "AT" + cmd.split("=")[0].split("?")[0]


def _is_final(line):
    return line == "OK" or line == "ERROR" or line.startswith("+CME ERROR:")


def _is_echo(line):
    return line[:2].upper() == "AT"


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
        self._len = 0
        self._overlong = False
        self._bad = None          # why the response in progress is unusable
        self._rx = bytearray(_RX)
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

    def command(self, cmd, timeout_ms=None, *, secret=False, redact=None):
        return self._run(cmd, timeout_ms, secret, redact, 0, None)

    def command_with_data(self, cmd, size, source, timeout_ms=None, *,
                          secret=False, redact=None):
        if not isinstance(size, int) or size < 1:
            raise ValueError("data size")
        return self._run(cmd, timeout_ms, secret, redact, size, source)

    def _run(self, cmd, tmo, secret, redact, size, source):
        """Send cmd; with a size, wait for the '>' prompt and stream size
        bytes from source; return the information lines of the response."""
        data = self._encode(cmd)
        if tmo is None:
            tmo = self.timeout_ms
        self._enter()
        try:
            self._send(cmd, data, tmo, secret, redact)
            info = []
            if size:
                self._collect(cmd, tmo, secret, redact, info, _PROMPT_WAIT)
                self._owed = size
                self._stream(size, source, tmo, secret, redact, info)
            return self._collect(cmd, tmo, secret, redact, info, _RESPONSE)
        except BaseException as exc:
            self._recover(exc)
            raise
        finally:
            self._owed = 0
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

    def _send(self, cmd, data, tmo, secret, redact):
        self._final_seen = False
        self._bad = None
        if self.trace:
            self.trace.tx(cmd, secret, redact)
        self._write_all(data, 0, len(data), tmo)

    def _write_all(self, buf, off, end, tmo):
        """Write buf[off:end], honouring short writes (None or fewer bytes)."""
        uart = self.uart
        deadline = time.ticks_add(time.ticks_ms(), tmo)
        while off < end:
            w = uart.write(buf, off, end - off)
            if w:
                off += w
                deadline = time.ticks_add(time.ticks_ms(), tmo)
                continue
            self.ring.fill()  # keep RX moving while TX is held back
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                raise errors.AtTimeout("UART write stalled for %d ms" % tmo)
            time.sleep_ms(1)

    # -- receiving -----------------------------------------------------------

    def _refill(self):
        """Read the ring into the RX buffer; returns bytes now available."""
        ring = self.ring
        ring.fill()
        n = ring.readinto(self._rx, _RX)
        lost = ring.lost
        if lost != self._lost_seen:
            gone = lost - self._lost_seen
            self._lost_seen = lost
            self._rx_n = 0
            self._rx_i = 0
            self._len = 0
            raise errors.RingOverflow("%d received bytes lost (ring full)" % gone)
        self._rx_n = n
        self._rx_i = 0
        return n

    def _next(self, deadline, want_prompt=False):
        """The next response line (str), _PROMPT, or None when nothing more
        arrives before deadline (None: do not wait). URCs are dispatched here.
        """
        line = self._line
        cap = len(line)
        rx = self._rx
        while True:
            i = self._rx_i
            if i >= self._rx_n:
                if not self._refill():
                    if deadline is None or time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                        return None
                    time.sleep_ms(1)
                    continue
                i = 0
            c = rx[i]
            self._rx_i = i + 1
            if c == _CR or c == _LF:
                n = self._len
                if not n:
                    continue
                self._len = 0
                if self._overlong:
                    self._overlong = False
                    if not (line[0] in (65, 97) and line[1] in (84, 116)):
                        self._bad = "line longer than %d bytes" % cap
                        if self.trace:
                            self.trace.event(self._bad)
                    continue
                try:
                    text = str(line[:n], "utf-8").strip()
                except UnicodeError:
                    self._bad = "line is not UTF-8"
                    continue
                if text and not self._urc(text):
                    return text
            elif c == _GT and want_prompt and not self._len:
                return _PROMPT
            elif self._len < cap:
                line[self._len] = c
                self._len += 1
            else:
                self._overlong = True

    def _urc(self, text):
        """Dispatch text if it is a URC; True if it was one."""
        for prefix, handler in self._urcs:
            if text.startswith(prefix):
                break
        else:
            if not text.startswith("+UU"):
                return False
            handler = None
        if self.trace:
            self.trace.rx(text, False, None, self._redact_rx)
        if handler is None:
            self.urc_dropped += 1
            return True
        try:
            handler(text)
        except Exception as exc:  # a faulty handler must not desync the engine
            self.urc_errors += 1
            self.urc_error = exc
        return True

    def _final(self, line):
        """True for OK; raises for an error result; False otherwise."""
        if not _is_final(line):
            return False
        self._final_seen = True
        if line == "OK":
            return True
        if line == "ERROR":
            raise errors.AtError("ERROR")
        rest = line[11:].strip()
        if rest.isdigit():
            raise errors.CmeError(int(rest), None)
        raise errors.CmeError(None, rest)

    def _collect(self, cmd, tmo, secret, redact, info, mode):
        """Collect information lines into info (echo skipped, URCs
        dispatched) until: the final result (_RESPONSE: returns info), the
        '>' prompt (_PROMPT_WAIT), or nothing more received right now
        (_DURING: streaming goes on). Raises for an error result, a timeout,
        or a final result where the prompt or more data is owed."""
        deadline = None if mode == _DURING else time.ticks_add(time.ticks_ms(), tmo)
        while True:
            line = self._next(deadline, mode == _PROMPT_WAIT)
            if line is _PROMPT:
                return info
            if line is None:
                if mode == _DURING:
                    return info
                raise errors.AtTimeout("no %s for %s within %d ms" % (
                    "'>' prompt" if mode else "final result", _name(cmd), tmo))
            if _is_echo(line):
                continue
            if self.trace:
                self.trace.rx(line, secret and not _is_final(line), redact, self._redact_rx)
            if self._final(line):
                if mode == _PROMPT_WAIT:
                    raise errors.ProtocolError("%s: OK without a '>' prompt" % _name(cmd))
                if mode == _DURING:
                    raise errors.ProtocolError("OK before the data phase ended")
                bad = self._bad
                if bad:
                    self._bad = None
                    raise errors.ProtocolError("%s: %s" % (_name(cmd), bad))
                return info
            info.append(line)

    # -- '>' data phase ------------------------------------------------------

    def _stream(self, size, source, tmo, secret, redact, info):
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
                raise errors.TransferError("source ran dry after %d of %d bytes"
                                           % (size - remaining, size))
            if n < 0 or n > vlen:
                raise ValueError("source returned %r for a %d-byte view" % (n, vlen))
            self._write_all(full, 0, n, tmo)
            remaining -= n
            self._owed = remaining
            if remaining:  # URCs, or the module ending the data phase early
                self._collect(None, tmo, secret, redact, info, _DURING)
        if self.trace:
            self.trace.data(size)

    # -- sync ----------------------------------------------------------------

    def _enter(self):
        if self._active:
            raise RuntimeError("AT engine busy (a command from a URC handler?)")
        self._active = True
        try:
            if not self._synced and not self._resync(0):
                raise errors.AtTimeout("module not answering AT")
            try:
                self._drain_idle()
            except (errors.RingOverflow, errors.ProtocolError) as exc:
                raise type(exc)("%s while idle; command not sent" % exc.args[0])
            if self._need_startup:
                for cmd in self._startup:
                    self._send(cmd, self._encode(cmd), self.timeout_ms, False, None)
                    self._collect(cmd, self.timeout_ms, False, None, [], _RESPONSE)
                self._need_startup = False
        except BaseException as exc:
            self._recover(exc)
            self._active = False
            raise

    def _drain_idle(self):
        handled = 0
        try:
            while True:
                line = self._next(None)
                if line is None:
                    break
                handled += 1
                self.stray += 1
                if self.trace:
                    self.trace.event("stray line dropped")
        except errors.RingOverflow:
            self._flush()
            raise
        if self._bad:
            bad = self._bad
            self._bad = None
            raise errors.ProtocolError(bad)
        return handled

    def _recover(self, exc):
        if self._final_seen:
            return  # the module answered: in sync
        if not isinstance(exc, Exception):
            self._synced = False  # e.g. KeyboardInterrupt: resync next time
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
        except errors.RingOverflow:
            self._flush()
            return ""

    def _resync(self, wait_ms):
        """Bring the module back to command mode, answering AT with OK."""
        self.resyncs += 1
        self._synced = False
        if wait_ms:
            # A data phase still owed bytes: the module ends it by its guard
            # timer. Send nothing (never pad), just wait for its result.
            deadline = time.ticks_add(time.ticks_ms(), wait_ms)
            while True:
                line = self._next_quiet(deadline)
                if line is None or _is_final(line):
                    break
        for _ in range(_PROBES):
            self._flush()
            try:
                self._write_all(b"AT\r", 0, 3, self.probe_ms)
            except errors.AtTimeout:
                continue
            deadline = time.ticks_add(time.ticks_ms(), self.probe_ms)
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
        deadline = time.ticks_add(time.ticks_ms(), self.quiet_ms)
        while self._next_quiet(deadline) is not None:
            deadline = time.ticks_add(time.ticks_ms(), self.quiet_ms)
        self._bad = None
