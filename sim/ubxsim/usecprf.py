"""+USECPRF security profiles 0-4 and the +UUSECPRF session resumption URCs.

Where the spec leaves room, the simulator decides as follows:

- Persistence. The attribute table says "Settings saved: No": that attribute
  is about the AT&W settings profile, which +USECPRF is not part of. The
  description singles out session resumption as "not stored in the NVM, hence
  ... until power cycle", which only makes sense if the other settings are
  stored. So every non-volatile setting is written to the state directory on
  each successful set or reset and survives a restart; session resumption
  status, type and data (op 13) are dropped on restart.
- Errors. Parameters missing, extra, omitted (`,,`), of the wrong type or out
  of range, strings too long or with bad characters: +CME ERROR 50 (incorrect
  parameters). Values the spec defines but the module does not support (TLS
  1.3, <legacy_cs> 10/11/12/15/16 (the note) and 9/14 (their suites are not
  applicable), a Table 26 suite missing from the
  applicability list, <sess_tag> 2/5/12/13/15, <sess_type> other than 1):
  +CME ERROR 4 (operation not supported). A failed command changes nothing.
- Secrets. Op 7 (key password) and op 8 (PSK) are write-only: reading them
  answers +CME ERROR 3 (operation not allowed), so no secret ever leaves the
  module. The PSK identity (op 9) is sent in clear in every handshake, so it
  reads back: as `"<ascii>"` when it is printable ASCII, else as
  `"<HEX>",1`; either answer, sent back as a set, stores the same identity.
- Op 9 <preshared_key_id_str_type>: the syntax section (0: ASCII up to 128,
  1: hex up to 256) is modelled, not the note that drops the type.
- Cipher suites (op 2): the methods are exclusive, the last one configured
  wins; setting a legacy number or a single IANA suite discards the list, and
  a list add after them starts a new list. Adding a suite already in the list
  answers OK and changes nothing (the list holds each suite once, in the order
  added). Removing a suite not in the list is an error (+CME ERROR 50): it
  names nothing configured. Removing the last suite falls back to legacy 0.
- Session resumption (op 13): the resumption data is offered to a server when
  the status is not 0 (disabled), tag 3 data is stored and no other setting
  of the profile changed since it was stored (by a handshake or a set);
  after a change the next connection makes a full handshake under the new
  settings, whose ticket then replaces the old data. Storing tag 3 data
  (by a set or after a handshake) while enabled makes the status 2 (session
  data configured); clearing it (`"",0`) makes it 1 again. Tag 3 data must be
  strict base64 whose length equals the given size (at most 8192).
- Optional parameters (op 8/9 string type) may be left out, not left empty:
  `AT+USECPRF=0,8,"x",` is an error.
"""

import base64
import binascii
import copy
import json
import os
import sys
import tempfile
from dataclasses import asdict, fields
from typing import NamedTuple

from . import ciphers
from .cme import CmeError, INCORRECT_PARAMETERS, MEMORY_FAILURE, NOT_ALLOWED, NOT_SUPPORTED
from .command import SET, TEST, quote
from .profile import CIPHER_IANA, CIPHER_LEGACY, CIPHER_LIST, Profile

NAME = "+USECPRF"
URC_PREFIX = "+UUSECPRF"
TEST_ANSWER = "+USECPRF: (0-4),(0-16)"
PROFILE_IDS = range(5)
OP_CODES = range(17)
STATE_FILE = "profiles.json"

OP_CIPHER, OP_PSK, OP_PSK_ID, OP_PINNING, OP_SESSION = 2, 8, 9, 12, 13

# op code -> (Profile field, maximum length)
STRING_OPS = {
    3: ("ca_name", 200),
    4: ("hostname", 256),
    5: ("client_cert_name", 200),
    6: ("client_key_name", 200),
    7: ("key_password", 128),
    10: ("sni", 128),
    15: ("alpn", 255),
}
# op code -> (Profile field, allowed values, defined but not supported)
NUMBER_OPS = {
    0: ("validation", range(4), ()),
    1: ("tls_version", range(4), (4,)),
    11: ("psk_rot", range(2), ()),
    14: ("ztp", range(3), ()),
    16: ("database", range(3), ()),
}
SECRET_OPS = (7, 8)
PIN_NAME_MAX = 200
PIN_LEVELS = range(3)

# <preshared_key_str_type> / <preshared_key_id_str_type> -> maximum length
STR_ASCII, STR_HEX = 0, 1
PSK_MAX = {STR_ASCII: 64, STR_HEX: 128}
PSK_ID_MAX = {STR_ASCII: 128, STR_HEX: 256}

