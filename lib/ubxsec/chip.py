"""+USECCHIP: the module's immutable chip ID."""

from .errors import ProtocolError, named


def parse_chip_id(lines):
    """The chip ID from the information lines of AT+USECCHIP.

    The spec shows `+USECCHIP: "12345678"`; an unquoted token is accepted
    too. Anything else (no line, several, another prefix, an empty or
    unbalanced value, a control character) is a ProtocolError.
    """
    line = lines[0] if len(lines) == 1 else ""
    v = line[10:].strip() if line.startswith("+USECCHIP:") else ""
    if len(v) > 1 and v[0] == v[-1] == '"':
        v = v[1:-1]
    for c in v:
        if not " " < c <= "~" or c in '",':
            v = ""
    if not v:
        raise ProtocolError("bad +USECCHIP answer %r" % (lines,))
    return v


def chip_id(at, timeout_ms=None):
    """Generator over at.exchange() (the engine contract): the chip ID;
    Module.chip_id() returns at.run() of it."""
    return parse_chip_id((yield from named(at.exchange("+USECCHIP", timeout_ms), "read the chip ID")))
