"""Staged rotation of a security profile's credentials, safe at a power cut.

    from ubxsec.rotate import Rotation, https_check
    r = Rotation(m)                               # journal "rotate.json", working directory
    r.begin(2, ca="newca.pem")                    # imported under a fresh name, MD5 verified
    r.test(https_check(m, "https://example.com/"), scratch_profile=4)   # optional
    r.switch()                                    # profile 2 now uses the new generation
    r.commit()                                    # the old generation is removed
    ... or r.rollback() at any step before commit(): profile back, new generation removed
    Rotation.resume(m)                            # at boot: "committed", "rolled back" or None

Roles: ca (the profile's ca_name), client_cert and client_key (its
client_cert_name and client_key_name), any subset, but a client certificate
and its key always together: they belong to one generation, never a new
certificate with an old key. A credential is a file path on the board or
DER/PEM bytes.

Generation names: "p<profile>-<role>-g<n>" (role CA, CC or PK), e.g.
"p2-CA-g7": n is one above the highest generation of that profile the
module lists, the same for every role of one rotation. The longest,
"p4-CA-g" plus 23 digits, is 30 characters, the shortest name limit of any
series (the spec's). Names are unique across kinds on the module, and a
fresh generation is a name nobody holds: an import never replaces anything.
The generation before (any names, e.g. "MyCA" from provisioning) is what
the profile referenced when begin() ran.

Order, and what a power cut leaves: each step is written to the journal
before it acts, so resume() knows what may have happened. Nothing the
profile uses is touched before switch(); the old generation is removed only
by commit(), after the profile points at the new one, whose MD5s were
verified at import and are checked again before a resumed switch. resume():
a rotation cut before switch() began is rolled back (new names removed,
the scratch profile reset); one cut in switch() or later is finished
(profile on the new generation, old one removed); a cut rollback is finished.

The journal: one small file (about 300 bytes), "ubxsec-rotate 1 <sum>
<length>" then the JSON state, <sum> a Fletcher-32 of the JSON text. It is
written to "<journal>.tmp", then renamed over the journal (littlefs renames
atomically; on FAT, where rename refuses an existing file, the old journal
is removed first and a lone valid .tmp is read in its place), and read back.
A journal whose header, length or sum does not match raises JournalError
naming the file, and nothing is done. The journal is written only while
the AT engine is idle (a bare AT first: RuntimeError if called from a URC
handler, with a command in flight) and once the line has been quiet for the
engine's quiet_ms (rp2 stops its CPU while it programs flash, and the UART
FIFO then overflows: see ubxsec.session). After commit or rollback the
journal is removed.

Free entries: begin() lists the module first and refuses (NoRoom, nothing
changed) unless the new generation fits beside the old one (10 user entries
on the spec's model: Rotation(m, slots=...) for another). User entries are
those listed without a time of day in their expiry (pre-installed roots list
one), which a series listing user certificates with a time (SARA-R5)
undercounts: the module's own refusal (memory full) then ends begin(),
which removes what it imported.
"""

import json
import os
import time

from .errors import CmeError, UbxError
from .params import check_int

_MAGIC = "ubxsec-rotate 1"
# role -> (profile setter, kind, name tag)
_ROLES = {"ca": ("ca_name", "CA", "CA"),
          "client_cert": ("client_cert_name", "CC", "CC"),
          "client_key": ("client_key_name", "PK", "PK")}
_ORDER = ("ca", "client_cert", "client_key")
# stages, in the order they are journaled; resume() rolls back a journal
# before SWITCHING and finishes one from SWITCHING on
IMPORTING = "importing"
IMPORTED = "imported"
TESTING = "testing"
TESTED = "tested"
SWITCHING = "switching"
SWITCHED = "switched"
COMMITTING = "committing"
ROLLING_BACK = "rolling back"
_BEFORE_SWITCH = (IMPORTING, IMPORTED, TESTING, TESTED)
_STAGES = _BEFORE_SWITCH + (SWITCHING, SWITCHED, COMMITTING, ROLLING_BACK)
_DRAIN_MS = 2000

# the power-cut tests' hook: called with the name of each journal step
_hook = None


class RotationError(UbxError):
    """A rotation step refused or failed; the message says what is left."""


class NoRoom(RotationError):
    """Not enough free entries on the module for the new generation."""


class JournalError(RotationError):
    """The journal is corrupt, truncated, foreign or did not read back."""


