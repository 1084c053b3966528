"""The less used part of SecurityProfile (package ubxsec-profiles_more),
loaded on the first call of its methods there (SecurityProfile.__getattr__,
ubxsec.extension()): op code 2 by IANA code, one
suite (form 99) or a list of suites (form 100) checked against the spec's
Table 26, the setting read back; whole configurations, apply() and
read_all(); the key password, PSK, PSK identity and pinning (op codes 7, 8,
9, 12). A profile set by name and level (and the legacy cipher_suite())
needs none of it.

Only the public surface of ubxsec.profiles is used (see its docstring); as
there, what talks to the module returns p.at.run() of a generator.
"""

from .errors import ProtocolError
from .params import check_int, quoted
from .profiles import HEX, IANA, KEYS, LEGACY, LIST, fits, only

# The IANA cipher suite codes of the spec's Table 26 (op code 2), kept as the
# second bytes of each code, grouped by first byte: 165 codes in about 170
# bytes of flash and no RAM beyond the tuple.
_TABLE_26 = (
    (0x00, b"\x00\x0a\x13\x15\x16\x1a\x1b\x2f\x32\x33\x34\x35\x39\x3a\x3c\x3d"
        b"\x40\x41\x45\x67\x6b\x6c\x6d\x84\x88\x8a\x8b\x8c\x8d\x8e\x8f\x90"
        b"\x91\x92\x93\x94\x95\x9c\x9d\x9e\x9f\xa8\xa9\xaa\xab\xac\xad\xae"
        b"\xaf\xb2\xb3\xb6\xb7\xba\xbe\xc0\xc4"),
    (0x13, b"\x01\x02\x03\x04\x05"),
    (0xC0, b"\x02\x03\x04\x05\x07\x08\x09\x0a\x0c\x0d\x0e\x0f\x10\x11\x12\x13"
        b"\x14\x17\x18\x19\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e"
        b"\x2f\x30\x31\x32\x33\x34\x35\x36\x37\x38\x72\x73\x74\x75\x76\x77"
        b"\x78\x79\x7a\x7b\x7c\x7d\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f"
        b"\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f"
        b"\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf"),
    (0xCC, b"\xa8\xa9\xaa\xab\xac\xad\xae"),
)


def _known(code):
    """True if code (an int such as 0xC02B) is listed in Table 26."""
    if isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= 0xFFFF:
        hi = code >> 8
        for first, seconds in _TABLE_26:
            if first == hi:
                return (code & 0xFF) in seconds
    return False


def _hexnum(s, n):
    if isinstance(s, str) and len(s) == n and only(s, HEX):
        return int(s, 16)
    raise ProtocolError("bad cipher")


def _wire(code):
    return '"%02X","%02X"' % (code >> 8, code & 0xFF)


def _codes(codes):
    """A Table 26 code, or a list/tuple of distinct ones -> wire forms."""
    if not isinstance(codes, (list, tuple)):
        codes = (codes,)
    out = []
    for c in codes:
        if not isinstance(c, int) or isinstance(c, bool):
            raise ValueError("cipher %r: want an IANA code such as 0xC02B" % (c,))
        w = _wire(c) if _known(c) else None
        if w is None:
            raise ValueError("cipher 0x%04X: not in the spec's Table 26" % c)
        if w in out:
            raise ValueError("cipher 0x%04X: listed twice" % c)
        out.append(w)
    if not out:
        raise ValueError("no cipher")
    return out


def cipher_suite_iana(p, code):
    """SecurityProfile.cipher_suite_iana(): exactly one suite (form 99)."""
    if isinstance(code, (list, tuple)):
        raise ValueError("one cipher")
    return p.put(2, "99," + _codes(code)[0])


def _edits(p, wires, n, skip=()):
    """The commands adding (n=0) or removing (n=1) each suite (wire form)
    of wires that skip does not hold, as batch items."""
    return [("+USECPRF=%d,2,100,%s,%d" % (p.id, w, n), False, None) for w in wires if w not in skip]


def _send(p, items):
    """Add items (cmd, secret, data) to apply()'s batch, or send them now."""
    if p.batch is not None:
        return p.batch.extend(items)
    return p.at.run(_sent(p, items, False))


def _sent(p, items, fresh):
    """Generator sending items in order; a cipher list (an item whose first
    field is its wire forms) first reads the current list, before anything
    is written (fresh: the profile is factory, legacy suite 0)."""
    out = []
    for item in items:
        if isinstance(item[0], list):
            kind, have = (LEGACY, 0) if fresh else (yield from p.read_op(2, _cipher))
            have = list(map(_wire, have)) if kind == LIST else ()
            out += _edits(p, item[0], 0, have) + _edits(p, have, 1, item[0])
        else:
            out.append(item)
    for item in out:
        yield from p.exchange(*item)


def add_cipher(p, codes):
    """SecurityProfile.add_cipher(): form 100, add a code or each of a list."""
    return _send(p, _edits(p, _codes(codes), 0))