# cipher list <operation>
LIST_ADD, LIST_REMOVE = 0, 1

# op 13
TAG_STATUS, TAG_TYPE, TAG_ID_DATA, TAG_TICKET_DATA = 0, 1, 2, 3
SESS_TAGS = (TAG_STATUS, TAG_TYPE, TAG_TICKET_DATA)
SESS_TAGS_UNSUPPORTED = (2, 5, 12, 13, 15)
STATUS_DISABLED, STATUS_ENABLED, STATUS_CONFIGURED = 0, 1, 2
SESS_STATUSES = (STATUS_DISABLED, STATUS_ENABLED, STATUS_CONFIGURED)
TYPE_SESSION_ID, TYPE_TICKET = 0, 1
SESS_TYPES = (TYPE_TICKET,)
SESS_TYPES_UNSUPPORTED = (0, 3, 10, 11, 13)
SESS_DATA_MAX = 8192
SESS_BASIS = "basis"   # sess_data key: the settings the tag 3 data belongs to
VOLATILE = ("sess_status", "sess_type", "sess_data")
BYTES_FIELDS = ("psk", "psk_identity")
NON_VOLATILE = frozenset(f.name for f in fields(Profile)) - set(VOLATILE)

HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


class SessionOffer(NamedTuple):
    """What the TLS client should offer to resume a session."""
    sess_type: int   # TYPE_TICKET
    data: bytes      # the bytes given to session_established() as the ticket


def _bad(detail):
    return CmeError(INCORRECT_PARAMETERS, detail)


def _number(value, allowed, unsupported=(), what="value"):
    if type(value) is not int:
        raise _bad("%s must be a number" % what)
    if value in unsupported:
        raise CmeError(NOT_SUPPORTED, "%s %d not supported" % (what, value))
    if value not in allowed:
        raise _bad("%s %d out of range" % (what, value))
    return value


def _string(value, max_len, what="string"):
    if type(value) is not str:
        raise _bad("%s must be a string" % what)
    if len(value) > max_len:
        raise _bad("%s longer than %d" % (what, max_len))
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise _bad("%s holds a control character" % what)
    return value


def _arity(args, low, high=None):
    high = low if high is None else high
    if not low <= len(args) <= high:
        raise _bad("expected %d..%d parameters, got %d" % (low, high, len(args)))
    if None in args:
        raise _bad("omitted parameter")


def _encoded_bytes(text, str_type, limits, what):
    """Decode a PSK / PSK identity given as ASCII (type 0) or hex (type 1)."""
    _string(text, limits[str_type], what)
    if str_type == STR_ASCII:
        if not all(0x20 <= ord(c) <= 0x7E for c in text):
            raise _bad("%s is not printable ASCII" % what)
        return text.encode("ascii")
    if len(text) % 2 or not set(text) <= HEX_DIGITS:
        raise _bad("%s is not an even-length hex string" % what)
    return bytes.fromhex(text)


def _iana_code(b1, b2):
    """Two 2-hex-digit strings -> an applicable IANA suite code."""
    for part in (b1, b2):
        if type(part) is not str or len(part) != 2 or not set(part) <= HEX_DIGITS:
            raise _bad("IANA byte must be a 2-hex-digit string")
    code = int(b1 + b2, 16)
    suite = ciphers.SUITES.get(code)
    if suite is None:
        raise _bad("0x%04X is not in Table 26" % code)
    if not suite.applicable:
        raise CmeError(NOT_SUPPORTED, "0x%04X not available on this module" % code)
    return code


def _set_legacy(profile, number):
    profile.cipher_mode = CIPHER_LEGACY
    profile.legacy_cs = number
    profile.iana_suites = []


def _apply_cipher(profile, args):
    if not args or type(args[0]) is not int:
        raise _bad("<legacy_cs> must be a number")
    method = args[0]
    if method == ciphers.LEGACY_IANA:
        _arity(args, 3)
        code = _iana_code(args[1], args[2])
        profile.cipher_mode = CIPHER_IANA
        profile.legacy_cs = method
        profile.iana_suites = [code]
    elif method == ciphers.LEGACY_LIST:
        _arity(args, 4)
        code = _iana_code(args[1], args[2])
        operation = _number(args[3], (LIST_ADD, LIST_REMOVE), what="<operation>")
        listed = profile.iana_suites if profile.cipher_mode == CIPHER_LIST else []
        if operation == LIST_ADD:
            profile.cipher_mode = CIPHER_LIST
            profile.legacy_cs = method
            if code not in listed:
                listed = listed + [code]
            profile.iana_suites = listed
        elif code not in listed:
            raise _bad("0x%04X is not in the configured list" % code)
        else:
            listed = [c for c in listed if c != code]
            if listed:
                profile.iana_suites = listed
            else:
                _set_legacy(profile, 0)
    else:
        _arity(args, 1)
        _number(method, range(ciphers.LEGACY_MAX + 1), ciphers.UNSUPPORTED_LEGACY, "<legacy_cs>")
        _set_legacy(profile, method)