def gen_name(profile_id, role, n):
    """The generation name: gen_name(2, "ca", 7) -> "p2-CA-g7"."""
    return "p%d-%s-g%d" % (profile_id, _ROLES[role][2], n)


def _gen_of(name, profile_id):
    """n if name is a generation name of profile_id, else 0."""
    head = "p%d-" % profile_id
    if not name.startswith(head) or name[len(head) + 2:len(head) + 4] != "-g":
        return 0
    tail = name[len(head) + 4:]
    return int(tail) if tail.isdigit() and name[len(head):len(head) + 2] in ("CA", "CC", "PK") \
        else 0


def _sum(text):
    """Fletcher-32 of text's bytes, in small ints (32-bit ports)."""
    a = b = 0
    for c in text.encode():
        a = (a + c) % 65535
        b = (b + a) % 65535
    return "%04x%04x" % (b, a)


def _pack(state):
    body = json.dumps(state)
    return "%s %s %d\n%s" % (_MAGIC, _sum(body), len(body), body)


def _unpack(text, path):
    """The state of a journal's text; JournalError for anything else."""
    i = text.find("\n")
    head, body = (text, "") if i < 0 else (text[:i], text[i + 1:])
    f = head.split(" ")
    if len(f) != 4 or f[0] + " " + f[1] != _MAGIC:
        raise JournalError("%s: not a rotation journal (header %r); nothing done: "
                           "move it away if it belongs to something else" % (path, head[:40]))
    if not f[3].isdigit() or int(f[3]) != len(body):
        raise JournalError("%s: truncated (%d of %s bytes); nothing done: check the module "
                           "by hand, then remove the file" % (path, len(body), f[3]))
    if f[2] != _sum(body):
        raise JournalError("%s: checksum mismatch (corrupt); nothing done: check the module "
                           "by hand, then remove the file" % (path,))
    try:
        state = json.loads(body)
    except ValueError:
        state = None
    if not isinstance(state, dict) or state.get("stage") not in _STAGES \
            or not isinstance(state.get("roles"), dict):
        raise JournalError("%s: checksum right but content unknown; nothing done" % path)
    return state


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _step(name):
    if _hook is not None:
        _hook(name)


def load(path):
    """The journal's state, or None when there is none; JournalError when
    it is not a whole journal."""
    tmp = path + ".tmp"
    text = _read(path)
    if text is None:
        text = _read(tmp)
        if text is None:
            return None
        try:   # a lone .tmp: complete only if renaming was all that was left
            return _unpack(text, tmp)
        except JournalError:
            return None   # cut while writing the first journal: nothing acted on
    return _unpack(text, path)


