"""+USECMNG: import, list, remove and check certificates and private keys.

    certs = Certs(at)
    certs.import_file("/ca.pem", CA, "ThawteCA")   -> "8ccadc0b..." (verified)
    certs.import_bytes(der, PK, "MyKey", password="...")
    certs.upload("/ca.pem", "ca.pem"); certs.import_from_module_file("ca.pem", CA, "ThawteCA")
        (these two and der_md5(): package ubxsec-modfile, lib/ubxsec-modfile.json)
    certs.list() -> [Entry(kind="CA", name=..., common_name=..., expiry=...)]
    certs.md5(CA, "ThawteCA"); certs.remove(CA, "ThawteCA")

Kinds are CA, CC, PK, SC (0-3, the spec's allowed <type>s) or their
strings "CA", "CC", "PK", "SC".

Every import is verified end to end: while the data streams, the MD5 of the
DER the module will store is computed here (DER input: the bytes sent; PEM
input: the DER decoded incrementally by pem.PemDecoder) and compared with
the module's answer; a difference raises VerifyError.

Checks made before a byte is written (ValueError): the kind, the name (1-200
printable ASCII characters, no quote: the spec says 30 for imports and 60
for pre-installed roots, but series differ (a SARA-R410M-02B takes 43, other
series document 200), so the length is left to the module below the largest
any series takes), the size (1-8192 bytes), the password (1-128 characters, private
keys only, DER only: the module takes encrypted keys in DER form only), the
filename (1-63 characters), the format (DER: one SEQUENCE exactly as long as
the data; PEM: the BEGIN line and a label that fits the kind). Bytes given
in memory are decoded in full first. A file's PEM is decoded while it
streams (decoding it twice would cost the time budget): if it turns out bad
midway the rest is still sent, so that the module ends the transfer at
once, and the import raises ValueError whatever the module answered (an
entry the module stored anyway is removed).

PEM is sent as it is, line endings included (the module accepts LF and
CRLF, and converting would change the size announced before the data).
Only whitespace before the BEGIN line and after the END line is left out,
as the module refuses it: the announced size is the file size minus that
whitespace. upload() sends files byte for byte.

Memory: a file streams through the AT engine's chunk buffer (never the
whole file in RAM); the per-import cost does not grow with the size, and
the chunk loop allocates nothing, for DER or PEM input.

Every method that talks to the module is a generator over the engine's
exchange*() (the engine contract) returned through at.run(): a value on
Module's engine, an awaitable on ubxsec.aio's. The module-level functions
without a leading underscore (kind_code, inspect, open_source, Source,
memory_source, ...) are the public surface extensions build on
(ubxsec.modfile).
"""

try:  # the builtin module: a Python collections package that extends it
    # (micropython-lib's, frozen into some ports) costs RAM for what is unused
    from ucollections import namedtuple
except ImportError:
    from collections import namedtuple
from errno import ENOENT
from micropython import const

from . import extension
from .errors import AtError, AtTimeout, CmeError, ProtocolError, UbxError, VerifyError, named, refused
from .params import fields, quoted
from .pem import PemDecoder, claimed, new_md5

CA = const(0)
CC = const(1)
PK = const(2)
SC = const(3)
KINDS = ("CA", "CC", "PK", "SC")

Entry = namedtuple("Entry", ("kind", "name", "common_name", "expiry"))

_NAME_MAX = const(200)  # no series takes more; each module refuses what it does not take
_SIZE_MAX = const(8192)
_PASSWORD_MAX = const(128)
_PEEK = const(96)  # enough for a BEGIN line, or a DER header

_CERT_LABELS = ("CERTIFICATE",)
_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY")
_PREFIX = "+USECMNG:"  # the space after it is optional (LENA-R8 drops it)
# listing lines carry no prefix: `"CA","name",...` (or an unquoted CA)
_LIST_INFO = ('"', "CA", "CC", "PK", "SC", "VC", "PU")
_FS_UNUSED = const(1912)  # SARA-R422: file system never used; AT+ULSTFILE wakes it
_HEXDIGITS = "0123456789abcdef"


def kind_code(kind):
    """0-3 for an int kind or its string; ValueError for anything else."""
    if kind in KINDS:
        return KINDS.index(kind)
    if type(kind) is int and 0 <= kind <= 3:  # not a bool
        return kind
    raise ValueError("kind %r: not 0-3 / CA CC PK SC" % (kind,))


