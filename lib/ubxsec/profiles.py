"""+USECPRF: one (D)TLS security profile of the module (profile ids 0-4).

Each op code has a method named after what it sets. Called with a value it
sets it; called without one it reads it back (the key password and the PSK,
op codes 7 and 8, are write-only). Every value is checked before a byte is
written: a bad one raises ValueError and nothing reaches the UART. Answers
to reads are parsed strictly: anything but `+USECPRF: <id>,<op>,...` with
the expected fields raises ProtocolError.

The op codes that take one int or one string (0, 1, 3-6, 10, 11, 14-16)
share one getter/setter, SecurityProfile._simple, driven by the settings
table (KEYS, _OPS, _LIMS); each has its own named method calling it.

Ranges follow the spec's syntax for all products (TLS version 0-4, legacy
suites 0-33, session tags 0,1,2,3,5,12,13,15, session types 0,1,3,10,11,13).
Where a product note narrows them (no TLS 1.3, no legacy suites
10/11/12/15/16, only tags 0/1/3 and type 1) the module itself refuses with a
CmeError: the library then works unchanged with firmware that allows more.
IANA codes must be in the spec's Table 26. The cipher methods taking them,
ciphers() (the setting read back), apply(), read_all() and the settings
only PSK, pinning or encrypted-key applications use (key_password(), psk(),
psk_identity(), pinning()) have their code in the package
ubxsec-profiles_more (ubxsec.profiles_more), loaded at their first call
(SecurityProfile.__getattr__), so that a profile set by name and level keeps
neither Table 26 nor that code in RAM.

Commands holding a key password, PSK, PSK identity or session data are sent
with secret=True, so a trace shows none of them.

Every method that talks to the module returns at.run() of a generator over
the engine's exchanges (the engine contract): a value on Module's engine,
an awaitable on ubxsec.aio's. The extensions (profiles_more, session) use
the public surface below: HEX, KEYS, fits(), only(), payload(), and a
profile's at, batch, send(), put(), exchange(), read_op() and reader().
"""

from . import extension
from .errors import AtError, ProtocolError, refused
from .params import check_int, fields, quoted

# the three forms of the cipher suite setting, as ciphers() reports them
LEGACY = "legacy"   # ("legacy", n): legacy suite n (0: the default list)
IANA = "iana"       # ("iana", 0xC02B): exactly one suite
LIST = "list"       # ("list", [0xC02A, 0xC02C]): a list of suites

HEX = "0123456789ABCDEFabcdef"
_HOST = "abcdefghijklmnopqrstuvwxyz0123456789-"  # a hostname's characters, lower case


def payload(line, prefix):
    """The fields of `<prefix> <fields>` (the space is optional), parsed by
    params.fields (quoted: str, bare: int)."""
    if not line.startswith(prefix):
        raise ProtocolError("no " + prefix)
    n = len(prefix)
    return fields(line[n + (line[n:n + 1] == " "):])


def only(s, chars):
    for c in s:
        if c not in chars:
            return False
    return True


def fits(f, *lims):
    """f has one field per lim, each fitting it: lim >= 0 an int below
    lim, else a str of at most -lim chars."""
    if len(f) != len(lims):
        return False
    for v, n in zip(f, lims):
        if not (isinstance(v, str) and len(v) <= -n if n < 0 else isinstance(v, int) and v < n):
            return False
    return True


def _value(f, key):
    """The value of setting `key` (a name in KEYS that reads back) from its
    fields, as its getter returns it: lim 2 (psk_from_rot) a bool."""
    if key == "psk_identity":
        if fits(f, -128) or fits(f, -256, 2):
            return (f[0], len(f) > 1 and f[1] == 1)
    elif key == "pinning":
        if fits(f, -200, 3):
            return tuple(f)
    else:
        n = _LIMS[KEYS.index(key)]
        if fits(f, n):
            return f[0] == 1 if n == 2 else f[0]
    raise ProtocolError("bad " + key)


def _done(gen):
    yield from gen  # a setter returns None, not the (empty) answer