def _apply(profile, op, args):
    """Validate one set command and apply it to `profile` (a scratch copy)."""
    if op in NUMBER_OPS:
        name, allowed, unsupported = NUMBER_OPS[op]
        _arity(args, 1)
        setattr(profile, name, _number(args[0], allowed, unsupported, "op %d value" % op))
    elif op in STRING_OPS:
        name, max_len = STRING_OPS[op]
        _arity(args, 1)
        setattr(profile, name, _string(args[0], max_len, "op %d value" % op))
    elif op == OP_CIPHER:
        _apply_cipher(profile, args)
    elif op in (OP_PSK, OP_PSK_ID):
        _arity(args, 1, 2)
        str_type = STR_ASCII if len(args) == 1 else _number(args[1], (STR_ASCII, STR_HEX), what="string type")
        if op == OP_PSK:
            profile.psk = _encoded_bytes(args[0], str_type, PSK_MAX, "PSK")
        else:
            profile.psk_identity = _encoded_bytes(args[0], str_type, PSK_ID_MAX, "PSK identity")
    elif op == OP_PINNING:
        _arity(args, 2)
        name = _string(args[0], PIN_NAME_MAX, "pinned certificate name")
        profile.pin_level = _number(args[1], PIN_LEVELS, what="<pinning_level>")
        profile.pin_name = name


def _render_identity(identity):
    text = identity.decode("latin-1")
    if all(0x20 <= b <= 0x7E and b != 0x22 for b in identity):
        return quote(text)
    return "%s,%d" % (quote(identity.hex().upper()), STR_HEX)


def _render(profile, op):
    """The <param_val...> part of a read answer for op codes other than 13."""
    if op in SECRET_OPS:
        raise CmeError(NOT_ALLOWED, "op %d is write-only" % op)
    if op in NUMBER_OPS:
        return str(getattr(profile, NUMBER_OPS[op][0]))
    if op in STRING_OPS:
        return quote(getattr(profile, STRING_OPS[op][0]))
    if op == OP_CIPHER:
        if profile.cipher_mode == CIPHER_IANA:
            b1, b2 = ciphers.code_bytes(profile.iana_suites[0])
            return "%d,%s,%s" % (ciphers.LEGACY_IANA, quote(b1), quote(b2))
        if profile.cipher_mode == CIPHER_LIST:
            listed = ";".join(ciphers.code_text(c) for c in profile.iana_suites)
            return "%d,%s" % (ciphers.LEGACY_LIST, quote(listed))
        return str(profile.legacy_cs)
    if op == OP_PSK_ID:
        return _render_identity(profile.psk_identity)
    if op == OP_PINNING:
        return "%s,%d" % (quote(profile.pin_name), profile.pin_level)
    raise AssertionError("op %d has no renderer" % op)


def _session_command(profile, profile_id, args):
    """Op 13: read (`<tag>`) or set (`<tag>,<values>`) on a scratch copy."""
    if not args:
        raise _bad("<sess_tag> missing")
    tag = _number(args[0], SESS_TAGS, SESS_TAGS_UNSUPPORTED, "<sess_tag>")
    values = args[1:]
    if not values:
        if tag == TAG_STATUS:
            shown = str(profile.sess_status)
        elif tag == TAG_TYPE:
            shown = str(profile.sess_type)
        else:
            data, size = profile.sess_data.get(TAG_TICKET_DATA, ("", 0))
            shown = "%s,%d" % (quote(data), size)
        return ["%s: %d,%d,%d,%s" % (NAME, profile_id, OP_SESSION, tag, shown)], False
    if tag == TAG_STATUS:
        _arity(values, 1)
        profile.sess_status = _number(values[0], SESS_STATUSES, what="<sess_status>")
    elif tag == TAG_TYPE:
        _arity(values, 1)
        profile.sess_type = _number(values[0], SESS_TYPES, SESS_TYPES_UNSUPPORTED, "<sess_type>")
    else:
        _arity(values, 2)
        data = _string(values[0], SESS_DATA_MAX, "<session_data_b64>")
        size = _number(values[1], range(SESS_DATA_MAX + 1), what="<session_data_b64_size>")
        if len(data) != size:
            raise _bad("session data length %d differs from size %d" % (len(data), size))
        if not set(data) <= B64_CHARS:
            raise _bad("session data is not base64")
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error:
            raise _bad("session data is not base64") from None
        _store_ticket_data(profile, data)
    return [], True


