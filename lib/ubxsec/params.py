"""Checks every string parameter before it is interpolated into a command.

A value is refused (ValueError, before any byte reaches the UART) if it is
not a str, is longer than the spec allows, or holds a byte that could break
out of an AT string constant: a quote, any control character (CR, LF, NUL,
0x1A ...), DEL, or anything outside printable ASCII.
"""


def check_str(value, max_len, what="parameter", min_len=0):
    if not isinstance(value, str):
        raise ValueError("%s must be a str" % what)
    n = len(value)
    if n > max_len or n < min_len:
        raise ValueError("%s length %d outside %d..%d" % (what, n, min_len, max_len))
    for ch in value:
        c = ord(ch)
        if c < 0x20 or c > 0x7E or c == 0x22:
            raise ValueError("%s holds a forbidden character (code %d)" % (what, c))
    return value


def quoted(value, max_len, what="parameter", min_len=0):
    """The checked value as an AT string constant: "value"."""
    return '"%s"' % check_str(value, max_len, what, min_len)


def check_int(value, allowed, what="parameter"):
    """allowed: a range or a tuple of the values the spec allows."""
    if not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
        raise ValueError("%s %r not allowed" % (what, value))
    return value