def der_total(buf, n):
    """Bytes a DER SEQUENCE whose first n (>= 4 or all) bytes are buf claims."""
    total = claimed(buf, n)
    # pem's reading takes 3 length bytes; an import's size needs at most 2
    if total < 0 or buf[1] == 0x83:
        raise ValueError("DER: not a SEQUENCE" if n < 2 or buf[0] != 0x30 else "DER: bad length field")
    return total


class Source:
    """The engine's '>' data source (source.fill): copies from a reader (an open file, or
    BytesIO sharing bytes), or from a bytearray/memoryview `buf` (one small
    slice object per chunk), and hashes what the module will store. A PEM
    error is kept, not raised: raising inside the transfer would leave the
    module waiting for its guard timer."""

    def __init__(self, reader, md5=None, decoder=None, buf=None, pos=0):
        self.reader = reader
        self.md5 = md5
        self.decoder = decoder
        if decoder is not None:
            self._decode = decoder.feed  # bound once: a bound method allocates
            self._n = 0
        self.buf = buf
        self.pos = pos
        self.error = None
        self.known = None  # digest computed before sending
        self.used = False  # the module asked for data (a '>' came)
        self.sent = 0  # bytes handed to the engine

    # fill() runs per chunk: it and its helpers keep their frames within the
    # 11 words MicroPython keeps on the C stack (a bigger one is allocated)
    def fill(self, mv):
        self.used = True
        n = self.reader.readinto(mv) if self.buf is None else self._copy(mv)
        if n:
            self.sent += n
            if self.decoder is not None:
                if self.error is None:
                    self._n = n
                    self._feed(mv)
            elif self.md5 is not None:
                self.md5.update(mv if n == len(mv) else mv[:n])
        return n  # 0: the engine raises TransferError

    def _copy(self, mv):
        pos = self.pos
        n = min(len(mv), len(self.buf) - pos)
        mv[:n] = self.buf[pos:pos + n]
        self.pos = pos + n
        return n

    def _feed(self, mv):
        try:
            self._decode(mv, self._n)
        except ValueError:
            self.error = self.decoder.error

    def digest(self):
        """MD5 of the DER sent; raises the PEM error, if any."""
        if self.error is not None:
            raise self.error
        if self.known is not None:
            return self.known
        if self.decoder is None:
            return self.md5.digest()
        self.decoder.finish()
        return self.decoder.digest()