def remove_cipher(p, codes):
    """SecurityProfile.remove_cipher(): form 100, remove a code or each of
    a list (removing the last one makes the module fall back to legacy
    suite 0)."""
    return _send(p, _edits(p, _codes(codes), 1))


def cipher_list(p, codes):
    """SecurityProfile.cipher_list(): p's suite list holds exactly codes
    (membership, not order): read it, add what is missing, then remove the
    rest. Another form in effect counts as an empty list."""
    return _send(p, [(_codes(codes), None, None)])


def _cipher(f, _):
    n = len(f)
    v = f[0]
    if fits(f, 34):
        return (LEGACY, v)
    if n == 3 and v == 99:   # two bytes, "C0","2B" (the spec)
        return (IANA, _hexnum(f[1], 2) << 8 | _hexnum(f[2], 2))
    if n == 2 and v == 99:   # one 4-digit string, "C02B" (ubxlib's documentation)
        return (IANA, _hexnum(f[1], 4))
    if n == 2 and v == 100 and isinstance(f[1], str):
        return (LIST, [_hexnum(c, 4) for c in f[1].split(";")] if f[1] else [])
    raise ProtocolError("bad cipher")


def ciphers(p):
    """SecurityProfile.ciphers(): ("legacy", n), ("iana", code) or
    ("list", [code, ...])."""
    return p.at.run(p.read_op(2, _cipher))


def key_password(p, password):
    """SecurityProfile.key_password(): the client private key's password
    (op code 7, write-only, sent as a secret)."""
    return p.put(7, quoted(password, 128, "key_password"), True)


def psk(p, key, hex=False):
    """SecurityProfile.psk(): the pre-shared key (op code 8, write-only):
    ASCII up to 64 chars, or hex=True up to 128 hex digits."""
    return p.put(8, _key_text(key, hex, 64, "psk"), True)


def psk_identity(p, identity=None, hex=False):
    """SecurityProfile.psk_identity(): ASCII up to 128 chars, or hex=True up
    to 256 hex digits (op code 9); reads back (text, hex)."""
    if identity is not None:
        return p.put(9, _key_text(identity, hex, 128, "psk_identity"), True)
    return p.at.run(p.reader("psk_identity"))


def pinning(p, name=None, level=0):
    """SecurityProfile.pinning(): server certificate pinning, internal name
    and level 0-2 (op code 12); reads back (name, level)."""
    if name is not None:
        return p.put(12, quoted(name, 200, "pinning") + ",%d" % check_int(level, range(3), "level"))
    return p.at.run(p.reader("pinning"))


def _key_text(value, hex, n, what):
    """A PSK or PSK identity as parameters: ASCII text (no type field, so
    modules without one accept it) or hex text (type 1, twice as long)."""
    if hex is not True and hex is not False:
        raise ValueError("hex: a bool")
    s = quoted(value, n << hex, what)
    if hex:
        if len(value) & 1 or not only(value, HEX):
            raise ValueError(what + ": not hex")
        s += ",1"
    return s


def configure(p, config, reset=False):
    """Every key of config checked now (ValueError); returns the generator
    that sets them in KEYS order (SecurityProfile.apply() runs it)."""
    for key in config:
        if not isinstance(key, str) or key not in KEYS:
            raise ValueError("unknown key %r" % (key,))
        if config[key] is None:
            raise ValueError(key + ": None")
    forms = ("add_cipher" in config or "remove_cipher" in config)
    for key in _FORMS:
        forms += key in config
    if forms > 1:
        raise ValueError("one cipher form only")
    batch = [("+USECPRF=%d" % p.id, False, None)] if reset else []
    p.batch = batch
    try:
        for key in KEYS:
            if key in config:
                value = config[key]
                args = value if key in _SPREAD and isinstance(value, tuple) else (value,)
                # too few arguments would call the getter: never in apply()
                if len(args) < (2 if key == "session_data" else 1):
                    raise ValueError(key + ": value missing")
                getattr(p, key)(*args)
    finally:
        p.batch = None
    return _sent(p, batch, reset)


def apply(p, config, reset=False):
    """SecurityProfile.apply()."""
    return p.at.run(configure(p, config, reset))


def read_all(p):
    """SecurityProfile.read_all()."""
    return p.at.run(_read_all(p))


def _read_all(p):
    out = {}
    for key in KEYS:
        if key not in _FORMS and key not in _UNREAD:
            out[key] = yield from p.reader(key)
    kind, value = yield from p.read_op(2, _cipher)
    out[_FORMS[(LEGACY, IANA, LIST).index(kind)]] = value
    return out


# the key of each form ciphers() reads, by position: LEGACY, IANA, LIST
_FORMS = ["cipher_suite", "cipher_suite_iana", "cipher_list"]
# keys read_all() leaves out besides those: the write-only ones
_UNREAD = ["add_cipher", "remove_cipher", "key_password", "psk", "session_data"]
_SPREAD = ["psk", "psk_identity", "pinning", "session_data"]  # tuple = args
