"""(D)TLS session resumption across power cycles: +UUSECPRF.

The module keeps session data only until it is powered off. SessionKeeper
listens to the +UUSECPRF URCs, remembers per profile the status, type and
data they report, saves the data of one profile to a small file and writes
it back to the module after a power cycle:

    keeper = SessionKeeper(at)          # one per engine: it owns "+UUSECPRF:"
    ... connection handshakes; URCs arrive ...
    keeper.save(0, "/sess0.json")       # reads a ticket from the module if needed
    ... power cycle ...
    keeper.restore("/sess0.json")       # status 1, type, then the data tag

Session IDs (types 0, 10) come only in URCs (the module does not keep
them); session tickets (types 1, 3, 11, 13) are stored in the profile, and
the URC only reports status 2, so save() reads them with
AT+USECPRF=<id>,13,<tag>: a ticket of up to 8192 base64 characters
needs the engine's line buffer above the default 512 bytes, e.g.
Module(uart, line_max=8300) (see ubxsec.Module). The data never goes to a trace (secret commands,
and the engine redacts +UUSECPRF lines); the file on flash does hold it.

Flash writes and reception: rp2 erases and programs flash with interrupts
off, and a UART's 32-byte hardware FIFO lasts 2.8 ms at 115200 baud; bytes
the module sends meanwhile are lost (without RTS/CTS nothing holds it).
save() therefore never writes while a command or a '>' transfer is in
flight (RuntimeError: not from a URC handler), and first drains the line:
it dispatches what has arrived and waits until the module has been silent
for the engine's quiet_ms (AtTimeout if it keeps sending for 2 s; nothing
is written then).

What talks to the module returns at.run() of a generator over the engine's
exchanges (the engine contract: a value on Module, an awaitable on
ubxsec.aio's engine); save()'s drain before the flash write waits in
place on either. Only the public surface of ubxsec.profiles is used.
"""

import json
import os
import time
from io import BytesIO
from micropython import const

from . import extension
from .errors import AtTimeout, ProtocolError
from .params import check_int
from .profiles import SecurityProfile, only, payload

PREFIX = "+UUSECPRF:"
# (D)TLS session resumption (op code 13): session type i has data tag
# DATA_TAGS[i]
SESSION_TYPES = (0, 1, 3, 10, 11, 13)
DATA_TAGS = (2, 3, 5, 12, 13, 15)
_DATA_MAX = const(8192)
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_DRAIN_MS = const(2000)   # longest wait for a silent line before a flash write
# session IDs (data tags 2, 12): sent in URCs only, not kept by the module


def _b64(v, n=_DATA_MAX, lo=1, err=ValueError):
    """v if a str of lo..n base64 chars, else err."""
    if isinstance(v, str) and lo <= len(v) <= n and only(v, _B64):
        return v
    raise err("session data: not base64")


def session_value(tag, f):
    """The value of session tag `tag` from its fields (a read answer or a
    URC): an int for status (0) and type (1), (session_id, master_secret)
    for tag 2, else the base64 data, whose size field must match.
    ProtocolError if malformed."""
    n = len(f)
    v = f[0] if n else None
    if n == 1 and (tag == 0 and v in (0, 1, 2) or tag == 1 and v in SESSION_TYPES):
        return v
    if n == 2 and tag == 2:
        return (_b64(v, 44, 0, ProtocolError), _b64(f[1], 64, 0, ProtocolError))
    if n == 2 and tag in DATA_TAGS and f[1] == len(_b64(v, _DATA_MAX, 0, ProtocolError)):
        return v
    raise ProtocolError("bad session value")


# SecurityProfile's op code 13 methods call these with the profile as `prof`


def session_status(prof, status=None):
    """SecurityProfile.session_status()."""
    return _session(prof, 0, status, (0, 1, 2))


def session_type(prof, kind=None):
    """SecurityProfile.session_type()."""
    return _session(prof, 1, kind, SESSION_TYPES)


def _value(f, tag):
    return session_value(tag, f)


def reader(prof, tag, secret=False):
    """Generator reading session tag `tag` (0 status, 1 type, or a data tag)
    of profile prof back, as session_value() gives it."""
    return prof.read_op(13, _value, tag, tag, secret)


def _session(prof, tag, value, ok):
    if value is None:
        return prof.at.run(reader(prof, tag))
    return prof.put(13, "%d,%d" % (tag, check_int(value, ok, "session")))


def session_data(prof, tag, *values):
    """SecurityProfile.session_data()."""
    check_int(tag, DATA_TAGS, "session tag")
    if not values:
        return prof.at.run(reader(prof, tag, True))
    if len(values) != (2 if tag == 2 else 1):
        raise ValueError("tag 2: 2 values, else 1")
    data = values[0]
    if tag == 2:
        data = '"%s","%s"' % (_b64(data, 44), _b64(values[1], 64))
    elif tag in (5, 15):   # the data follows a '>' prompt
        n = len(_b64(data))
        return prof.send("+USECPRF=%d,13,%d,%d" % (prof.id, tag, n),
                         True, (n, BytesIO(data.encode()).readinto))
    else:
        data = '"%s",%d' % (_b64(data, _DATA_MAX, 0), len(data))
    return prof.put(13, "%d,%s" % (tag, data), True)


