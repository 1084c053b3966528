"""The module's real-time clock: +CCLK, +CTZR and network time (NITZ).

    AT+CCLK?                          +CCLK: "yy/MM/dd,hh:mm:ss+zz"
    AT+CCLK="yy/MM/dd,hh:mm:ss+zz"    set it (3GPP TS 27.007 clause 8.15)
    AT+CTZR=<n> / AT+CTZR?            time zone reporting: 0 off, 1 +CTZV, 2 +CTZE

The time string is local time; zz is the local time's offset from UTC in
quarters of an hour (-96..+96), with its sign. Two-digit years 70-99 are
19yy, 00-69 20yy.

After power-on the clock runs from the model's clock_start (models.py), a
date years in the past, until AT+CCLK or network time sets it; a restart
brings clock_start back (the simulated module keeps no time while off). The
control verb "nitz" simulates network time: it sets the clock (to the host's
UTC time unless told another) and, as AT+CTZR asks, reports it:

    1: +CTZV: <tz>,"<time>"          (u-blox form: the zone, then the time)
    2: +CTZE: <tz>,<dst>,"<time>"    (3GPP TS 27.007)

The TLS client (tls.py) checks certificate dates at validation level 3
against this clock, never the host's.
"""

import datetime
import re
import time

from .cme import CmeError, INCORRECT_PARAMETERS
from .command import READ, SET, TEST

_FORM = re.compile(r"(\d\d)/(\d\d)/(\d\d),(\d\d):(\d\d):(\d\d)([+-])(\d\d)\Z")
QUARTER = datetime.timedelta(minutes=15)
CTZR_MODES = (0, 1, 2)


def parse(text):
    """(UTC datetime, zone in quarter hours) of a +CCLK time string;
    ValueError when it is not one."""
    match = _FORM.match(text)
    if not match:
        raise ValueError("not yy/MM/dd,hh:mm:ss+zz: %r" % text)
    yy, mo, dd, hh, mi, ss, sign, zz = match.groups()
    tz = int(zz) * (-1 if sign == "-" else 1)
    if not -96 <= tz <= 96:
        raise ValueError("zone %d outside -96..96 quarter hours" % tz)
    year = int(yy) + (1900 if int(yy) >= 70 else 2000)
    local = datetime.datetime(year, int(mo), int(dd), int(hh), int(mi), int(ss),
                              tzinfo=datetime.timezone.utc)
    return local - tz * QUARTER, tz


def render(utc, tz):
    """The +CCLK time string of a UTC datetime in zone tz."""
    local = utc + tz * QUARTER
    return "%02d/%02d/%02d,%02d:%02d:%02d%s%02d" % (
        local.year % 100, local.month, local.day, local.hour, local.minute, local.second,
        "-" if tz < 0 else "+", abs(tz))


class Clock:
    def __init__(self, device):
        self.device = device
        self.ctzr = 0
        self.power_on()

    def power_on(self):
        utc, tz = parse(self.device.model.clock_start)
        self.set(utc, tz, None)
        self.ctzr = 0

    def set(self, utc, tz, source):
        """source: None (not set since power-on), "cclk" or "nitz"."""
        self._base, self._t0 = utc, time.monotonic()
        self.tz, self.source = tz, source

    def now(self):
        """The module's time (UTC, aware datetime)."""
        return self._base + datetime.timedelta(seconds=time.monotonic() - self._t0)

    def text(self):
        return render(self.now(), self.tz)

    def network_time(self, utc=None, tz=0, dst=0):
        """NITZ: set the clock and send the URCs AT+CTZR asks for."""
        if not -96 <= tz <= 96 or dst not in (0, 1, 2):
            raise ValueError("tz -96..96 quarter hours, dst 0..2")
        if utc is None:
            utc = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.set(utc, tz, "nitz")
        zone = "%s%02d" % ("-" if tz < 0 else "+", abs(tz))
        if self.ctzr == 1:
            self.device.emit_urc('+CTZV: %s,"%s"' % (zone, self.text()))
        elif self.ctzr == 2:
            self.device.emit_urc('+CTZE: %s,%d,"%s"' % (zone, dst, self.text()))
        return self.describe()

    def describe(self):
        return {"cclk": self.text(), "source": self.source, "ctzr": self.ctzr}


def handle_cclk(device, kind, params):
    clock = device.clock
    if kind == TEST:
        return []
    if kind == READ:
        return ['+CCLK: "%s"' % clock.text()]
    if kind != SET or len(params) != 1 or not isinstance(params[0], str):
        raise CmeError(INCORRECT_PARAMETERS, 'AT+CCLK="yy/MM/dd,hh:mm:ss+zz"')
    try:
        utc, tz = parse(params[0])
    except ValueError as e:
        raise CmeError(INCORRECT_PARAMETERS, str(e)) from None
    clock.set(utc, tz, "cclk")
    return []


def handle_ctzr(device, kind, params):
    clock = device.clock
    if kind == TEST:
        return ["+CTZR: (0-2)"]
    if kind == READ:
        return ["+CTZR: %d" % clock.ctzr]
    if kind != SET or len(params) != 1 or params[0] not in CTZR_MODES:
        raise CmeError(INCORRECT_PARAMETERS, "AT+CTZR=0..2")
    clock.ctzr = params[0]
    return []


def _utc_arg(text):
    """The nitz verb's time: ISO 8601 ("2026-12-07T10:00:00Z"), UTC if no zone."""
    when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def register(device):
    device.clock = Clock(device)

    def nitz(time=None, tz=0, dst=0):
        """Control verb: network time arrives (time: ISO 8601, default the host's now)."""
        return device.clock.network_time(None if time is None else _utc_arg(time), tz, dst)

    device.controls["nitz"] = nitz
    device.controls["clock"] = lambda: device.clock.describe()
    device.restart_hooks.append(device.clock.power_on)
    device.register("+CCLK", handle_cclk)
    device.register("+CTZR", handle_ctzr)
