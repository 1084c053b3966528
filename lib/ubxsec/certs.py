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
"""

try:  # the builtin module: a Python collections package that extends it
    # (micropython-lib's, frozen into some ports) costs RAM for what is unused
    from ucollections import namedtuple
except ImportError:
    from collections import namedtuple
from errno import ENOENT
from io import BytesIO
from micropython import const

from .errors import (AtError, AtTimeout, CmeError, ProtocolError, UbxError, VerifyError,
                     _extension, _refused)
from .params import fields, quoted
from .pem import PemDecoder, _claimed, new_md5

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
    if isinstance(kind, int) and not isinstance(kind, bool) and 0 <= kind <= 3:
        return kind
    raise ValueError("kind %r: not 0-3 / CA CC PK SC" % (kind,))


def der_total(buf, n):
    """Bytes a DER SEQUENCE whose first n (>= 4 or all) bytes are buf claims."""
    total = _claimed(buf, n)
    # pem's check takes 3 length bytes; an import's size needs at most 2
    if total < 0 or buf[1] == 0x83:
        raise ValueError("DER: not a SEQUENCE" if n < 2 or buf[0] != 0x30 else "DER: bad length field")
    return total


class _Source:
    """The engine's '>' data source: copies from a reader (an open file, or
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

    # -- imports -------------------------------------------------------------

    def import_file(self, path, kind, name, password=None):
        """Import a DER or PEM file from the board's file system; returns the
        verified MD5 (32 hex digits)."""
        code, cmd = self._import_cmd(kind, name, password)
        f, size, source = self._open_source(path, code, password)
        with f:
            return self._send_import(cmd, size, source, code, name, password, path)

    def import_bytes(self, data, kind, name, password=None):
        """Import DER or PEM held in memory; returns the verified MD5."""
        code, cmd = self._import_cmd(kind, name, password)
        lead, size, digest = self._inspect(data, code, password)
        source = _source(data, lead)
        source.known = digest
        return self._send_import(cmd, size, source, code, name, password)

    def import_from_module_file(self, filename, kind, name, password=None, expect_md5=None):
        """Import a file already on the module's file system (op code 1).
        Returns the module's MD5; with expect_md5 (e.g. from der_md5()) a
        different one raises VerifyError. Package ubxsec-modfile."""
        return _extension("modfile").import_from_module_file(self, filename, kind, name,
                                                             password, expect_md5)

    def der_md5(self, src, kind=CA):
        """MD5 (hex) of the DER the module would store for a local file path
        or DER/PEM bytes, checked as an import of `kind` would be (for
        import_from_module_file()'s expect_md5). Package ubxsec-modfile."""
        return _extension("modfile").der_md5(self, src, kind)

    # -- module file system (package ubxsec-modfile) -------------------------

    def upload(self, src, module_filename):
        """Write a local file (path) or bytes to the module's file system with
        AT+UDWNFILE, byte for byte (for import_from_module_file()); returns
        the size."""
        return _extension("modfile").upload(self, src, module_filename)

    # -- management ----------------------------------------------------------

    def remove(self, kind, name):
        self._item(2, "remove", kind, name)

    def md5(self, kind, name):
        """The module's MD5 (32 lowercase hex digits) of a stored item."""
        return _md5_answer(self._item(4, "MD5 of", kind, name), 4, kind_code(kind), name)

    def list(self, kind=None):
        """[Entry], user entries and pre-installed roots, in the module's order.
        common_name and expiry are None where the module gives none; expiry is
        "YYYY/MM/DD" (user) or "YYYY/MM/DD hh:mm:ss" (pre-installed)."""
        cmd = "+USECMNG=3"
        want = None
        if kind is not None:
            code = kind_code(kind)
            want = KINDS[code]
            cmd += ",%d" % code
        entries = []
        for line in self._cmd("list", cmd, info=_LIST_INFO):
            entry = parse_entry(line)
            if want is not None and entry.kind != want:
                raise ProtocolError("%s entry in a %s listing" % (entry.kind, want))
            entries.append(entry)
        return entries

    # -- internals -----------------------------------------------------------

    def _cmd(self, what, cmd, secret=False, redact=None, info=None):
        """at.command(); a refusal names what was refused."""
        try:
            return self.at.command(cmd, secret=secret, redact=redact, info=info)
        except AtError as exc:
            raise _refused(exc, what)

    def _data_ms(self, size):
        """Timeout for a transfer of size bytes: the usual one plus the wire
        time of the data at the UART's baud rate (10 bits a byte), +25%."""
        return self.at.timeout_ms + size * 12500 // self.baud

    def _item(self, op, what, kind, name):
        """Op code op (2 remove, 4 MD5) on a stored item; its answer lines."""
        code = kind_code(kind)
        return self._cmd("%s %s %r" % (what, KINDS[code], name),
                         "+USECMNG=%d,%d,%s" % (op, code, quoted(name, _NAME_MAX, "name", 1)))

    @staticmethod
    def _import_cmd(kind, name, password):
        """(code, (head, tail)): the size goes in between once it is known."""
        code = kind_code(kind)
        return code, ("+USECMNG=0,%d,%s," % (code, quoted(name, _NAME_MAX, "name", 1)),
                      _password_param(code, password))

    @staticmethod
    def _check_label(dec, code, password):
        if password is not None:
            raise ValueError("password with a PEM key: the module takes one with an encrypted DER key only")
        label = dec.label
        if label not in (_KEY_LABELS if code == PK else _CERT_LABELS):
            raise ValueError("PEM label %r does not fit %s" % (label, KINDS[code]))

    def _inspect(self, data, code, password):
        """(lead, size, md5 digest) of DER/PEM bytes, fully checked."""
        total = _buffer_len(data)
        if not total:
            raise ValueError("data: empty")
        if total and data[0] == 0x30:
            _check_der(data, total, total)
            h = new_md5()
            h.update(data)
            return 0, _check_size(total), h.digest()
        lead, end = _trim(data, 0, total)
        dec = PemDecoder()
        dec.feed(data, end)  # what is sent: data[lead:end]
        dec.finish()
        self._check_label(dec, code, password)
        return lead, _check_size(end - lead), dec.digest()

    def _open_source(self, path, code, password):
        """(open file, size, _Source) for the file at path, checked as an
        import of code checks it; a bad file is a ValueError naming path."""
        f, total = _open(path)
        try:
            return (f,) + self._file_source(f, total, code, password)
        except BaseException as exc:
            f.close()
            if isinstance(exc, ValueError):
                raise ValueError("%s: %s" % (path, exc))
            raise

    def _file_source(self, f, total, code, password):
        """(size, _Source) for an open file of total bytes, positioned where
        sending starts. Reads its head (and a PEM's BEGIN line and tail) to
        check it first."""
        peek = bytearray(_PEEK)  # per import, as the decoder: a Certs keeps no buffer
        n = f.readinto(peek)
        if n and peek[0] == 0x30:
            _check_der(peek, n, total)
            f.seek(0)
            return _check_size(total), _Source(f, new_md5())
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
        self._check_label(dec, code, password)
        start = max(lead, total - _PEEK)
        f.seek(start)
        tail = _trim(peek, 0, f.readinto(peek))
        if tail[0] == tail[1]:
            raise ValueError("PEM: over %d bytes of whitespace at the end" % _PEEK)
        dec.reset()
        f.seek(lead)
        return _check_size(start + tail[1] - lead), _Source(f, None, dec)

    def _transfer(self, cmd, size, source, code, password):
        at = self.at
        cmd = cmd[0] + str(size) + cmd[1]
        while True:
            try:
                return at.command_with_data(cmd, size, source.fill, self._data_ms(size),
                                            secret=code == PK, redact=_redact(password))
            except CmeError as exc:
                # SARA-R422 refuses the first import on a file system never used
                # (+CME ERROR: 1912, before the prompt); listing the files once
                # wakes it. Nothing was sent, so the same source can be retried.
                if exc.code != _FS_UNUSED or source.used or self._fs_woken:
                    raise
            self._fs_woken = True
            if at.trace:
                at.trace.event("CME 1912 before the prompt: AT+ULSTFILE, then the import again")
            at.command("+ULSTFILE")

    def _send_import(self, cmd, size, source, code, name, password, path=None):
        what = "import %s %r" % (KINDS[code], name) + (" from " + path if path else "")
        try:
            lines = self._transfer(cmd, size, source, code, password)
        except (AtTimeout, KeyboardInterrupt) as exc:
            # the data may all be in: say whether the module stored it
            msg = str(exc)
            raise type(exc)(what + ": " + (msg + "; " if msg else "")
                            + self._outcome(source, size, code, name))
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
            raise _refused(exc, what, "likely a wrong password or a key format the module "
                           "refuses" if code == PK else None)
        try:
            digest = source.digest()
        except ValueError as exc:  # a bad PEM found while it streamed
            try:  # stored anyway: do not leave it behind
                self.remove(code, name)
                what = "removed"
            except UbxError as err:
                what = "not removed: %r" % err
            raise ValueError("%s (module stored it; %s)" % (exc, what))
        got = _md5_answer(lines, 0, code, name)
        _verify(got, _hex(digest), name)
        return got

    def _outcome(self, source, size, code, name):
        """Whether the module holds the item after an interrupted import,
        from its MD5 (the engine is back in sync by now)."""
        want = None
        if source.known is not None or source.sent >= size:
            try:
                want = _hex(source.digest())
            except ValueError:
                pass
        try:
            have = self.md5(code, name)
            if have == want:
                return "the module holds it (MD5 %s matches)" % have
            return "the module holds MD5 %s under that name%s" % (
                have, ", not this one" if want else " (the data did not all go out)")
        except (UbxError, KeyboardInterrupt) as exc:
            if isinstance(exc, CmeError) and exc.code == 22:   # not found
                return "the module does not hold it"
            return "stored? unknown (%s): try certs.md5() later" % exc