class SecurityProfile:
    def __init__(self, at, profile_id):
        self.at = at
        self.id = check_int(profile_id, range(5), "profile_id")
        self.batch = None    # list while apply() collects commands

    def __getattr__(self, name):
        # the methods whose code is an extension's (see ubxsec.extension;
        # their documentation is in profiles.pyi): the settings of KEYS
        # without a method here (cipher suites by IANA code, the key
        # password, PSK and pinning: ubxsec-profiles_more; op code 13:
        # ubxsec-session), the cipher setting read back, whole configurations
        ext = None
        if name in KEYS:
            ext = "session" if _OPS[KEYS.index(name)] == 13 else "profiles_more"
        elif name in ["ciphers", "apply", "read_all"]:
            ext = "profiles_more"
        return extension(ext, self, name)

    # -- plumbing: the public surface of the extensions -------------------
    def send(self, cmd, secret=False, data=None):
        """Send cmd (with data (size, source) after a '>' prompt if given),
        or add it to the batch apply() is collecting: returns None (or an
        awaitable on ubxsec.aio's engine)."""
        if self.batch is not None:
            return self.batch.append((cmd, secret, data))
        return self.at.run(_done(self.exchange(cmd, secret, data)))

    def exchange(self, cmd, secret=False, data=None):
        """Generator: cmd now (never batched); returns its answer lines. A
        refusal names what was refused (never a value: it may be secret)."""
        # not named(): what was refused is worded only on a refusal (every
        # setting would otherwise build and drop that text)
        at = self.at
        try:
            return (yield from at.exchange(cmd, secret=secret) if data is None
                    else at.exchange_data(cmd, data[0], data[1], secret=secret))
        except AtError as exc:
            raise refused(exc, self._what(cmd))

    def _what(self, cmd):
        """What cmd does, for a refusal: `profile 2 set tls_version (op 1)`."""
        parts = cmd.split(",")
        if len(parts) < 2:
            return "profile %d reset" % self.id
        op = int(parts[1])
        return "profile %d %s %s (op %d)" % (self.id, "set" if len(parts) > 2 + (op == 13) else "read",
                                             KEYS[_OPS.find(bytes((op,)))], op)

    def put(self, op, text, secret=False):
        """Set op code op to text (its checked parameters), as send()."""
        return self.send("+USECPRF=%d,%d,%s" % (self.id, op, text), secret)

    def read_op(self, op, parse, arg=None, tag=None, secret=False):
        """Generator: read op code op (and tag) back; returns parse(fields,
        arg) of the fields after <id>,<op>[,<tag>] of the single answer line."""
        head = [self.id, op]
        cmd = "+USECPRF=%d,%d" % (self.id, op)
        if tag is not None:
            head.append(tag)
            cmd += ",%d" % tag
        lines = yield from self.exchange(cmd, secret)
        k = len(head)
        if len(lines) == 1:
            f = payload(lines[0], "+USECPRF:")
            if len(f) > k and f[:k] == head:
                return parse(f[k:], arg)
        raise ProtocolError("bad answer to AT" + cmd)

    def reader(self, key):
        """Generator reading the setting `key` (a key of KEYS that reads
        back) as its getter returns it; read_all() composes them."""
        op = _OPS[KEYS.index(key)]
        if op == 13:  # session_status, session_type
            return extension("session").reader(self, 1 if key == "session_type" else 0)
        return self.read_op(op, _value, key, None, op == 9)  # 9: the PSK identity, secret

    def _simple(self, what, value):
        """Set the op code of setting `what` (a name in KEYS) to value, or
        read it back when value is None. lim 2 (psk_from_rot) takes a bool."""
        if value is None:
            return self.at.run(self.reader(what))
        i = KEYS.index(what)
        op = _OPS[i]
        n = _LIMS[i]
        if n == 2 and (value is True or value is False):
            value = int(value)
        # the checked value as a parameter: n >= 0 an int in range(n), else
        # a str of at most -n chars, quoted
        s = quoted(value, -n, what) if n < 0 else "%d" % check_int(value, range(n), what)
        if op == 4 or op == 10:
            # server_hostname, sni (checked as an AT string now): a hostname,
            # dot-separated labels of 1-63 letters, digits and '-', neither
            # first nor last in a label, 253 characters at most, a final dot
            # allowed; "" (no name) too. The same rule and message as `make
            # provision`'s (tools/provision.py)
            for label in (value[:-1] if value[-1:] == "." else value).split("."):
                if value and not (0 < len(label) < 64 and label[0] != "-" != label[-1]
                                  and len(value) < 254 and only(label.lower(), _HOST)):
                    raise ValueError("%s: %r is not a hostname (letters, digits, '-' and dots; "
                                     "no spaces)" % (what, value))
        return self.put(op, s)

    # -- op codes taking one int or one str: _simple() with their limits --
    def validation_level(self, value=None):
        """0 none, 1 root of trust, 2 + hostname, 3 + date."""
        return self._simple("validation_level", value)

    def tls_version(self, value=None):
        """0 any, 1-4 TLS 1.0-1.3 (the module may refuse 1.3)."""
        return self._simple("tls_version", value)

    def ca_name(self, value=None):
        """Internal name of the trusted root (up to 200 chars)."""
        return self._simple("ca_name", value)

    def server_hostname(self, value=None):
        """Hostname checked at validation levels 2 and 3 (up to 256 chars)."""
        return self._simple("server_hostname", value)

    def client_cert_name(self, value=None):
        """Internal name of the client certificate (up to 200 chars)."""
        return self._simple("client_cert_name", value)

    def client_key_name(self, value=None):
        """Internal name of the client private key (up to 200 chars)."""
        return self._simple("client_key_name", value)

    def sni(self, value=None):
        """Server Name Indication (up to 128 chars)."""
        return self._simple("sni", value)

    def psk_from_rot(self, value=None):
        """PSK and identity from the root of trust: a bool."""
        return self._simple("psk_from_rot", value)

    def ztp(self, value=None):
        """Zero touch provisioning: 0 none, 1 CA and client, 2 client only."""
        return self._simple("ztp", value)

    def alpn(self, value=None):
        """ALPN protocol name (up to 255 chars)."""
        return self._simple("alpn", value)

    def database(self, value=None):
        """Roots to trust: 0 all, 1 user only, 2 pre-installed only."""
        return self._simple("database", value)

    # -- the other op codes ----------------------------------------------
    def reset(self):
        """Factory values for every setting of this profile."""
        return self.send("+USECPRF=%d" % self.id)

    def cipher_suite(self, legacy):
        """Legacy suite number 0-33 (Table 26); 0 is the default list."""
        return self.put(2, "%d" % check_int(legacy, range(34), "cipher_suite"))


