"""Fuzz driver: feeds response streams to the library's parsers on the device.

Reads batches from stdin, each a 4-byte big-endian length and that many
bytes of cases; a case is

    op (1 byte), variant (1 byte), count (1 byte),
    count x (2-byte big-endian length, bytes): the module's responses

The op names a library call (OPS below); every command line it sends gets
the next response of the case, raw, as the module's output (AT, ATE0/1 and
AT+CMEE get OK from the FakeUart once the case has run out; other commands
then get silence). A command that opens a '>' data phase takes its response
as the bytes sent before the data (normally b">") and the next one as the
answer after the data. variant: bit 0 echo on; bits 1-7 the size of the
pieces the output arrives in (0: all at once).

The engine runs with zero timeouts, so a stream that ends without a final
result costs nothing but the resynchronisation. For each batch one line is
written: "B <cases> <escapes> <outcome>=<n> ..." then one line per escape,
"E <case index> <exception class>: <message>". An escape is any exception
other than ubxsec's typed errors (errors.UbxError) and ValueError.
"""

import sys

from fakeuart import FakeUart, PromptReply
from ubxsec import errors
from ubxsec.at import AtEngine
from ubxsec.certs import Certs
from ubxsec.profiles import SecurityProfile
from ubxsec.ring import Ring
from ubxsec.session import SessionKeeper

_DER = b"\x30\x03\x02\x01\x05"   # the smallest SEQUENCE: what op 5 imports
_PROMPT_CMDS = (b"AT+USECMNG=0,", b"AT+UDWNFILE=", b"AT+USECPRF=0,13,5,")
_SIMPLE = (b"AT", b"ATE0", b"ATE1")
_SELF_TEST = 255   # op that raises an untyped error: proves escapes are reported


class Case:
    """The scripted module of one case."""

    def __init__(self, responses):
        self.responses = responses
        self.i = 0

    def take(self):
        i = self.i
        if i >= len(self.responses):
            return None
        self.i = i + 1
        return self.responses[i]

    def responder(self, line):
        upper = line.upper()
        if upper in _SIMPLE or upper.startswith(b"AT+CMEE="):
            if self.i >= len(self.responses):
                return None   # the FakeUart answers OK
        out = self.take()
        if out is None:
            return None
        for head in _PROMPT_CMDS:
            if line.startswith(head):
                size = int(line[line.rfind(b",") + 1:])
                return PromptReply(out, size, self._after)
        return out

    def _after(self, data):
        return self.take()


def _op_raw(at, fake):
    return at.command("+CGMI", info="")  # any line answers: the parser is what is fuzzed


def _op_chip(at, fake):
    from ubxsec.chip import chip_id
    return at.run(chip_id(at))


def _op_poll(at, fake):
    keeper = SessionKeeper(at)
    first = fake.case.take()
    if first:
        fake.inject(first)
    n = at.poll()
    keeper.status(0)
    keeper.has_data(1)
    return n


def _op_capture(at, fake):
    return SessionKeeper(at).capture(0)


OPS = (
    _op_raw,
    _op_chip,
    lambda at, fake: Certs(at).md5(0, "Nm"),
    lambda at, fake: Certs(at).list(),
    lambda at, fake: Certs(at).list(0),
    lambda at, fake: Certs(at).import_bytes(_DER, 0, "Nm"),
    lambda at, fake: Certs(at).upload(b"abc", "f.txt"),
    lambda at, fake: Certs(at).import_from_module_file("f.txt", 0, "Nm"),
    lambda at, fake: SecurityProfile(at, 0).validation_level(),
    lambda at, fake: SecurityProfile(at, 0).ciphers(),
    lambda at, fake: SecurityProfile(at, 0).psk_identity(),
    lambda at, fake: SecurityProfile(at, 0).session_data(3),
    lambda at, fake: SecurityProfile(at, 0).session_data(2),
    lambda at, fake: SecurityProfile(at, 0).pinning(),
    lambda at, fake: SecurityProfile(at, 0).session_status(),
    lambda at, fake: SecurityProfile(at, 0).read_all(),
    _op_poll,
    lambda at, fake: SecurityProfile(at, 0).session_data(5, "QUJD"),
    _op_capture,
)


def run_case(op, variant, responses):
    """Outcome name ("ok" or the typed error's class); raises what escapes."""
    case = Case(responses)
    piece = variant >> 1
    fake = FakeUart(case.responder, echo=bool(variant & 1), piece=piece or None)
    fake.case = case
    ring = Ring(256, fake)
    at = AtEngine(fake, ring, timeout_ms=0, guard_ms=0, probe_ms=0, quiet_ms=0, line_max=600)
    fake.irq(ring.irq_handler, 1)
    if op == _SELF_TEST:
        raise RuntimeError("driver self-test: an escape")
    try:
        OPS[op % len(OPS)](at, fake)
    except (errors.UbxError, ValueError) as exc:
        return type(exc).__name__
    # after anything the engine must take the next command (fake now answers OK)
    return "ok"


def parse(buf):
    """Yields (op, variant, responses) one case at a time."""
    i = 0
    n = len(buf)
    while i + 3 <= n:
        op = buf[i]
        variant = buf[i + 1]
        count = buf[i + 2]
        i += 3
        responses = []
        for _ in range(count):
            size = (buf[i] << 8) | buf[i + 1]
            i += 2
            responses.append(bytes(buf[i:i + size]))
            i += size
        yield op, variant, responses


def main():
    stdin = sys.stdin.buffer
    out = sys.stdout
    while True:
        head = stdin.read(4)
        if not head or len(head) < 4:
            break
        size = int.from_bytes(head, "big")
        buf = stdin.read(size) if size else b""
        escapes = []
        outcomes = {}
        index = -1
        for index, (op, variant, responses) in enumerate(parse(buf)):
            try:
                name = run_case(op, variant, responses)
            except Exception as exc:  # noqa: BLE001 - an escape is the finding
                escapes.append("E %d %s: %r" % (index, type(exc).__name__, exc))
                name = "escape"
            outcomes[name] = outcomes.get(name, 0) + 1
        line = "B %d %d" % (index + 1, len(escapes))
        for key in sorted(outcomes):
            line += " %s=%d" % (key, outcomes[key])
        out.write(line + "\n")
        for e in escapes:
            out.write(e + "\n")
        out.write("D\n")
        try:
            out.flush()
        except (AttributeError, OSError):
            pass


main()
