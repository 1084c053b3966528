"""+USECPRF: one (D)TLS security profile of the module (profile ids 0-4).

Each op code has a method named after what it sets. Called with a value it
sets it; called without one it reads it back (the key password and the PSK,
op codes 7 and 8, are write-only). Every value is checked before a byte is
written: a bad one raises ValueError and nothing reaches the UART. Answers
to reads are parsed strictly: anything but `+USECPRF: <id>,<op>,...` with
the expected fields raises ProtocolError.

Ranges follow the spec's syntax for all products (TLS version 0-4, legacy
suites 0-33, session tags 0,1,2,3,5,12,13,15, session types 0,1,3,10,11,13).
Where a product note narrows them (no TLS 1.3, no legacy suites
10/11/12/15/16, only tags 0/1/3 and type 1) the module itself refuses with a
CmeError: the library then works unchanged with firmware that allows more.
IANA codes must be in the spec's Table 26 (see ciphers.py).

Commands holding a key password, PSK, PSK identity or session data are sent
with secret=True, so a trace shows none of them.
"""

from io import BytesIO
from micropython import const

from . import ciphers
from .errors import ProtocolError
from .params import check_int, check_str, fields, quoted

# the three forms of the cipher suite setting, as ciphers() reports them
LEGACY = "legacy"   # ("legacy", n): legacy suite n (0: the default list)
IANA = "iana"       # ("iana", 0xC02B): exactly one suite
LIST = "list"       # ("list", [0xC02A, 0xC02C]): a list of suites

_PREFIX = "+USECPRF:"
_HEX = "0123456789ABCDEFabcdef"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

# (D)TLS session resumption (op code 13): session type i has data tag
# DATA_TAGS[i]
SESSION_TYPES = (0, 1, 3, 10, 11, 13)
DATA_TAGS = (2, 3, 5, 12, 13, 15)
_PROMPT_TAGS = (5, 15)   # data follows a '>' prompt instead of the command
_DATA_MAX = const(8192)

# (name lists are list literals: far smaller in a .mpy than const tuples)
# apply() sets keys in this order: TLS version before the session data that
# may need it, cipher list additions before removals (removing the last
# entry would fall back to legacy suite 0), session status/type before data
_ORDER = ["validation_level", "tls_version", "cipher_suite",
          "cipher_suite_iana", "cipher_list", "add_cipher", "remove_cipher",
          "ca_name", "server_hostname", "client_cert_name", "client_key_name",
          "key_password", "psk", "psk_identity", "sni", "psk_from_rot",
          "pinning", "session_status", "session_type", "session_data", "ztp",
          "alpn", "database"]
_CIPHER_KEYS = ["cipher_suite", "cipher_suite_iana", "cipher_list"]
_SPREAD = ["psk", "psk_identity", "pinning", "session_data"]  # tuple = args
# keys of _ORDER that read_all() leaves out: write-only, or read as ciphers()
_UNREAD = ["add_cipher", "remove_cipher", "key_password", "psk", "session_data"]


def payload(line, prefix):
    """The fields of `<prefix> <fields>` (the space is optional), parsed by
    params.fields (quoted: str, bare: int)."""
    if not line.startswith(prefix):
        raise ProtocolError("expected " + prefix)
    n = len(prefix)
    if line[n:n + 1] == " ":
        n += 1
    return fields(line[n:])


def _only(text, chars):
    for ch in text:
        if ch not in chars:
            return False
    return True


def _fit(v, lim):
    """v read back fits lim: an int below lim (lim >= 0), else a str of at
    most -lim chars."""
    if lim < 0:
        return isinstance(v, str) and len(v) <= -lim
    return isinstance(v, int) and v < lim


def _is_b64(v, max_len, min_len=0):
    return isinstance(v, str) and min_len <= len(v) <= max_len and _only(v, _B64)


def _b64(v, max_len=_DATA_MAX, min_len=1):
    if not _is_b64(v, max_len, min_len):
        raise ValueError("session data: not base64 (%d..%d chars)" % (min_len, max_len))
    return v