# -- helpers -----------------------------------------------------------------


def _open(path):
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


def _buffer_len(data):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError("data: bytes, bytearray or memoryview")
    return len(data)


def _check_size(size):
    if not 1 <= size <= _SIZE_MAX:
        raise ValueError("size %d outside 1..%d" % (size, _SIZE_MAX))
    return size


def _check_der(head, n, total):
    if der_total(head, n) != total:
        raise ValueError("DER: SEQUENCE length is not %d" % total)


def _source(data, pos):
    """A _Source over data in memory from pos: bytes are shared through
    BytesIO (its readinto copies without allocating)."""
    if isinstance(data, bytes):
        r = BytesIO(data)
        r.seek(pos)
        return _Source(r)
    return _Source(None, buf=memoryview(data), pos=pos)


def _trim(data, lead, end):
    """data[lead:end] without surrounding whitespace (space, tab, CR, LF),
    as (lead, end); lead == end when there is nothing else."""
    while lead < end and data[lead] in b" \t\r\n":
        lead += 1
    while end > lead and data[end - 1] in b" \t\r\n":
        end -= 1
    return lead, end


def _password_param(code, password):
    if password is None:
        return ""
    if code != PK:
        raise ValueError("password: private keys (PK) only")
    return "," + quoted(password, _PASSWORD_MAX, "password", 1)