class Rotation:
    def __init__(self, module, journal="rotate.json", slots=10):
        self.m = module
        self.path = journal
        self.slots = slots
        self.state = None   # the journal's content while a rotation is open

    # -- the steps -----------------------------------------------------------

    def begin(self, profile_id, ca=None, client_cert=None, client_key=None, key_password=None):
        """Import the new generation of the given roles, each MD5-verified,
        under fresh names; the profile is not touched. NoRoom (nothing
        changed) when the module has too few free entries."""
        check_int(profile_id, range(5), "profile_id")
        given = {"ca": ca, "client_cert": client_cert, "client_key": client_key}
        if (client_cert is None) != (client_key is None):
            raise ValueError("client_cert and client_key rotate together (one generation)")
        roles = [r for r in _ORDER if given[r] is not None]
        if not roles:
            raise ValueError("nothing to rotate: give ca, or client_cert and client_key")
        if load(self.path) is not None:
            raise RotationError("%s: a rotation is in progress: resume() it first" % self.path)
        m = self.m
        prof = m.profile(profile_id)
        entries = m.certs.list()
        names = [e.name for e in entries]
        gen = 0
        for name in names:
            gen = max(gen, _gen_of(name, profile_id))
        gen += 1
        state = {"stage": IMPORTING, "profile": profile_id, "gen": gen, "roles": {}}
        for role in roles:
            old = getattr(prof, _ROLES[role][0])()
            if not old or old not in names:
                raise RotationError("profile %d %s %r is not on the module: nothing to rotate "
                                    "(import it and set it instead)" % (profile_id, _ROLES[role][0], old))
            state["roles"][role] = [old, gen_name(profile_id, role, gen), None]
        used = 0
        for e in entries:
            used += e.expiry is None or len(e.expiry) == 10
        if used + len(roles) > self.slots:
            raise NoRoom("rotation needs %d free entries, the module has %d of %d user entries "
                         "in use: remove unused ones first (nothing changed)"
                         % (len(roles), used, self.slots))
        self._write(state)
        self.state = state
        try:
            for role in roles:
                src = given[role]
                kind = _ROLES[role][1]
                new = state["roles"][role][1]
                pw = key_password if role == "client_key" else None
                if isinstance(src, str):
                    md5 = m.certs.import_file(src, kind, new, pw)
                else:
                    md5 = m.certs.import_bytes(src, kind, new, pw)
                state["roles"][role][2] = md5
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise   # resume() rolls back
            self._undo()
            raise
        self._to(IMPORTED)
        return dict((r, v[1]) for r, v in state["roles"].items())

    def test(self, check, scratch_profile=None):
        """Run check(profile_id); with scratch_profile, that profile first
        gets the live one's settings with the new generation, and is reset
        afterwards. A failing check (False or an exception) rolls the
        rotation back and raises RotationError."""
        st = self._open((IMPORTED, TESTED), "test")
        pid = st["profile"]
        target = pid
        if scratch_profile is not None:
            target = check_int(scratch_profile, range(5), "scratch_profile")
            if target == pid:
                raise ValueError("scratch_profile is the live profile")
            st = self._to(TESTING, target)
            cfg = self.m.profile(pid).read_all()
            for role, v in st["roles"].items():
                cfg[_ROLES[role][0]] = v[1]
            self.m.profile(target).apply(_settable(cfg), True)
        why = None
        try:
            ok = check(target)
            if ok is False:
                why = "returned False"
        except Exception as exc:
            why = "%s: %s" % (type(exc).__name__, exc)
        if why is not None:
            self.rollback()
            raise RotationError("check on profile %d failed (%s): rolled back, profile %d "
                                "unchanged" % (target, why, pid))
        if scratch_profile is not None:
            self.m.profile(target).reset()
        self._to(TESTED, None)

    def switch(self):
        """Point the live profile at the new generation (CA first, then the
        certificate and its key)."""
        self._open((IMPORTED, TESTED), "switch")
        self._to(SWITCHING)
        self._point(1)
        self._to(SWITCHED)

    def commit(self):
        """Remove the old generation (names no other profile uses; a
        pre-installed root stays); the journal is removed."""
        self._open((SWITCHED,), "commit")
        self._to(COMMITTING)
        self._finish_commit()

    def rollback(self):
        """Point the profile back at the old generation and remove the new
        one; the journal is removed."""
        self._open(_BEFORE_SWITCH + (SWITCHING, SWITCHED, ROLLING_BACK), "rollback")
        self._undo()

    @classmethod
    def resume(cls, module, journal="rotate.json"):
        """Finish or roll back what a power cut interrupted. Returns
        "committed", "rolled back", or None when no rotation was open.
        JournalError (nothing done) for a journal that is not whole."""
        r = cls(module, journal)
        st = load(journal)
        if st is None:
            _remove(journal + ".tmp")
            return None
        r.state = st
        stage = st["stage"]
        if stage == COMMITTING:
            r._finish_commit()
            return "committed"
        if stage in (SWITCHING, SWITCHED) and r._verified():
            r._point(1)
            r._to(COMMITTING)
            r._finish_commit()
            return "committed"
        r._undo()
        return "rolled back"

    # -- internals -----------------------------------------------------------

    def _open(self, stages, what):
        st = self.state
        if st is None:
            raise RotationError("%s: no rotation open (begin() first)" % what)
        if st["stage"] not in stages:
            raise RotationError("%s: not at stage %r" % (what, st["stage"]))
        return st

    def _to(self, stage, scratch=0):
        """Journal the next stage (and scratch profile, unless 0), then
        hold it: the state in RAM never runs ahead of the journal."""
        st = {}
        for k in self.state:
            st[k] = self.state[k]
        st["stage"] = stage
        if scratch != 0:
            st["scratch"] = scratch
        self._write(st)
        self.state = st
        return st

    def _point(self, i):
        """Set the live profile's names to the old (i=0) or new (i=1) ones."""
        st = self.state
        prof = self.m.profile(st["profile"])
        for role in _ORDER:
            v = st["roles"].get(role)
            if v is not None and getattr(prof, _ROLES[role][0])() != v[i]:
                getattr(prof, _ROLES[role][0])(v[i])

    def _verified(self):
        """Every new name on the module with the MD5 recorded at import."""
        for role, v in self.state["roles"].items():
            if v[2] is None:
                return False
            try:
                if self.m.certs.md5(_ROLES[role][1], v[1]) != v[2]:
                    return False
            except UbxError:
                return False
        return True

    def _undo(self):
        st = self.state
        if st["stage"] != ROLLING_BACK:
            st = self._to(ROLLING_BACK)
        if st.get("scratch") is not None:
            self.m.profile(st["scratch"]).reset()
        self._point(0)
        self._drop(1)

    def _finish_commit(self):
        self._drop(0)

    def _drop(self, i):
        """Remove the old (0) or new (1) names the module holds, except those
        another profile references; then the journal."""
        st = self.state
        m = self.m
        have = [e.name for e in m.certs.list()]
        keep = []
        if i == 0:
            for pid in range(5):
                if pid != st["profile"]:
                    p = m.profile(pid)
                    for role in st["roles"]:
                        keep.append(getattr(p, _ROLES[role][0])())
        for role in _ORDER:
            v = st["roles"].get(role)
            if v is not None and v[i] in have and v[i] not in keep:
                try:
                    m.certs.remove(_ROLES[role][1], v[i])
                except CmeError as exc:
                    # 3, operation not allowed: a pre-installed root, which
                    # stays on the module (it takes no user entry)
                    if i or exc.code != 3:
                        raise
        self._write(None)
        self.state = None

    def _write(self, state):
        """Journal the state (None: remove the journal), when the line is
        quiet; read back."""
        at = self.m.at
        at.command("")   # RuntimeError from a URC handler: a command is in flight
        _quiet(at)
        path = self.path
        tmp = path + ".tmp"
        if state is None:
            _step("remove")
            _remove(path)
            _step("removed")
            _remove(tmp)
            return
        text = _pack(state)
        _step("open")
        with open(tmp, "w") as f:
            _step("opened")
            n = len(text) // 2
            f.write(text[:n])
            _step("half")
            f.write(text[n:])
        _step("written")
        try:
            os.rename(tmp, path)
        except OSError:   # FAT: the target must not exist
            _remove(path)
            _step("fat")
            os.rename(tmp, path)
        _step("renamed")
        if _read(path) != text:
            raise JournalError("%s: did not read back as written (flash full or failing?)" % path)


