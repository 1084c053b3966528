"""The wire side of the module: V.250 command lines, responses, data phases.

One engine thread owns all module state and every byte written to the
client; a reader thread only paces incoming bytes and queues them. URCs,
control requests and restarts reach the engine thread through the same
queue, so a URC can never land inside a response.

Framing (ITU-T V.250, verbose mode):
- a command line is "AT" (any case) followed by commands, ended by CR (S3);
  LF is ignored, BS (S5) deletes the previous character, characters before
  "AT" are ignored, a line without "AT" gets no answer; "A/" repeats the last
  command line. Spaces outside strings are ignored; names are case-insensitive.
- every received command-state character is echoed when echo is on (ATE1).
- information text: "\\r\\n" + lines joined by "\\r\\n" + "\\r\\n", once per
  command; final result "\\r\\nOK\\r\\n", "\\r\\nERROR\\r\\n" or
  "\\r\\n+CME ERROR: <n|text>\\r\\n" per AT+CMEE.
- errors: a line that does not parse and an unknown command name are
  command-line errors and get a plain ERROR whatever AT+CMEE says (as V.250
  result codes); a handler's CmeError (including malformed parameters) is
  rendered per AT+CMEE. Commands of one line run left to right and the first
  error ends the line.
- a data phase (command.Prompt) sends the model's prompt (the spec: a bare
  ">"; models.py has the series' forms) and then takes exactly
  <size> raw bytes (not echoed, CR and LF included). The guard timer is an
  inactivity timer restarted by every byte; on expiry the data is dropped and
  the command fails with +CME ERROR 31 (ERROR with AT+CMEE=0).

Foreign URCs (urcs.py, --urcs) go out at line boundaries of responses,
before a prompt, inside data phases and on an idle line; never inside a line.

Strings cross the wire as latin-1, so any byte value survives a round trip;
a line latin-1 cannot carry (a certificate's UTF8String common name) goes out
as UTF-8, as a module sends it.
"""

import os
import queue
import re
import select
import sys
import threading
import time
import traceback

from . import cme, command
from .cme import CmeError
from .command import ACTION, READ, SET, TEST, Prompt
from .faults import Faults
from .pacing import Pacer
from .urcs import UrcSource

CR, LF, BS = 13, 10, 8
# room for the longest command the spec allows: +USECPRF op 13 tag 3 carries up
# to 8192 characters of base64 session data on one line
MAX_LINE = 8448
TICK = 0.05

COMMAND, DATA, BOOT = "command", "data", "boot"

_EXTENDED_NAME = re.compile(r"\+[A-Z0-9!%\-./:_]+")
_DIGITS = re.compile(r"[0-9]*")


class CommandLineError(Exception):
    """The command line does not parse: answered with a plain ERROR."""