def settings_basis(profile):
    """Every setting a session was negotiated under (all but op 13 itself)."""
    return tuple(sorted((name, repr(value)) for name, value in asdict(profile).items()
                        if name in NON_VOLATILE))


def _store_ticket_data(profile, data):
    """Store (or clear, with "") tag 3 data; the status follows when enabled.

    The data remembers the settings it was stored under (SESS_BASIS): it is
    offered only while they are unchanged (see session_to_resume)."""
    kept = {k: v for k, v in profile.sess_data.items() if k not in (TAG_TICKET_DATA, SESS_BASIS)}
    if data:
        kept.update({TAG_TICKET_DATA: (data, len(data)), SESS_BASIS: settings_basis(profile)})
    profile.sess_data = kept
    if profile.sess_status != STATUS_DISABLED:
        profile.sess_status = STATUS_CONFIGURED if data else STATUS_ENABLED


class ProfileStore:
    """The five security profiles, their NVM copy and session resumption."""

    def __init__(self, device):
        self.device = device
        self.profiles = {pid: Profile() for pid in PROFILE_IDS}
        self.state_dir = device.state_path("profiles")
        self.load()

    # --- persistence -----------------------------------------------------

    def _state_file(self):
        return None if self.state_dir is None else os.path.join(self.state_dir, STATE_FILE)

    def save(self, profiles=None):
        """Write the non-volatile settings of `profiles` (default: the live ones).

        The file holds key passwords and PSKs: it is created owner-only
        (mkstemp), synced and renamed over the old one, so a crash never
        leaves half a file.
        """
        path = self._state_file()
        if path is None:
            return
        saved = {}
        for pid, profile in (self.profiles if profiles is None else profiles).items():
            values = asdict(profile)
            for name in VOLATILE:
                del values[name]
            for name in BYTES_FIELDS:
                values[name] = values[name].hex()
            saved[str(pid)] = values
        fd, tmp = tempfile.mkstemp(prefix=".profiles-", dir=self.state_dir)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(saved, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def load(self):
        """Read the non-volatile settings back, as a power-up does.

        A file that cannot be read or makes no sense is lost NVM: every
        profile gets factory settings, and the log says so.
        """
        path = self._state_file()
        if path is None or not os.path.exists(path):
            return
        try:
            loaded = self._read(path)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            print("ubxsim: %s unreadable (%s): factory profiles" % (path, exc),
                  file=sys.stderr, flush=True)
            loaded = {pid: Profile() for pid in PROFILE_IDS}
        for pid, profile in self.profiles.items():
            for name in NON_VOLATILE:
                setattr(profile, name, getattr(loaded[pid], name))

    @staticmethod
    def _read(path):
        with open(path) as f:
            saved = json.load(f)
        loaded = {}
        for pid in PROFILE_IDS:
            profile, values = Profile(), saved.get(str(pid), {})
            for name in NON_VOLATILE & values.keys():
                value = values[name]
                setattr(profile, name, bytes.fromhex(value) if name in BYTES_FIELDS else value)
            loaded[pid] = profile
        return loaded

    # --- changes ---------------------------------------------------------

    def commit(self, profile_id, changed):
        """Save the new state, then copy the scratch profile onto the live one.

        Saving first means a failed write changes nothing; the live profile
        keeps its identity (running requests hold it).
        """
        planned = dict(self.profiles)
        planned[profile_id] = changed
        try:
            self.save(planned)
        except OSError as exc:
            raise CmeError(MEMORY_FAILURE, "state not saved: %s" % exc) from None
        live = self.profiles[profile_id]
        for f in fields(Profile):
            setattr(live, f.name, getattr(changed, f.name))

    def reset(self, profile_id):
        self.commit(profile_id, Profile())

    def drop_sessions(self):
        """Power cycle: session resumption state is not stored in the NVM."""
        factory = Profile()
        for profile in self.profiles.values():
            for name in VOLATILE:
                setattr(profile, name, copy.deepcopy(getattr(factory, name)))
        self.load()

    # --- session resumption (called by the TLS client) ---------------------

    def session_established(self, profile_id, session_id, master_secret, ticket):
        """Apply the spec's rules after a full handshake; return the URC lines sent.

        ticket is the opaque bytes the TLS client can resume from, or None if
        the server issued no session ticket.
        """
        profile = self.profiles[profile_id]
        urcs = []
        if profile.sess_status == STATUS_DISABLED:
            return urcs
        if profile.sess_type == TYPE_TICKET:
            if not ticket:
                return urcs
            data = base64.b64encode(ticket).decode("ascii")
            if len(data) > SESS_DATA_MAX:
                return urcs  # too large for the profile: nothing to resume from
            _store_ticket_data(profile, data)
            urcs.append("%s: %d,%d,%d,%d" % (URC_PREFIX, profile_id, OP_SESSION, TAG_STATUS, profile.sess_status))
        elif profile.sess_type == TYPE_SESSION_ID:
            # reported, never stored in the profile
            sid = base64.b64encode(session_id).decode("ascii")
            secret = base64.b64encode(master_secret).decode("ascii")
            urcs.append("%s: %d,%d,%d,%d" % (URC_PREFIX, profile_id, OP_SESSION, TAG_TYPE, TYPE_SESSION_ID))
            urcs.append("%s: %d,%d,%d,%s,%s" % (URC_PREFIX, profile_id, OP_SESSION, TAG_ID_DATA, quote(sid), quote(secret)))
        for line in urcs:
            self.device.emit_urc(line)
        return urcs

    def session_to_resume(self, profile_id):
        """The session the TLS client should offer, or None for a full handshake."""
        profile = self.profiles[profile_id]
        if profile.sess_status == STATUS_DISABLED or profile.sess_type != TYPE_TICKET:
            return None
        stored = profile.sess_data.get(TAG_TICKET_DATA)
        if stored is None:
            return None
        if profile.sess_data.get(SESS_BASIS) != settings_basis(profile):
            return None  # settings changed since: a full handshake under the new ones
        return SessionOffer(TYPE_TICKET, base64.b64decode(stored[0]))


def handle(device, kind, params):
    if kind == TEST:
        return [TEST_ANSWER]
    if kind != SET:
        raise CmeError(NOT_SUPPORTED, "AT+USECPRF has no %s form" % kind)
    store = device.profiles
    if not params:
        raise _bad("<profile_id> missing")
    profile_id = _number(params[0], PROFILE_IDS, what="<profile_id>")
    if len(params) == 1:
        store.reset(profile_id)
        return []
    op = _number(params[1], OP_CODES, what="<op_code>")
    args = params[2:]
    if None in args:
        raise _bad("omitted parameter")
    scratch = copy.deepcopy(store.profiles[profile_id])
    if op == OP_SESSION:
        lines, changed = _session_command(scratch, profile_id, args)
        if changed:
            store.commit(profile_id, scratch)
        return lines
    if not args:
        return ["%s: %d,%d,%s" % (NAME, profile_id, op, _render(scratch, op))]
    _apply(scratch, op, args)
    store.commit(profile_id, scratch)
    return []


# Test data for the "session" control verb: a full handshake without TLS
TEST_SESSION_ID = bytes(range(32))
TEST_MASTER_SECRET = bytes(range(100, 148))
TEST_TICKET = bytes((i * 7) & 0xFF for i in range(200))


def session_control(store):
    """The "session" control verb: as if a handshake on a profile just finished.

    Byte values are hex strings (defaults: fixed test data); ticket None
    (JSON null) means the server issued no ticket. Returns the URC lines sent.
    """
    def control(profile_id=0, session_id=None, master_secret=None, ticket="default"):
        if profile_id not in PROFILE_IDS:
            raise ValueError("profile_id must be 0-4")
        sid = TEST_SESSION_ID if session_id is None else bytes.fromhex(session_id)
        secret = TEST_MASTER_SECRET if master_secret is None else bytes.fromhex(master_secret)
        if ticket == "default":
            data = TEST_TICKET
        else:
            data = None if ticket is None else bytes.fromhex(ticket)
        return {"urcs": store.session_established(profile_id, sid, secret, data)}
    return control


def register(device):
    store = ProfileStore(device)
    device.profiles = store
    device.register(NAME, handle)
    device.restart_hooks.append(store.drop_sessions)
    device.controls["session"] = session_control(store)
    return store
