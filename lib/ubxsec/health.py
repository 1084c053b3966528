"""Trust health of a module: package ubxsec-health.

    >>> import ubxsec.health
    >>> ubxsec.health.report(m)          # the REPL prints the table
    kind name      CN            expiry      days  status        profiles
    CA   ThawteCA  thawte Pri... 2036/07/17  3509  ok            2
    ...

report(m, warn_days=30, now=None) reads what the module holds (the listing,
security profiles 0-4, the clock) through the core's public API and returns a
Report: its repr is the table, and its fields hold the same for code:

    credentials  [(kind, name, CN, expiry, days left, status, [profile ids])]
                 status "ok", "expires soon" (within warn_days), "expired",
                 "-" (a key: no expiry) or "?" (no date to compare with)
    dangling     [(profile id, setting, kind, name)]: a name a profile
                 refers to that is not on the module
    problems     one line per thing to act on, with what to do
    clock        the module's clock tuple (ubxsec.clock); free: user slots left

Dates are compared with now (a (year, month, day, ...) tuple, e.g.
time.gmtime()), else the module's clock if it is set, else the board's if
its year is not before the library's release; else days are "?".
Every user entry is listed, a pre-installed root (the spec's "ubx_" names)
only when a profile refers to it.
"""

from micropython import const

from .clock import RELEASE_YEAR, date
from .errors import UbxError

_USER_SLOTS = const(10)   # the spec: 10 user entries, pre-installed roots aside
_PROFILES = const(5)
# profile setting -> the kind of credential it names
_REFS = (("ca_name", "CA"), ("client_cert_name", "CC"), ("client_key_name", "PK"),
         ("pinning", "SC"))
_HEAD = ("kind", "name", "CN", "expiry", "days", "status", "profiles")


def _day(y, m, d):
    """Days since 0000-03-01 of a proleptic Gregorian date (differences only)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy


def _expiry_day(text):
    """The day number of 'YYYY/MM/DD[ hh:mm:ss]', or None."""
    try:
        return _day(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except (TypeError, ValueError):
        return None


class Report:
    def __init__(self, credentials, dangling, problems, clock, free):
        self.credentials = credentials
        self.dangling = dangling
        self.problems = problems
        self.clock = clock
        self.free = free

    def __repr__(self):
        rows = [_HEAD]
        for kind, name, cn, expiry, days, status, profiles in self.credentials:
            rows.append((kind, name, cn or "", expiry or "",
                         "-" if not expiry else "?" if days is None else str(days),
                         status, ",".join(str(p) for p in profiles) or "-"))
        width = [max(len(r[i]) for r in rows) for i in range(7)]
        lines = []
        for r in rows:
            lines.append("  ".join(r[i] + " " * (width[i] - len(r[i])) for i in range(7)).rstrip())
        lines.extend(self.problems)
        lines.append("free slots: %d of %d" % (self.free, _USER_SLOTS))
        return "\n".join(lines)


def _today(now, clock):
    if now is not None:
        return _day(now[0], now[1], now[2])
    if clock is not None and clock[7]:
        return _day(clock[0], clock[1], clock[2])
    import time
    t = time.gmtime()
    if t[0] >= RELEASE_YEAR:
        return _day(t[0], t[1], t[2])
    return None


def _settings(m):
    """[(profile id, validation level, [(setting, kind, name)])] of profiles 0-4."""
    out = []
    for n in range(_PROFILES):
        p = m.profile(n)
        refs = []
        for setting, kind in _REFS:
            try:
                value = getattr(p, setting)()
            except UbxError:   # a setting this module does not read back: no reference
                continue
            name = value[0] if setting == "pinning" else value
            if name:
                refs.append((setting, kind, name))
        out.append((n, p.validation_level(), refs))
    return out


def report(m, warn_days=30, now=None):
    """The trust health of module m (a ubxsec.Module): see the module's doc."""
    try:
        clock = m.clock()
    except UbxError:   # a module without +CCLK: dates come from now or the board
        clock = None
    today = _today(now, clock)
    entries = m.certs.list()
    profiles = _settings(m)
    stored = {}
    for e in entries:
        stored[(e.kind, e.name)] = []
    dangling, problems = [], []
    for n, level, refs in profiles:
        for setting, kind, name in refs:
            users = stored.get((kind, name))
            if users is None:
                dangling.append((n, setting, kind, name))
                problems.append("profile %d: %s %r (%s) is not on the module: import it "
                                "or change the setting" % (n, setting, name, kind))
            elif n not in users:
                users.append(n)
        if level == 3 and clock is not None and not clock[7]:
            problems.append("profile %d: validation level 3 while the module's clock is not "
                            "set (%s): set it with m.set_clock() or wait for network time"
                            % (n, date(clock)))
    rows = []
    user = 0
    for e in entries:
        users = stored[(e.kind, e.name)]
        preinstalled = e.name.startswith("ubx_")
        if not preinstalled:
            user += 1
        elif not users:
            continue
        day = _expiry_day(e.expiry) if e.expiry else None
        days = None if day is None or today is None else day - today
        if not e.expiry:
            status = "-"
        elif days is None:
            status = "?"
        elif days < 0:
            status = "expired"
        elif days <= warn_days:
            status = "expires soon"
        else:
            status = "ok"
        if status in ("expired", "expires soon"):
            problems.append("%s %r %s %s: import its successor%s" % (
                e.kind, e.name, "expired on" if days < 0 else "expires on", e.expiry[:10],
                users and " and point profile %s at it" % ",".join(str(u) for u in users) or ""))
        rows.append((e.kind, e.name, e.common_name, e.expiry, days, status, users))
    return Report(rows, dangling, problems, clock, _USER_SLOTS - user)