def session_value(tag, vals):
    """The value of session tag `tag` from its fields (a read answer or a
    URC): an int for status (0) and type (1), (session_id, master_secret)
    for tag 2, else the base64 data, whose size field must match.
    ProtocolError if malformed."""
    n = len(vals)
    v = vals[0] if n else None
    if n == 1 and isinstance(v, int):
        if (tag == 0 and v < 3) or (tag == 1 and v in SESSION_TYPES):
            return v
    elif n == 2 and tag == 2:
        if _is_b64(v, 44) and _is_b64(vals[1], 64):
            return (v, vals[1])
    elif n == 2 and tag in DATA_TAGS:
        if _is_b64(v, _DATA_MAX) and vals[1] == len(v):
            return v
    raise ProtocolError("bad session value")


def _hexnum(text, digits):
    if isinstance(text, str) and len(text) == digits and _only(text, _HEX):
        return int(text, 16)
    raise ProtocolError("bad cipher")


def _wire(code):
    return '"%02X","%02X"' % (code >> 8, code & 0xFF)


def _codes(codes):
    """A Table 26 code, or a list/tuple of distinct ones -> wire forms."""
    if not isinstance(codes, (list, tuple)):
        codes = (codes,)
    if not codes:
        raise ValueError("no cipher")
    out = []
    for i, code in enumerate(codes):
        if not ciphers.known(code) or code in codes[:i]:
            raise ValueError("cipher %r: not in Table 26, or twice" % (code,))
        out.append(_wire(code))
    return out


def _arg(value, lim, what):
    """A checked value as a parameter: lim >= 0 an int in range(lim), else
    a str of at most -lim chars, quoted."""
    if lim < 0:
        return quoted(value, -lim, what)
    return "%d" % check_int(value, range(lim), what)


def _key_text(value, hex, max_ascii, what):
    """A PSK or PSK identity as parameters: ASCII text (no type field, so
    modules without one accept it) or hex text (type 1, twice as long)."""
    if hex is True:
        check_str(value, 2 * max_ascii, what)
        if len(value) & 1 or not _only(value, _HEX):
            raise ValueError(what + ": not hex")
        return '"%s",1' % value
    if hex is not False:
        raise ValueError("hex: a bool")
    return quoted(value, max_ascii, what)