def _redact(password):
    return (password,) if password else None


def _hex(digest):
    # not binascii.hexlify: on a port where binascii is Python (the
    # WebAssembly one) importing it costs RAM (live and garbage) that the
    # demo flow's heap budget has no room for (bench: boards.wasm32.flow_live_after)
    return "%02x" * len(digest) % tuple(digest)


def _verify(got, want, name):
    if got != want:
        raise VerifyError("module has MD5 %s for %r, expected %s" % (got, name, want))


def _md5_text(text, error):
    if isinstance(text, str) and len(text) == 32:
        text = text.lower()
        for ch in text:
            if ch not in _HEXDIGITS:
                break
        else:
            return text
    raise error("MD5 %r is not 32 hex digits" % (text,))


def _md5_answer(lines, op, code, name):
    """The MD5 of the single line `+USECMNG: <op>,<type>,"<name>","<md5>"`
    (the space after the colon optional),
    checked; ProtocolError for anything else."""
    if len(lines) == 1 and lines[0].startswith(_PREFIX):
        f = fields(lines[0][len(_PREFIX):], True)  # loose: spaces around fields
        # a stream import (op 0) is answered `+USECMNG: 0,...` by the syntax
        # section and `+USECMNG: 1,...` by the spec's own example: take both
        if len(f) == 4 and (f[0] == str(op) or op == 0 and f[0] == "1") \
                and f[1] == str(code) and f[2] == name:
            return _md5_text(f[3], ProtocolError)
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
