"""Checks every string parameter before it is interpolated into a command.

A value is refused (ValueError, before any byte reaches the UART) if it is
not a str, is longer than the spec allows, or holds a byte that could break
out of an AT string constant: a quote, any control character (CR, LF, NUL,
0x1A ...), DEL, or anything outside printable ASCII.

fields() is the one parser of the fields of an answer line.
"""

from .errors import ProtocolError


def check_str(value, max_len, what="parameter", min_len=0):
    """value if a str that fits; else ValueError naming the rule it breaks
    (never the value: it may be a secret)."""
    if not isinstance(value, str):
        why = "want a str, not %s" % type(value).__name__
    elif not min_len <= len(value) <= max_len:
        why = "%d characters, allowed %d..%d" % (len(value), min_len, max_len)
    else:
        i = 0
        for ch in value:
            if ch == '"':
                why = "character %d is a quote (\"), which AT strings cannot hold" % i
                break
            if not " " <= ch <= "~":
                why = "character %d is not printable ASCII (space to ~)" % i
                break
            i += 1
        else:
            return value
    raise ValueError(what + ": " + why)


def quoted(value, max_len, what="parameter", min_len=0):
    """The checked value as an AT string constant: "value"."""
    return '"%s"' % check_str(value, max_len, what, min_len)


def check_int(value, allowed, what="parameter"):
    """allowed: a range or a tuple of the values the spec allows."""
    if not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
        raise ValueError("%s %r: allowed %s" % (what, value, "%d..%d" % (allowed[0], allowed[-1])
                                                 if isinstance(allowed, range) else allowed))
    return value


def fields(text, loose=False):
    """Split the fields of an answer: `0,2,"C0","2B"` -> [0, 2, "C0", "2B"].

    A quoted field is a str (commas inside are kept; V.250 strings hold no
    quote). A bare field is a decimal int (1-5 digits); anything else
    (signs, spaces, empty fields, unterminated quotes, junk after a quote)
    is a ProtocolError. loose=True (+USECMNG answers) allows spaces around
    fields and keeps bare fields as stripped str.
    """
    # startswith(c, i), not text[i:i + 1] == c: a slice is a new str
    out = []
    i = 0
    n = len(text)
    while True:
        if loose:
            while text.startswith(" ", i):
                i += 1
        if text.startswith('"', i):
            j = text.find('"', i + 1)
            if j < 0:
                break
            out.append(text[i + 1:j])
            i = j + 1
            if loose:
                while text.startswith(" ", i):
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
                break
            out.append(tok)
            i = j
        if i >= n:
            return out
        if not text.startswith(",", i):
            break
        i += 1
    # the position only: the text may be a secret (a PSK identity, session data)
    raise ProtocolError("malformed answer field at %d" % i)