class Certs:
    def __init__(self, at, baud=9600):
        self.at = at
        self.baud = baud  # the UART's: an import's answer may take its wire time
        self._fs_woken = False  # the AT+ULSTFILE workaround ran

    def __getattr__(self, name):
        # upload(src, module_filename), import_from_module_file(filename,
        # kind, name, password=None, expect_md5=None, replace=False),
        # der_md5(src, kind=CA): package ubxsec-modfile (see ubxsec.extension)
        return extension("modfile" if name in ["upload", "import_from_module_file", "der_md5"]
                         else None, self, name)

    # -- imports -------------------------------------------------------------

    def import_file(self, path, kind, name, password=None, replace=False):
        """Import a DER or PEM file from the board's file system; returns the
        verified MD5 (32 hex digits). An entry of another kind under that
        name (which the module would replace) is refused unless replace."""
        code, cmd = _import_cmd(kind, name, password)
        f, size, source = open_source(path, code, password)
        return self.at.run(self._import(cmd, size, source, code, name, password, replace, path, f))

    def import_bytes(self, data, kind, name, password=None, replace=False):
        """Import DER or PEM held in memory; returns the verified MD5."""
        code, cmd = _import_cmd(kind, name, password)
        lead, size, digest = inspect(data, code, password)
        source = memory_source(data, lead)
        source.known = digest
        return self.at.run(self._import(cmd, size, source, code, name, password, replace))

    # -- management ----------------------------------------------------------

    def remove(self, kind, name):
        return self.at.run(self._item(2, kind, name))

    def md5(self, kind, name):
        """The module's MD5 (32 lowercase hex digits) of a stored item."""
        return self.at.run(self._item(4, kind, name))

    def list(self, kind=None):
        """[Entry], user entries and pre-installed roots, in the module's order.
        common_name and expiry are None where the module gives none; expiry is
        "YYYY/MM/DD" (user) or "YYYY/MM/DD hh:mm:ss" (pre-installed)."""
        return self.at.run(self._list(kind))

    def transfer_ms(self, size):
        """Timeout for a transfer of size bytes: the usual one plus the wire
        time of the data at the UART's baud rate (10 bits a byte), +25%."""
        return self.at.timeout_ms + size * 12500 // self.baud

    # -- generators over the engine's exchanges -------------------------------

    def _list(self, kind):
        cmd = "+USECMNG=3"
        want = None
        if kind is not None:
            code = kind_code(kind)
            want = KINDS[code]
            cmd = "+USECMNG=3,%d" % code
        entries = []
        # not named(): an import lists three kinds first, and each wrapper
        # generator would be one more object in the import's heap
        try:
            lines = yield from self.at.exchange(cmd, info=_LIST_INFO)
        except AtError as exc:
            raise refused(exc, "list")
        for line in lines:
            entry = parse_entry(line)
            if want is not None and entry.kind != want:
                raise ProtocolError("%s entry in a %s listing" % (entry.kind, want))
            entries.append(entry)
        return entries

    def check_replace(self, code, name, what):
        """Generator: ValueError (naming what) if the module holds name
        under another kind than code. The module keeps one entry per name,
        whatever its kind: an import would replace the other kind's
        silently. A listing per other kind (three short answers: one
        listing of all would hold the pre-installed roots, and its lines
        would cost the import about 2 KB of heap on a 32-bit port)."""
        for k in range(4):
            if k != code:
                for e in (yield from self._list(k)):
                    if e.name == name:
                        raise ValueError("%s: %s %r on the module would be lost (replace=True)"
                                         % (what, e.kind, name))

    def _item(self, op, kind, name):
        """Op code op (2 remove, 4 MD5) on a stored item: None, or the MD5."""
        code = kind_code(kind)
        lines = yield from named(
            self.at.exchange("+USECMNG=%d,%d,%s" % (op, code, quoted(name, _NAME_MAX, "name", 1))),
            "%s %s %r" % ("MD5 of" if op == 4 else "remove", KINDS[code], name))
        if op == 4:
            return md5_answer(lines, 4, code, name)

    def _transfer(self, cmd, size, source, code, password):
        at = self.at
        cmd = cmd[0] + str(size) + cmd[1]
        first = None  # the module's 1912, while its workaround runs
        try:
            while True:
                try:
                    return (yield from at.exchange_data(cmd, size, source.fill, self.transfer_ms(size),
                                                        secret=code == PK,
                                                        redact=(password,) if password else None))
                except CmeError as exc:
                    # SARA-R422 refuses the first import on a file system never
                    # used (+CME ERROR: 1912, before the prompt); listing the
                    # files once wakes it. Nothing was sent, so the same source
                    # can be retried.
                    if first or exc.code != _FS_UNUSED or source.used or self._fs_woken:
                        raise
                    first = exc
                self._fs_woken = True
                if at.trace:
                    at.trace.event("CME 1912: AT+ULSTFILE, then the import again")
                yield from at.exchange("+ULSTFILE")
        except AtError as exc:
            if not first:
                raise
            # the refusal that matters is the first one: keep it (code 1912)
            raise CmeError(first.code, first.text, None,
                           "the workaround (AT+ULSTFILE, then the import again) got: %s" % exc)

    def _import(self, cmd, size, source, code, name, password, replace, path=None, f=None):
        what = "import %s %r" % (KINDS[code], name) + (" from " + path if path else "")
        try:
            if not replace:
                yield from self.check_replace(code, name, what)
            try:
                lines = yield from self._transfer(cmd, size, source, code, password)
            except AtError as exc:  # ERROR / +CME ERROR: the module refused the data
                dec = source.decoder
                # a bad PEM: found while streaming, or (all of it sent) at its end;
                # a refusal before or partway through the data is the module's own
                if dec is not None and (source.error is not None or dec.offset >= size):
                    try:
                        source.digest()
                    except ValueError as err:
                        raise ValueError("%s (module: %s)" % (err, exc))
                # refused for its own reasons (name, memory, a reboot, ...)
                raise refused(exc, what, "likely a wrong password or a key format the module "
                              "refuses" if code == PK else None)
            except BaseException as exc:
                # an interrupt is no Exception (Ctrl-C, a cancelled task), nor
                # the generator being closed (it can wait for nothing more)
                if isinstance(exc, (Exception, GeneratorExit)) and not isinstance(exc, AtTimeout):
                    raise
                # a timeout, Ctrl-C or a cancelled task: the data may all be
                # in, so say whether the module stored it (the engine is back
                # in sync by now)
                msg = str(exc)
                got = yield from self._outcome(source, size, code, name)
                raise type(exc)(what + ": " + (msg + "; " if msg else "") + got)
            try:
                digest = source.digest()
            except ValueError as exc:  # a bad PEM found while it streamed
                try:  # stored anyway: do not leave it behind
                    yield from self._item(2, code, name)
                    what = "removed"
                except UbxError as err:
                    what = "not removed: %r" % err
                raise ValueError("%s (module stored it; %s)" % (exc, what))
            got = md5_answer(lines, 0, code, name)
            want = to_hex(digest)
            if got != want:
                raise VerifyError("module has MD5 %s for %r, expected %s" % (got, name, want))
            return got
        finally:
            if f is not None:
                f.close()

    def _outcome(self, source, size, code, name):
        """Whether the module holds the item after an interrupted import,
        from its MD5."""
        want = None
        if source.known is not None or source.sent >= size:
            try:
                want = to_hex(source.digest())
            except ValueError:
                pass
        try:
            have = yield from self._item(4, code, name)
            if have == want:
                return "the module holds it (MD5 %s matches)" % have
            return "the module holds MD5 %s under that name%s" % (
                have, ", not this one" if want else " (the data did not all go out)")
        except BaseException as exc:
            if isinstance(exc, (Exception, GeneratorExit)) and not isinstance(exc, UbxError):
                raise
            if isinstance(exc, CmeError) and exc.code == 22:   # not found
                return "the module does not hold it"
            return "stored? unknown (%s): try certs.md5() later" % exc