def _settable(cfg):
    """read_all()'s settings that apply() takes back."""
    out = {}
    for k, v in cfg.items():
        if v is not None and k not in ("session_status", "session_type", "psk_identity", "pinning"):
            out[k] = v
    return out


def _quiet(at):
    """Return once nothing has arrived for the engine's quiet_ms (what does
    arrive is dispatched), as SessionKeeper.save does before a flash write."""
    ring = at.ring
    at.poll()
    now = time.ticks_ms()
    give_up = time.ticks_add(now, _DRAIN_MS)
    silent = time.ticks_add(now, at.quiet_ms)
    while time.ticks_diff(silent, time.ticks_ms()) > 0:
        if ring.fill() or ring.any():
            at.poll()
            now = time.ticks_ms()
            if time.ticks_diff(give_up, now) <= 0:
                raise RotationError("the module kept sending for %d ms: journal not written"
                                    % _DRAIN_MS)
            silent = time.ticks_add(now, at.quiet_ms)
        else:
            time.sleep_ms(1)


def https_check(module, url, http_profile=0):
    """A check for Rotation.test(): an HTTPS GET of url (https://host[:port]/path)
    through the module's HTTP client with the profile under test; passes on
    a 2xx/3xx status. Package ubxsec-http."""
    from .http import Http, status
    if not url.startswith("https://"):
        raise ValueError("url: https://host[:port]/path")
    rest = url[8:] + "/"
    i = rest.find("/")
    host, path = rest[:i], rest[i + 1:-1]
    i = host.find(":")
    host, port = (host, None) if i < 0 else (host[:i], int(host[i + 1:]))

    def check(profile_id):
        h = Http(module.at, http_profile)
        h.reset()
        h.server(host, port)
        h.secure(profile_id)
        h.get("/" + path, "rotate.resp")
        head = bytearray()

        def keep(mv):   # the status line's start only: the body may be big
            if len(head) < 12:
                head.extend(mv[:12 - len(head)])
        h.read_file("rotate.resp", keep)
        code = status(head)
        if not 200 <= code < 400:
            raise RotationError("GET %s: HTTP %d" % (url, code))
        return True
    return check