def parse_urc(line):
    """'+UUSECPRF: <id>,13,<tag>,<v1>[,<v2>]' -> (profile_id, tag, value):
    value as session_value() gives it. ProtocolError if it is
    not a well-formed session URC."""
    f = payload(line, PREFIX)
    if len(f) < 4 or f[1] != 13 or f[0] not in (0, 1, 2, 3, 4):
        raise ProtocolError("not a session URC")
    # session_value refuses tags other than 0, 1 and the data tags
    return f[0], f[2], session_value(f[2], f[3:])


class SessionKeeper:
    def __init__(self, at):
        self._at = at
        # per profile id: [status, data tag, data value]; None: not known
        self._state = [[None] * 3 for _ in range(5)]
        self.malformed = 0    # +UUSECPRF lines that did not parse
        at.on_urc(PREFIX, self._on_urc)

    def __repr__(self):
        return "<SessionKeeper>"  # never the data

    def _on_urc(self, line):
        # runs inside the engine's dispatch: record only, never send commands
        try:
            pid, tag, v = parse_urc(line)
        except ProtocolError:
            self.malformed += 1
            return
        st = self._state[pid]
        if tag > 1:
            st[1:] = [tag, v]
        elif tag == 0:
            st[0] = v
            if v == 2 and st[1] not in (2, 12):
                st[1:] = [None, None]  # a new ticket: capture() reads it
        elif st[1] is not None and SESSION_TYPES[DATA_TAGS.index(st[1])] != v:
            st[1:] = [None, None]  # data of another type is stale

    def _st(self, profile_id):
        return self._state[check_int(profile_id, range(5), "profile_id")]

    def status(self, profile_id):
        """Last reported status (0 disabled, 1 enabled, 2 data configured)."""
        return self._st(profile_id)[0]

    def has_data(self, profile_id):
        return self._st(profile_id)[2] is not None

    def forget(self, profile_id):
        self._st(profile_id)[:] = [None] * 3

    def capture(self, profile_id):
        """Make sure the profile's session data is held: a session ticket
        (status 2, no data from URCs) is read from the module; with no
        status reported (e.g. after an MCU restart) the status is read
        first. Call it from the application, never from a URC handler.
        True if data is held."""
        return self._at.run(self._capture(self._st(profile_id), profile_id))

    def _capture(self, st, profile_id):
        if st[2] is None:
            prof = SecurityProfile(self._at, profile_id)
            if st[0] is None:
                st[0] = yield from reader(prof, 0)
            if st[0] != 2:
                return False
            tag = DATA_TAGS[SESSION_TYPES.index((yield from reader(prof, 1)))]
            if tag in (2, 12):
                return False  # the module never keeps session IDs
            v = yield from reader(prof, tag, True)
            if v:
                st[1:] = [tag, v]
        return st[2] is not None

    def save(self, profile_id, path):
        """Write the profile's session data to path (JSON, about the size of
        the base64 data): a tmp file first, then renamed over path, so a
        power loss leaves the old file or the new one (littlefs renames
        atomically; FAT removes the old file just before). The line is
        drained first (see the module's docstring)."""
        if self._at.busy:
            raise RuntimeError("save() writes flash: not while a command is in flight")
        return self._at.run(self._save(self._st(profile_id), profile_id, path))

    def _save(self, st, profile_id, path):
        if not (yield from self._capture(st, profile_id)):
            raise ValueError("no session data")
        _, tag, v = st
        self._drain()
        tmp = path + ".tmp"
        try:
            with open(tmp, "w") as f:
                # "v": version of the file format
                json.dump({"v": 1, "id": profile_id, "tag": tag,
                           "data": list(v) if tag == 2 else [v]}, f)
            os.rename(tmp, path)
        except BaseException:
            try:  # a half-written file of secrets is not left on flash
                os.remove(tmp)
            except OSError:
                pass
            raise

    def _drain(self):
        """Return once nothing has arrived for quiet_ms, dispatching what
        does (URCs reach their handlers before the CPU stops for flash)."""
        at = self._at
        ring = at.ring
        at.poll()  # what is already here: bytes after the last final result
        now = time.ticks_ms()
        give_up = time.ticks_add(now, _DRAIN_MS)
        silent = time.ticks_add(now, at.quiet_ms)
        while time.ticks_diff(silent, time.ticks_ms()) > 0:
            if ring.fill() or ring.any():
                at.poll()
                now = time.ticks_ms()
                if time.ticks_diff(give_up, now) <= 0:
                    raise AtTimeout("the module kept sending for %d ms: session not saved" % _DRAIN_MS)
                silent = time.ticks_add(now, at.quiet_ms)
            else:
                time.sleep_ms(1)

    def restore(self, path, profile_id=None):
        """Write a saved session back to the module (to profile_id, or the
        one it was saved from): tag 0 enabled, tag 1 its type, then its data
        tag. The file is checked whole before the first command (ValueError,
        also when the file is not JSON)."""
        return self._at.run(self._restore(path, profile_id))

    def _restore(self, path, profile_id):
        with open(path) as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or doc.get("v") != 1:
            raise ValueError("not a session file")
        if profile_id is None:
            profile_id = doc.get("id")
        tag = doc.get("tag")
        data = doc.get("data")
        if tag not in DATA_TAGS or not isinstance(data, list):
            raise ValueError("bad session file")
        yield from extension("profiles_more").configure(
            SecurityProfile(self._at, profile_id),
            {"session_status": 1, "session_type": SESSION_TYPES[DATA_TAGS.index(tag)],
             "session_data": tuple([tag] + data)})
        self._state[profile_id] = [None, tag, tuple(data) if tag == 2 else data[0]]
