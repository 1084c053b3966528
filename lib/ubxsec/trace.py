"""Optional trace of the AT traffic, with redaction of secrets.

The sink is a callable taking one str (a line without newline) or a stream
with write(). Lines look like:

    -> AT+USECCHIP          command sent
    <- +USECCHIP: "1234"    line received (echo lines are not traced)
    => [1516 bytes]         payload of a '>' transfer: only its length, ever
    !! timeout +USECCHIP    engine events (timeouts, resync, overflow)

Redaction, for the code that builds commands holding secrets:
- `secret=True` on AtEngine.command()/command_with_data(): the command is
  traced up to its first string parameter (or its '=') and `<redacted>`
  after that; every information line of its response is traced as
  `<redacted>` (final results are shown).
- `redact=(value, ...)`: each occurrence of those strings (a password, a PSK,
  an identity) in the traced command and response lines becomes `***`.
- received lines starting with a prefix of the engine's list (URCs that
  carry session secrets; `+UUSECPRF:` by default) are traced as
  `<prefix> <redacted>`.
Payload bytes of '>' transfers are never traced, whatever the flags.
"""

REDACTED = "<redacted>"


def _mask(text, redact):
    """text with every non-empty string of `redact` replaced by ***."""
    for v in redact or ():
        if v:
            text = text.replace(v, "***")
    return text


class Trace:
    def __init__(self, sink):
        if hasattr(sink, "write"):
            self._emit = lambda text: sink.write(text + "\n")
        elif callable(sink):
            self._emit = sink
        else:
            raise ValueError("trace sink must be callable or have write()")

    def tx(self, cmd, secret=False, redact=None):
        if secret:
            # keep the name and the leading numbers (profile, op code), mask
            # from the first string parameter on (or everything after '=')
            cut = cmd.find('"')
            if cut < 0:
                cut = cmd.find("=") + 1
            cmd = (cmd[:cut] if cut > 0 else cmd) + REDACTED
        else:
            cmd = _mask(cmd, redact)
        self._emit("-> AT" + cmd)

    def rx(self, line, secret=False, redact=None, prefixes=()):
        if secret:
            line = REDACTED
        else:
            for p in prefixes:
                if line.startswith(p):
                    line = p + " " + REDACTED
                    break
            else:
                line = _mask(line, redact)
        self._emit("<- " + line)

    def data(self, nbytes):
        self._emit("=> [%d bytes]" % nbytes)

    def event(self, text):
        self._emit("!! " + text)


def make(trace):
    """None, a Trace, or a sink to wrap."""
    if trace is None or isinstance(trace, Trace):
        return trace
    return Trace(trace)
