"""Checks every string parameter before it is interpolated into a command.

A value is refused (ValueError, before any byte reaches the UART) if it is
not a str, is longer than the spec allows, or holds a byte that could break
out of an AT string constant: a quote, any control character (CR, LF, NUL,
0x1A ...), DEL, or anything outside printable ASCII.

fields() is the one parser of the fields of an answer line.
"""

from .errors import ProtocolError


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


def fields(text, loose=False):
    """Split the fields of an answer: `0,2,"C0","2B"` -> [0, 2, "C0", "2B"].

    A quoted field is a str (commas inside are kept; V.250 strings hold no
    quote). A bare field is a decimal int (1-5 digits); anything else
    (signs, spaces, empty fields, unterminated quotes, junk after a quote)
    is a ProtocolError. loose=True (+USECMNG answers) allows spaces around
    fields and keeps bare fields as stripped str.
    """
    out = []
    i = 0
    n = len(text)
    while True:
        if loose:
            while i < n and text[i] == " ":
                i += 1
        if text[i:i + 1] == '"':
            j = text.find('"', i + 1)
            if j < 0:
                raise ProtocolError("unterminated string in %r" % text)
            out.append(text[i + 1:j])
            i = j + 1
            if loose:
                while i < n and text[i] == " ":
                    i += 1
        else:
            j = text.find(",", i)
            if j < 0:
                j = n
            tok = text[i:j]
            if loose:
                tok = tok.strip()
            elif 0 < len(tok) < 6 and tok.isdigit():
                tok = int(tok)
            else:
                raise ProtocolError("bad number in %r" % text)
            out.append(tok)
            i = j
        if i >= n:
            return out
        if text[i] != ",":
            raise ProtocolError("junk after a field in %r" % text)
        i += 1