def normalize(text):
    """Drop spaces and upper-case everything outside double-quoted strings."""
    out, quoted = [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            out.append(ch)
        elif quoted:
            out.append(ch)
        elif ch != " ":
            out.append(ch.upper())
    return "".join(out)


def _unquoted_find(text, ch, start):
    quoted = False
    for i in range(start, len(text)):
        if text[i] == '"':
            quoted = not quoted
        elif text[i] == ch and not quoted:
            return i
    return len(text)


def parse_next(body, pos):
    """Split the command at body[pos:] (normalized).

    Returns (name, kind, params, param_text, next_pos): param_text is the raw
    parameter text of an extended SET (parsed later, so that its errors are
    CME errors), params the already-known parameters of a basic command.
    """
    n = len(body)
    if body[pos] == "+":
        match = _EXTENDED_NAME.match(body, pos)
        if match is None:
            raise CommandLineError("bad extended name")
        name, pos = match.group(), match.end()
        text = None
        if body.startswith("=?", pos):
            kind, pos = TEST, pos + 2
        elif body.startswith("?", pos):
            kind, pos = READ, pos + 1
        elif body.startswith("=", pos):
            end = _unquoted_find(body, ";", pos + 1)
            kind, text, pos = SET, body[pos + 1:end], end
        else:
            kind = ACTION
        if pos < n:
            if body[pos] != ";":
                raise CommandLineError("junk after %s" % name)
            pos += 1
        return name, kind, [], text, pos
    start = pos
    if body[pos] == "&":
        pos += 1
    if pos >= n or not ("A" <= body[pos] <= "Z"):
        raise CommandLineError("bad basic command")
    pos += 1
    name = body[start:pos]
    digits = _DIGITS.match(body, pos).group()
    pos += len(digits)
    if body.startswith("?", pos):
        kind, params, pos = READ, [], pos + 1
    elif digits:
        kind, params = SET, [int(digits)]
    else:
        kind, params = ACTION, []
    if pos < n and body[pos] == ";":
        pos += 1
    return name, kind, params, None, pos


class Transfer:
    """A data phase in progress."""

    def __init__(self, prompt, body, pos, deadline):
        self.prompt = prompt
        self.data = bytearray()
        self.body = body        # the rest of the command line runs afterwards
        self.pos = pos
        self.deadline = deadline


class Engine:
    def __init__(self, device, link, baud=0, guard_seconds=20.0, faults=None,
                 boot_seconds=0.25, log=None, urcs=None):
        self.device = device
        self.link = link
        self.baud = baud
        self.rx_pacer = Pacer(baud)
        self.tx_pacer = Pacer(baud)
        self.guard_seconds = guard_seconds
        self.faults = faults if faults is not None else Faults()
        self.urcs = urcs if urcs is not None else UrcSource()
        self.urc_gap = None       # data-phase bytes until the next foreign URC
        self.idle_since = time.monotonic()
        self.boot_seconds = boot_seconds
        self.log = log or (lambda msg: None)
        # SimpleQueue: its put() is reentrant, so stop() may run in a signal
        # handler that interrupted the engine thread inside events.get()
        # (a Queue's lock would be held there: the process deadlocked).
        self.events = queue.SimpleQueue()
        self.state = BOOT
        self.boot_until = 0.0
        self.line = bytearray()
        self.line_overflow = False
        self.last_line = b""
        self.transfer = None
        self.generation = 0       # bumped by a restart: older URCs are lost
        self.deferred_urcs = []   # emitted while booting
        self.stopping = threading.Event()
        self._engine_thread = None
        self._wake_r, self._wake_w = os.pipe()
        self._rx_thread = threading.Thread(target=self._rx_loop, name="ubxsim-rx", daemon=True)
        device.urc_sink = self._post_urc
        device.log = self.log
        device.call_sink = self.call
        device.restart_hooks.append(self._reset_wire)

    # ---- threads -------------------------------------------------------
    def start(self):
        """Power on: after this the module accepts commands."""
        self._engine_thread = threading.get_ident()
        self._boot_done()
        self._rx_thread.start()

    def run(self):
        """The engine loop; returns after stop()."""
        self._engine_thread = threading.get_ident()
        while not self.stopping.is_set():
            try:
                event = self.events.get(timeout=self._timeout())
            except queue.Empty:
                event = None
            try:
                if event is not None:
                    self._handle(event)
                self._tick()
            except Exception:
                # a bug in one event must never take the module down
                traceback.print_exc(file=sys.stderr)
                self.log("engine event failed: %r" % (event[0] if event else "tick",))

    def stop(self):
        """Safe from any thread and from a signal handler."""
        self.stopping.set()
        self.events.put(("stop",))
        os.write(self._wake_w, b"x")

    def call(self, fn, timeout=30.0):
        """Run fn() on the engine thread; returns its result or raises."""
        if threading.get_ident() == self._engine_thread:
            return fn()
        reply = queue.Queue(1)
        self.events.put(("call", fn, reply))
        ok, value = reply.get(timeout=timeout)
        if not ok:
            raise value
        return value

    def _rx_loop(self):
        chunk = self.rx_pacer.chunk_size()
        master = self.link.fileno()
        while not self.stopping.is_set():
            ready, _, _ = select.select([master, self._wake_r], [], [], 0.5)
            if master not in ready:
                continue
            data = self.link.read(chunk)
            if not data:
                time.sleep(0.01)
                continue
            self.rx_pacer.account(len(data))
            data = self.faults.incoming(data)
            if data:
                self.events.put(("rx", data))

    def _timeout(self):
        deadline = None
        if self.state == DATA:
            deadline = self.transfer.deadline
        elif self.state == BOOT:
            deadline = self.boot_until
        if deadline is None:
            return TICK
        return min(TICK, max(0.0, deadline - time.monotonic()))

    def _handle(self, event):
        kind = event[0]
        if kind == "rx":
            self._feed(event[1])
        elif kind == "urc":
            _, generation, line = event
            if generation != self.generation:
                return
            if self.state == BOOT:
                self.deferred_urcs.append(line)
            else:
                self._send_urc(line)
        elif kind == "call":
            _, fn, reply = event
            try:
                reply.put((True, fn()))
            except Exception as exc:  # reported to the caller
                reply.put((False, exc))

    def _tick(self):
        now = time.monotonic()
        if self.state == BOOT and now >= self.boot_until:
            self._boot_done()
        elif self.state == DATA and now >= self.transfer.deadline:
            self.log("guard timer expired after %d of %d bytes"
                     % (len(self.transfer.data), self.transfer.prompt.size))
            self.transfer = None
            self.urc_gap = None
            self.state = COMMAND
            self._final_error(CmeError(cme.TIMEOUT, "guard timer"))
        elif self.state == COMMAND and not self.line:
            burst = self.faults.burst("idle")
            if burst:
                self._send(burst, "urc")
            if self.urcs.active:
                line = self.urcs.idle(now - self.idle_since)
                if line is not None:
                    self._send_urc(line)
        self.idle_since = now

    # ---- output ----------------------------------------------------------
    def _send(self, data, where):
        data = self.faults.outgoing(data, where)
        step = self.tx_pacer.chunk_size()
        for off in range(0, len(data), step):
            if self.stopping.is_set():
                return   # powering off: do not wait out a reader that is gone
            part = data[off:off + step]
            self.link.write(part)
            self.tx_pacer.account(len(part))

    def _post_urc(self, line):
        """device.emit_urc: safe from any thread."""
        self.events.put(("urc", self.generation, line))

    def _send_urc(self, line):
        self._send(b"\r\n" + _wire(line) + b"\r\n", "urc")

    def _send_response(self, segments):
        """Send a response's segments (each ends at a line boundary); a
        foreign URC may go out between two of them."""
        if not segments:
            return
        if not self.urcs.active:
            self._send(b"".join(segments), "response")
            return
        for i, segment in enumerate(segments):
            if i:
                self._foreign_urc("line")
            self._send(segment, "response")

    def _foreign_urc(self, place):
        line = self.urcs.at(place)
        if line is not None:
            self._send_urc(line)

    def inject_urc(self, line):
        """Control verb "inject": a URC now (counted with the foreign ones)."""
        self.urcs.count(line, "injected")
        if self.state == BOOT:
            self.deferred_urcs.append(line)
        else:
            self._send_urc(line)

    def _final(self, text):
        # the final result code's own CRLF is a line boundary too
        head = [b"\r\n"] * (2 if text == "OK" and self.device.model.blank_before_ok else 1)
        self._send_response(head + [_wire(text) + b"\r\n"])
        if self.device.restart_requested:
            self.device.restart_requested = False
            self.restart()

    def _final_error(self, error):
        self._final(self.device.model.result_line(error, self.device.cmee))

    # ---- module life -----------------------------------------------------
    def restart(self):
        """Power-cycle the module (AT+CFUN=16, control verb, fault)."""
        self.log("module restart")
        self.device.restart()

    def _reset_wire(self):
        """device restart hook: whatever was in flight on the wire is lost."""
        self.generation += 1
        self.line.clear()
        self.line_overflow = False
        self.transfer = None
        self.urc_gap = None
        self.deferred_urcs.clear()
        self.state = BOOT
        self.boot_until = time.monotonic() + self.boot_seconds

    def _boot_done(self):
        noise = self.faults.boot_noise()
        if noise:
            self._send(noise, "noise")
        self.state = COMMAND
        urcs, self.deferred_urcs = self.deferred_urcs, []
        for line in urcs:
            self._send_urc(line)

    def status(self):
        return {"state": self.state, "echo": self.device.echo, "cmee": self.device.cmee,
                "baud": self.baud, "guard_seconds": self.guard_seconds,
                "model": self.device.model.name, "urcs": self.urcs.describe()}

    # ---- input -----------------------------------------------------------
    def _feed(self, data):
        i, n = 0, len(data)
        echo = bytearray()
        while i < n:
            if self.state == BOOT:
                break  # a booting module hears nothing
            if self.state == DATA:
                i = self._feed_transfer(data, i)
                continue
            byte = data[i]
            i += 1
            if self.device.echo:
                echo.append(byte)
            if byte == CR:
                self._flush_echo(echo)
                self._end_of_line()
            elif byte == LF:
                pass
            elif byte == BS:
                if self.line:
                    self.line.pop()
            elif len(self.line) >= MAX_LINE:
                self.line_overflow = True
            else:
                self.line.append(byte)
                if byte == ord("/") and self._is_repeat():
                    self._flush_echo(echo)
                    self.line.clear()
                    if self.last_line:
                        self._execute(self.last_line)
        self._flush_echo(echo)

    def _flush_echo(self, echo):
        if echo:
            self._send(bytes(echo), "echo")
            echo.clear()

    def _is_repeat(self):
        upper = bytes(self.line).upper()
        return upper.endswith(b"A/") and b"AT" not in upper

    def _feed_transfer(self, data, i):
        transfer = self.transfer
        missing = transfer.prompt.size - len(transfer.data)
        # a foreign URC goes out on TX at its offset; the RX data is untouched
        while self.urc_gap is not None and self.urc_gap <= 0:
            self._send_urc(self.urcs.transfer_line())
            self.urc_gap = self.urcs.transfer_gap()
        if self.urc_gap is not None:
            missing = min(missing, self.urc_gap)
        start = i
        if not self.faults.active:
            take = data[i:i + missing]
            transfer.data += take
            i += len(take)
        else:
            # byte by byte: faults may strike at any point of the transfer
            end = i + missing
            while i < len(data) and i < end:
                transfer.data.append(data[i])
                i += 1
                if self.faults.reboot_in_transfer(len(transfer.data)):
                    self.log("fault: reboot after %d bytes of transfer" % len(transfer.data))
                    self.restart()
                    return len(data)
                burst = self.faults.burst("transfer")
                if burst:
                    self._send(burst, "urc")
        if self.urc_gap is not None:
            self.urc_gap -= i - start
        transfer.deadline = time.monotonic() + self.guard_seconds
        if len(transfer.data) == transfer.prompt.size:
            self._finish_transfer()
        return i

    def _end_of_line(self):
        raw = bytes(self.line)
        overflow = self.line_overflow
        self.line.clear()
        self.line_overflow = False
        if overflow:
            self._final_error(None)
            return
        self._execute(raw)

    def _execute(self, raw):
        text = raw.decode("latin-1")
        start = text.upper().find("AT")
        if start < 0:
            return  # not a command line: V.250 ignores it
        self.last_line = raw
        stall = self.faults.stall()
        if stall:
            time.sleep(stall)  # the module is busy; input queues up meanwhile
        if self.faults.spurious_error():
            self._final("ERROR")
            return
        self._run(normalize(text[start + 2:]), 0)

    def _run(self, body, pos):
        """Execute the commands of body from pos; ends with the final result."""
        while pos < len(body):
            try:
                name, kind, params, text, pos = parse_next(body, pos)
            except CommandLineError as exc:
                # the line may hold passwords or keys: only the reason goes to the log
                self.log("command line error: %s" % exc)
                self._final_error(None)
                return
            handler = self.device.handlers.get(name)
            if handler is None:
                self._final_error(None)
                return
            try:
                if text is not None:
                    params = command.parse_params(text)
                result = handler(self.device, kind, params)
                # encoded here, so a line that cannot be sent is the handler's failure
                info = None if isinstance(result, Prompt) else _info_bytes(result)
            except CmeError as exc:
                self._final_error(exc)
                return
            except Exception:
                traceback.print_exc(file=sys.stderr)
                self._final_error(CmeError(cme.UNKNOWN, "handler failed"))
                return
            if isinstance(result, Prompt):
                self._start_transfer(result, body, pos)
                return
            self._send_response(info)
        self._final("OK")

    def _start_transfer(self, prompt, body, pos):
        send, delay = self.faults.prompt()
        if delay:
            time.sleep(delay)
        self.state = DATA
        self.transfer = Transfer(prompt, body, pos, time.monotonic() + self.guard_seconds)
        if self.urcs.active:
            self._foreign_urc("prompt")
        self.urc_gap = self.urcs.transfer_gap()
        if send:
            self._send(self.device.model.prompt, "prompt")
        if prompt.size <= 0:
            self._finish_transfer()

    def _finish_transfer(self):
        transfer = self.transfer
        self.transfer = None
        self.urc_gap = None
        self.state = COMMAND
        try:
            info = _info_bytes(transfer.prompt.on_data(bytes(transfer.data)))
        except CmeError as exc:
            self._final_error(exc)
            return
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self._final_error(CmeError(cme.UNKNOWN, "data handler failed"))
            return
        self._send_response(info)
        self._run(transfer.body, transfer.pos)


def _wire(line):
    if isinstance(line, (bytes, bytearray)):
        return bytes(line)
    try:
        return line.encode("latin-1")
    except UnicodeEncodeError:
        return line.encode("utf-8")


def _info_bytes(lines):
    """Information text for the lines of one command, as segments that each
    end at a line boundary: [CRLF, line1 CRLF, line2 CRLF...] (joined, the
    V.250 form CRLF line1 CRLF line2 CRLF; [] when there are no lines)."""
    if not lines:
        return []
    return [b"\r\n"] + [_wire(l) + b"\r\n" for l in lines]