class SecurityProfile:
    def __init__(self, at, profile_id):
        self._at = at
        self.id = check_int(profile_id, range(5), "profile_id")
        self._batch = None    # list while apply() collects commands
        self._fresh = False   # apply(reset=True): the profile will be factory

    # -- plumbing ------------------------------------------------------
    def _send(self, cmd, secret=False, data=None):
        if self._batch is not None:
            self._batch.append((cmd, secret, data))
        elif data is None:
            self._at.command(cmd, secret=secret)
        else:
            data = data.encode()
            self._at.command_with_data(cmd, len(data), BytesIO(data).readinto,
                                       secret=secret)

    def _set(self, op, params, secret=False):
        self._send("+USECPRF=%d,%d,%s" % (self.id, op, params), secret)

    def _get(self, op, tag=None, secret=False):
        """The fields after <id>,<op>[,<tag>] of the single answer line."""
        head = [self.id, op] if tag is None else [self.id, op, tag]
        cmd = "+USECPRF=" + ",".join([str(x) for x in head])
        lines = self._at.command(cmd, secret=secret)
        k = len(head)
        if len(lines) == 1:
            f = payload(lines[0], _PREFIX)
            if len(f) > k and f[:k] == head:
                return f[k:]
        raise ProtocolError("bad answer to AT" + cmd)

    def _simple(self, op, value, what, lim):
        """Set op to value (checked against lim, see _arg), or read it back
        when value is None."""
        if value is not None:
            return self._set(op, _arg(value, lim, what))
        v = self._get(op)
        if len(v) == 1 and _fit(v[0], lim):
            return v[0]
        raise ProtocolError("bad " + what)

    def _edit(self, wires, remove):
        # form 100: add (0) or remove (1) each suite of the list
        for wire in wires:
            self._set(2, "100,%s,%d" % (wire, remove))

    # -- op codes ------------------------------------------------------
    def reset(self):
        """Factory values for every setting of this profile."""
        self._send("+USECPRF=%d" % self.id)

    def validation_level(self, level=None):
        """0 none, 1 root certificate, 2 + hostname, 3 + validity date."""
        return self._simple(0, level, "validation_level", 4)

    def tls_version(self, version=None):
        """0 any, 1 TLS 1.0, 2 TLS 1.1, 3 TLS 1.2, 4 TLS 1.3."""
        return self._simple(1, version, "tls_version", 5)

    def cipher_suite(self, legacy):
        """Legacy suite number 0-33 (Table 26); 0 is the default list."""
        self._set(2, _arg(legacy, 34, "cipher_suite"))

    def cipher_suite_iana(self, code):
        """Exactly one suite, by IANA code (e.g. 0xC02B)."""
        if isinstance(code, (list, tuple)):
            raise ValueError("one cipher")
        self._set(2, "99," + _codes(code)[0])

    def add_cipher(self, codes):
        """Add a code, or each of a list, to the suite list (form 100)."""
        self._edit(_codes(codes), 0)

    def remove_cipher(self, codes):
        """Remove codes from the suite list; removing the last one makes the
        module fall back to legacy suite 0."""
        self._edit(_codes(codes), 1)

    def cipher_list(self, codes):
        """Make the suite list hold exactly codes (membership, not order):
        reads the current setting, adds what is missing, then removes the
        rest. Another form in effect counts as an empty list (the module
        starts a new list on the first addition)."""
        want = _codes(codes)
        kind, have = (LEGACY, 0) if self._fresh else self.ciphers()
        have = [_wire(c) for c in have] if kind == LIST else ()
        self._edit([w for w in want if w not in have], 0)
        self._edit([w for w in have if w not in want], 1)

    def ciphers(self):
        """The cipher setting: ("legacy", n), ("iana", code) or
        ("list", [code, ...])."""
        v = self._get(2)
        n = len(v)
        k = v[0]
        if n == 1 and _fit(k, 34):
            return (LEGACY, k)
        if n == 3 and k == 99:
            return (IANA, _hexnum(v[1], 2) << 8 | _hexnum(v[2], 2))
        if n == 2 and k == 100 and isinstance(v[1], str):
            return (LIST, [_hexnum(c, 4) for c in v[1].split(";")] if v[1] else [])
        raise ProtocolError("bad cipher")

    def ca_name(self, name=None):
        """Internal name of the trusted root certificate."""
        return self._simple(3, name, "ca_name", -200)

    def server_hostname(self, name=None):
        """Expected server hostname (validation levels 2 and 3)."""
        return self._simple(4, name, "server_hostname", -256)

    def client_cert_name(self, name=None):
        return self._simple(5, name, "client_cert_name", -200)

    def client_key_name(self, name=None):
        return self._simple(6, name, "client_key_name", -200)

    def key_password(self, password):
        """Password of the client private key (write-only)."""
        self._set(7, quoted(password, 128, "key_password"), True)

    def psk(self, key, hex=False):
        """Pre-shared key (write-only): ASCII up to 64 chars, or hex=True
        up to 128 hex digits."""
        self._set(8, _key_text(key, hex, 64, "psk"), True)

    def psk_identity(self, identity=None, hex=False):
        """PSK identity: ASCII up to 128 chars, or hex=True up to 256 hex
        digits. Reads back (text, hex)."""
        if identity is not None:
            return self._set(9, _key_text(identity, hex, 128, "psk_identity"), True)
        v = self._get(9, None, True)
        if _fit(v[0], -256) and (v[1:] == [1] or len(v) == 1 and len(v[0]) <= 128):
            return (v[0], len(v) > 1)
        raise ProtocolError("bad psk_identity")

    def sni(self, name=None):
        """Server Name Indication sent in the ClientHello."""
        return self._simple(10, name, "sni", -128)

    def psk_from_rot(self, on=None):
        """PSK and identity generated by the root of trust (a bool)."""
        if on is True or on is False:
            on = int(on)
        v = self._simple(11, on, "psk_from_rot", 2)
        return None if v is None else v == 1

    def pinning(self, name=None, level=0):
        """Server certificate pinning: internal name and level 0-2; reads
        back (name, level)."""
        if name is not None:
            return self._set(12, quoted(name, 200, "pinning") + "," + _arg(level, 3, "level"))
        v = self._get(12)
        if len(v) == 2 and _fit(v[0], -200) and _fit(v[1], 3):
            return (v[0], v[1])
        raise ProtocolError("bad pinning")

    def session_status(self, status=None):
        """Session resumption: 0 disabled, 1 enabled, 2 data configured."""
        return self._session(0, status, range(3))

    def session_type(self, kind=None):
        """0 session ID, 1 ticket, 3 PSK ticket, 10/11/13 the same with
        local encryption."""
        return self._session(1, kind, SESSION_TYPES)

    def _session(self, tag, value, allowed):
        if value is None:
            return session_value(tag, self._get(13, tag))
        self._set(13, "%d,%d" % (tag, check_int(value, allowed, "session")))

    def session_data(self, tag, *values):
        """Session data of data tag 2, 3, 5, 12, 13 or 15. Tag 2 takes and
        returns session_id_b64, master_secret_b64; the others one base64
        string, its size sent alongside (tags 5, 15: after a '>' prompt).
        An empty string clears tags 3, 12 and 13."""
        check_int(tag, DATA_TAGS, "session tag")
        if not values:
            return session_value(tag, self._get(13, tag, True))
        if len(values) != (2 if tag == 2 else 1):
            raise ValueError("tag 2: id, secret; others: one value")
        data = values[0]
        if tag == 2:
            data = '"%s","%s"' % (_b64(data, 44), _b64(values[1], 64))
        elif tag in _PROMPT_TAGS:
            return self._send("+USECPRF=%d,13,%d,%d" % (self.id, tag, len(_b64(data))),
                              True, data)
        else:
            data = '"%s",%d' % (_b64(data, _DATA_MAX, 0), len(data))
        self._set(13, "%d,%s" % (tag, data), True)

    def ztp(self, level=None):
        """ZTP credentials: 0 none, 1 CA and client, 2 client only."""
        return self._simple(14, level, "ztp", 3)

    def alpn(self, protocol=None):
        """Protocol name for the ALPN extension."""
        return self._simple(15, protocol, "alpn", -255)

    def database(self, which=None):
        """0 all databases, 1 user only, 2 pre-installed only."""
        return self._simple(16, which, "database", 3)

    # -- whole configurations -----------------------------------------
    def apply(self, config, reset=False):
        """Set every key of config (keys: the setter names; a tuple value is
        the argument list of psk, psk_identity, pinning and session_data).
        Everything is checked before the first write (a cipher_list reads
        the current list first); reset=True starts from factory values.
        A refusal by the module stops at that command: its error propagates
        and the keys before it stay set."""
        forms = 0
        for key in config:
            if key not in _ORDER:
                raise ValueError("unknown key %r" % (key,))
            if config[key] is None:
                raise ValueError(key + ": None")
            if key in _CIPHER_KEYS:
                forms += 1
        if "add_cipher" in config or "remove_cipher" in config:
            forms += 1
        if forms > 1:
            raise ValueError("one cipher form only")
        batch = [("+USECPRF=%d" % self.id, False, None)] if reset else []
        self._batch = batch
        self._fresh = reset
        try:
            for key in _ORDER:
                if key in config:
                    value = config[key]
                    fn = getattr(self, key)
                    if key in _SPREAD and isinstance(value, tuple):
                        fn(*value)
                    else:
                        fn(value)
        finally:
            self._batch = None
            self._fresh = False
        for item in batch:
            self._send(*item)

    def read_all(self):
        """Every readable setting, keyed as apply() takes it (the key
        password and PSK are write-only; session data is SessionKeeper's)."""
        out = {}
        for key in _ORDER:
            if key not in _CIPHER_KEYS and key not in _UNREAD:
                out[key] = getattr(self, key)()
        kind, value = self.ciphers()
        out[_CIPHER_KEYS[(LEGACY, IANA, LIST).index(kind)]] = value
        return out