# The settings table, one column per name, one row per setting:
# KEYS[i] is a key apply() takes, _OPS[i] its op code, _LIMS[i] its limit
# (see _fits) for the plain op codes (their methods call _simple), None for
# the others. Rows in the order apply() sets them: TLS version before the
# session data that may need it, cipher list additions before removals
# (removing the last entry would fall back to legacy suite 0), session
# status/type before data. (KEYS is a list, not a tuple: its names share the
# qstrs of the method names, a tuple constant would store every name again.)
KEYS = ["validation_level", "tls_version", "cipher_suite", "cipher_suite_iana", "cipher_list",
        "add_cipher", "remove_cipher", "ca_name", "server_hostname", "client_cert_name",
        "client_key_name", "key_password", "psk", "psk_identity", "sni", "psk_from_rot",
        "pinning", "session_status", "session_type", "session_data", "ztp", "alpn", "database"]
_OPS = b"\x00\x01\x02\x02\x02\x02\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0d\x0d\x0e\x0f\x10"
_LIMS = (4,      # validation_level: 0 none, 1 root, 2 + hostname, 3 + date
         5,      # tls_version: 0 any, 1-4 TLS 1.0-1.3
         None, None, None, None, None,   # the cipher forms
         -200,   # ca_name: internal name of the trusted root
         -256,   # server_hostname: checked at validation levels 2, 3
         -200, -200,                     # client_cert_name, client_key_name
         None, None, None,               # key_password, psk, psk_identity
         -128,   # sni: Server Name Indication
         2,      # psk_from_rot: a bool
         None, None, None, None,         # pinning, session_status/type/data
         3,      # ztp: 0 none, 1 CA and client, 2 client only
         -255,   # alpn: ALPN protocol name
         3)      # database: 0 all, 1 user only, 2 pre-installed only
