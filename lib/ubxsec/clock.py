"""The module's clock, AT+CCLK (3GPP TS 27.007): package ubxsec-clock.

    m.clock()                                 # (2026, 12, 7, 23, 40, 5, 0, True)
    m.set_clock((2026, 12, 7, 23, 40, 0))     # UTC; time.gmtime() works too
    m.set_clock((2026, 12, 8, 0, 40, 0), 4)   # local time, 4 quarter hours east

The tuple: year, month, day, hour, minute, second (the module's local time),
tz (its offset from UTC in quarter hours) and set. A module starts years in
the past after power-on and keeps counting from there until AT+CCLK or
network time sets it; validation level 3 checks certificate dates with it,
so set is False while the clock reads a year before RELEASE_YEAR (the
library's release: no module set today reads earlier).

Two-digit years 70-99 are 19yy, 00-69 20yy (a SARA-R4 starts at 80/01/06,
the GPS epoch).
"""

from micropython import const

from .errors import ProtocolError
from .params import quoted

RELEASE_YEAR = const(2026)
# field: (lowest, highest) of year, month, day, hour, minute, second, tz
_RANGES = ((1970, 2069), (1, 12), (1, 31), (0, 23), (0, 59), (0, 59), (-96, 96))
_NAMES = ("year", "month", "day", "hour", "minute", "second", "tz")


def parse(text):
    """'yy/MM/dd,hh:mm:ss+zz' -> the clock tuple; ValueError if it is not one."""
    if len(text) != 20 or text[2] != "/" or text[5] != "/" or text[8] != "," \
            or text[11] != ":" or text[14] != ":" or text[17] not in "+-":
        raise ValueError("not yy/MM/dd,hh:mm:ss+zz")
    f = [int(text[i:i + 2]) for i in range(0, 20, 3)]   # ValueError on a non-digit
    f[0] += 1900 if f[0] >= 70 else 2000
    if text[17] == "-":
        f[6] = -f[6]
    _check(f)
    return tuple(f) + (f[0] >= RELEASE_YEAR,)


def cclk_text(t, tz=0):
    """The +CCLK string of (year, month, day, hour, minute, second, ...) and tz."""
    if not isinstance(t, (tuple, list)) or len(t) < 6:
        raise ValueError("clock: (year, month, day, hour, minute, second) expected")
    f = list(t[:6]) + [tz]
    _check(f)
    return "%02d/%02d/%02d,%02d:%02d:%02d%s%02d" % (
        f[0] % 100, f[1], f[2], f[3], f[4], f[5], "-" if tz < 0 else "+", abs(tz))


def _check(f):
    for i in range(7):
        v = f[i]
        lo, hi = _RANGES[i]
        if not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError("clock %s %r: allowed %d..%d" % (_NAMES[i], v, lo, hi))


def read(at):
    """The module's clock tuple (AT+CCLK?)."""
    return at.run(reading(at))


def reading(at):
    """Generator over at.exchange: read()'s clock tuple (for either front end)."""
    lines = yield from at.exchange("+CCLK?")
    line = lines[0] if len(lines) == 1 else ""
    if line.startswith('+CCLK: "') and line.endswith('"'):
        try:
            return parse(line[8:-1])
        except ValueError:
            pass
    raise ProtocolError("bad +CCLK answer")


def write(at, t, tz=0):
    """Set the module's clock (AT+CCLK=...); t as read() gives it or time.gmtime()."""
    at.command("+CCLK=" + quoted(cclk_text(t, tz), 20, "clock"))


def clock(m):
    """Module.clock(): read() on m's engine."""
    return read(m.at)


def set_clock(m, t, tz=0):
    """Module.set_clock(t, tz=0): write() on m's engine."""
    write(m.at, t, tz)


def date(t):
    """'YYYY/MM/DD' of a clock tuple, for messages."""
    return "%04d/%02d/%02d" % t[:3]