# -- checks before a byte is written -------------------------------------------


def _import_cmd(kind, name, password):
    """(code, (head, tail)): the size goes in between once it is known."""
    code = kind_code(kind)
    return code, ("+USECMNG=0,%d,%s," % (code, quoted(name, _NAME_MAX, "name", 1)),
                  password_param(code, password))


def _check_label(dec, code, password):
    if password is not None:
        raise ValueError("password with a PEM key: the module takes one with an encrypted DER key only")
    label = dec.label
    if label not in (_KEY_LABELS if code == PK else _CERT_LABELS):
        raise ValueError("PEM label %r does not fit %s" % (label, KINDS[code]))


def inspect(data, code, password):
    """(lead, size, md5 digest) of DER/PEM bytes, fully checked as an import
    of code (0-3) checks them."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError("data: bytes, bytearray or memoryview")
    total = len(data)
    if not total:
        raise ValueError("data: empty")
    if data[0] == 0x30:
        if der_total(data, total) != total:
            raise ValueError("DER: SEQUENCE length is not %d" % total)
        h = new_md5()
        h.update(data)
        return 0, check_size(total), h.digest()
    lead, end = _trim(data, 0, total)
    dec = PemDecoder()
    dec.feed(data, end)  # what is sent: data[lead:end]
    dec.finish()
    _check_label(dec, code, password)
    return lead, check_size(end - lead), dec.digest()


def open_source(path, code, password):
    """(open file, size, Source) for the file at path, checked as an import
    of code checks it; a bad file is a ValueError naming path. Reads its
    head (and a PEM's BEGIN line and tail) to check it first; the file is
    left where sending starts."""
    f, total = open_file(path)
    try:
        peek = bytearray(_PEEK)  # per import, as the decoder: a Certs keeps no buffer
        n = f.readinto(peek)
        if n and peek[0] == 0x30:
            if der_total(peek, n) != total:
                raise ValueError("DER: SEQUENCE length is not %d" % total)
            f.seek(0)
            return f, check_size(total), Source(f, new_md5())
        # PEM: whitespace around it is not sent (the module refuses it)
        lead = _trim(peek, 0, n)[0]
        f.seek(lead)
        n = f.readinto(peek)
        if not n:
            raise ValueError("empty file" if not total else "whitespace only")
        if peek[0] != 0x2D:
            raise ValueError("neither DER nor PEM (-----BEGIN)")
        # a decoder per import: none is kept between imports (its buffers,
        # MD5 object and decoding generator stay in RAM no longer than needed)
        dec = PemDecoder()
        dec.feed(peek, n)  # checks the BEGIN line now
        if not dec.label:
            raise ValueError("PEM: no BEGIN line at the start")
        _check_label(dec, code, password)
        # one PEM object per file: a chain is refused before the command goes
        # out, not once its bytes did (the decoder only sees it while
        # streaming). Read through peek, each read overlapping the last by 9.
        pos = lead + 10
        while True:
            f.seek(pos)
            n = f.readinto(peek)
            i = peek.find(b"-----BEGIN", 0, n)
            if i >= 0:
                raise ValueError("PEM: more than one PEM object (byte %d)" % (pos + i - lead))
            if n < _PEEK:
                break
            pos += n - 9
        start = max(lead, total - _PEEK)
        f.seek(start)
        tail = _trim(peek, 0, f.readinto(peek))
        if tail[0] == tail[1]:
            raise ValueError("PEM: over %d bytes of whitespace at the end" % _PEEK)
        dec.reset()
        f.seek(lead)
        return f, check_size(start + tail[1] - lead), Source(f, None, dec)
    except BaseException as exc:
        f.close()
        if isinstance(exc, ValueError):
            raise ValueError("%s: %s" % (path, exc))
        raise


# -- helpers -----------------------------------------------------------------


def open_file(path):
    """The file at path, open for reading, and its size."""
    if not isinstance(path, str) or not path:
        raise ValueError("path: a non-empty str")
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise OSError(exc.errno, path + (": no such file" if exc.errno == ENOENT else ": cannot open"))
    n = f.seek(0, 2)
    f.seek(0)
    return f, n


def check_size(size):
    if not 1 <= size <= _SIZE_MAX:
        raise ValueError("size %d outside 1..%d" % (size, _SIZE_MAX))
    return size


def memory_source(data, pos):
    """A Source over data in memory from pos: bytes are shared through
    BytesIO (its readinto copies without allocating)."""
    if isinstance(data, bytes):
        # imported here: on ports where io is a Python module (the
        # WebAssembly one) a file import never loads it
        from io import BytesIO
        r = BytesIO(data)
        r.seek(pos)
        return Source(r)
    return Source(None, buf=memoryview(data), pos=pos)


def _trim(data, lead, end):
    """data[lead:end] without surrounding whitespace (space, tab, CR, LF),
    as (lead, end); lead == end when there is nothing else."""
    while lead < end and data[lead] in b" \t\r\n":
        lead += 1
    while end > lead and data[end - 1] in b" \t\r\n":
        end -= 1
    return lead, end


def password_param(code, password):
    if password is None:
        return ""
    if code != PK:
        raise ValueError("password: private keys (PK) only")
    return "," + quoted(password, _PASSWORD_MAX, "password", 1)


def to_hex(digest):
    # not binascii.hexlify: on a port where binascii is Python (the
    # WebAssembly one) importing it costs RAM (live and garbage) that the
    # demo flow's heap budget has no room for (bench: boards.wasm32.flow_live_after)
    return "%02x" * len(digest) % tuple(digest)


def md5_text(text, error):
    """text as 32 lowercase hex digits; error(...) if it is not an MD5."""
    if isinstance(text, str) and len(text) == 32:
        text = text.lower()
        for ch in text:
            if ch not in _HEXDIGITS:
                break
        else:
            return text
    raise error("MD5 %r is not 32 hex digits" % (text,))


def md5_answer(lines, op, code, name):
    """The MD5 of the single line `+USECMNG: <op>,<type>,"<name>","<md5>"`
    (the space after the colon optional),
    checked; ProtocolError for anything else."""
    if len(lines) == 1 and lines[0].startswith(_PREFIX):
        f = fields(lines[0][len(_PREFIX):], True)  # loose: spaces around fields
        # a stream import (op 0) is answered `+USECMNG: 0,...` by the syntax
        # section and `+USECMNG: 1,...` by the spec's own example: take both
        if len(f) == 4 and (f[0] == str(op) or op == 0 and f[0] == "1") \
                and f[1] == str(code) and f[2] == name:
            return md5_text(f[3], ProtocolError)
    raise ProtocolError("answer %r is not for %d,%d,%r" % (lines, op, code, name))


def parse_entry(line):
    """One listing line -> Entry; ProtocolError if it is malformed."""
    f = fields(line, True)
    if len(f) == 2:
        f += [None, None]
    if len(f) == 4 and f[0] in KINDS and f[1]:
        # expiry: YYYY/MM/DD, or YYYY/MM/DD hh:mm:ss for pre-installed roots
        exp = f[3] = f[3] or None
        if exp is None or len(exp) in (10, 19) and exp[4] == exp[7] == "/" and exp[:4].isdigit():
            return Entry(*f)
    raise ProtocolError("malformed listing line %r" % line)
