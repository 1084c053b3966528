"""+USECCHIP: the module's immutable chip ID."""

from . import errors

_PREFIX = "+USECCHIP:"


def parse_chip_id(lines):
    """The chip ID from the information lines of AT+USECCHIP.

    The spec shows `+USECCHIP: "12345678"`; an unquoted token is accepted
    too. Anything else (no line, several, another prefix, an empty or
    unbalanced value, a control character) is a ProtocolError.
    """
    if len(lines) != 1 or not lines[0].startswith(_PREFIX):
        raise errors.ProtocolError("+USECCHIP: unexpected response %r" % (lines,))
    value = lines[0][len(_PREFIX):].strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1]
    if not value:
        raise errors.ProtocolError("+USECCHIP: empty chip ID")
    for ch in value:
        c = ord(ch)
        if c <= 0x20 or c > 0x7E or ch == '"' or ch == ",":
            raise errors.ProtocolError("+USECCHIP: malformed chip ID")
    return value


def read_chip_id(at, timeout_ms=None):
    return parse_chip_id(at.command("+USECCHIP", timeout_ms))
