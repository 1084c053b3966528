"""certs.Certs over the AT engine and a scripted fake module: the bytes on
the wire for each operation, MD5 verification, listing, error mapping,
refusals before any byte, and memory that does not grow with the size."""

import binascii
import gc
import os
import micropython

import ubxsec
from ubxsec import certs as certs_mod
from ubxsec.certs import CA, CC, PK, SC, Certs, Entry
from ubxsec.errors import CmeError, AtError, ProtocolError, VerifyError
from ubxsec.pem import new_md5
from fakeuart import FakeUart, PromptReply, reply, OK
from checks import raises, data_path, data_file
from alloc import measured

THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"  # from the spec's example
STARTUP = [b"ATE0", b"AT+CMEE=2"]


def tmp_path(name):
    try:
        os.stat("/tmp")
        return "/tmp/ubxsec_" + name
    except OSError:
        return "ubxsec_" + name


def write_file(name, data):
    path = tmp_path(name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def md5_hex(data):
    h = new_md5()
    h.update(data)
    return binascii.hexlify(h.digest()).decode()


def der_of(data):
    """The fake module's own PEM -> DER (binascii, not ubxsec.pem)."""
    if data[:1] == b"\x30":
        return data
    text = bytes(data).replace(b"\r", b"")
    # between the BEGIN line's closing dashes and -----END (one line or many)
    start = text.index(b"-----", text.index(b"-----BEGIN ") + 11) + 5
    body = text[start:text.index(b"-----END")].replace(b"\n", b"")
    return binascii.a2b_base64(body)


class FakeModule:
    """Answers +USECMNG and +UDWNFILE like the module; knobs to lie."""

    def __init__(self):
        self.answer_md5 = None      # override the MD5 in import answers
        self.answer_name = None     # override the name in import answers
        self.answer_op = None
        self.import_result = None   # bytes to send instead of the answer
        self.lines = {}             # command -> response bytes

    def __call__(self, line):
        text = line.decode()
        if text in self.lines:
            return self.lines[text]
        if text.startswith("AT+USECMNG=3,"):
            return OK   # a listing of one kind: empty
        if text.startswith("AT+USECMNG=0,") or text.startswith("AT+UDWNFILE="):
            size = int(text.rsplit(",", 1)[1]) if text.startswith("AT+UDWNFILE=") else int(
                text.split(",")[3])
            return PromptReply(b"\r\n>", size, lambda data: self._imported(text, data))
        return None

    def _imported(self, text, data):
        if text.startswith("AT+UDWNFILE="):
            return OK
        if self.import_result is not None:
            return self.import_result
        parts = text.split(",")
        kind = parts[1]
        name = self.answer_name or parts[2].strip('"')
        md5 = self.answer_md5 or md5_hex(der_of(data))
        op = self.answer_op or "0"
        return reply('+USECMNG: %s,%s,"%s","%s"' % (op, kind, name, md5), "OK")


def rig(module=None, **kw):
    fake = module or FakeModule()
    uart = FakeUart(fake, **kw)
    m = ubxsec.Module(uart, timeout_ms=500)
    return m, uart, fake


# -- imports: wire bytes and verification -------------------------------------

def test_import_bytes_pem_thawte():
    m, uart, _ = rig()
    pem = data_file("thawte.pem")
    assert m.certs.import_bytes(pem, CA, "ThawteCA") == THAWTE_MD5
    # the other kinds' listings first: no entry of theirs has that name
    assert uart.commands == STARTUP + [b"AT+USECMNG=3,1", b"AT+USECMNG=3,2", b"AT+USECMNG=3,3",
                                       b'AT+USECMNG=0,0,"ThawteCA",1516']
    assert uart.payloads == [pem]
    assert bytes(uart.written) == (b'ATE0\rAT+CMEE=2\rAT+USECMNG=3,1\rAT+USECMNG=3,2\rAT+USECMNG=3,3\r'
                                   b'AT+USECMNG=0,0,"ThawteCA",1516\r' + pem)


def test_import_file_pem_streams_the_file_as_is():
    m, uart, _ = rig()
    assert m.certs.import_file(data_path("thawte.pem"), "CA", "ThawteCA") == THAWTE_MD5
    assert uart.commands[-1] == b'AT+USECMNG=0,0,"ThawteCA",1516'
    assert uart.payloads == [data_file("thawte.pem")]


def test_import_file_lf_pem():
    m, uart, _ = rig()
    lf = data_file("thawte.pem").replace(b"\r\n", b"\n")
    path = write_file("lf.pem", lf)
    try:
        assert m.certs.import_file(path, CA, "T") == THAWTE_MD5
    finally:
        os.remove(path)
    assert uart.commands[-1] == b'AT+USECMNG=0,0,"T",%d' % len(lf)
    assert uart.payloads == [lf]


def test_surrounding_whitespace_is_not_sent():
    pem = data_file("thawte.pem")
    padded = b"\r\n  \n" + pem + b"\r\n\r\n \t"
    path = write_file("padded.pem", padded)
    try:
        for src in (padded, bytearray(padded), path):
            m, uart, _ = rig()
            if isinstance(src, str):
                got = m.certs.import_file(src, CA, "T")
            else:
                got = m.certs.import_bytes(src, CA, "T")
            assert got == THAWTE_MD5
            assert uart.commands[-1] == b'AT+USECMNG=0,0,"T",1516'
            assert uart.payloads == [pem]
    finally:
        os.remove(path)


def test_import_der_file_and_bytes():
    der = data_file("thawte.der")
    for src in (data_path("thawte.der"), der, memoryview(der)):
        m, uart, _ = rig()
        if isinstance(src, str):
            got = m.certs.import_file(src, SC, "server")
        else:
            got = m.certs.import_bytes(src, SC, "server")
        assert got == THAWTE_MD5 == md5_hex(der)
        assert uart.commands[-1] == b'AT+USECMNG=0,3,"server",1060'
        assert uart.payloads == [der]


def test_md5_mismatch_raises_verify_error():
    fake = FakeModule()
    fake.answer_md5 = "0123456789abcdef0123456789abcdef"
    for src in ("file", "bytes"):
        m, uart, _ = rig(fake)
        if src == "file":
            exc = raises(VerifyError, m.certs.import_file, data_path("thawte.pem"), CA, "ThawteCA")
        else:
            exc = raises(VerifyError, m.certs.import_bytes, data_file("thawte.der"), CA, "ThawteCA")
        assert THAWTE_MD5 in str(exc) and fake.answer_md5 in str(exc)


def test_md5_answer_case_is_normalised():
    fake = FakeModule()
    fake.answer_md5 = THAWTE_MD5.upper()
    m, _, _ = rig(fake)
    assert m.certs.import_bytes(data_file("thawte.pem"), CA, "ThawteCA") == THAWTE_MD5


def test_answer_for_another_name_type_or_op_is_a_protocol_error():
    for knob, value in (("answer_name", "Other"), ("answer_op", "4")):
        fake = FakeModule()
        setattr(fake, knob, value)
        m, _, _ = rig(fake)
        raises(ProtocolError, m.certs.import_bytes, data_file("thawte.pem"), CA, "ThawteCA")
    # the spec's own example answers a stream import with op 1: verified all the same
    fake = FakeModule()
    fake.answer_op = "1"
    m, _, _ = rig(fake)
    assert m.certs.import_bytes(data_file("thawte.pem"), CA, "ThawteCA") == THAWTE_MD5
    fake = FakeModule()
    fake.import_result = reply('+USECMNG: 0,1,"ThawteCA","%s"' % THAWTE_MD5, "OK")
    m, _, _ = rig(fake)
    raises(ProtocolError, m.certs.import_bytes, data_file("thawte.pem"), CA, "ThawteCA")
    fake.import_result = OK  # no answer line at all
    m, _, _ = rig(fake)
    raises(ProtocolError, m.certs.import_bytes, data_file("thawte.pem"), CA, "ThawteCA")
    fake.import_result = reply('+USECMNG: 0,0,"ThawteCA","xyz"', "OK")
    m, _, _ = rig(fake)
    raises(ProtocolError, m.certs.import_bytes, data_file("thawte.pem"), CA, "ThawteCA")


def test_module_errors_are_mapped():
    fake = FakeModule()
    fake.import_result = reply("+CME ERROR: memory full")
    m, _, _ = rig(fake)
    exc = raises(CmeError, m.certs.import_bytes, data_file("thawte.der"), CA, "ThawteCA")
    assert exc.text == "memory full" and exc.code == 20  # 3GPP TS 27.007 text: numbered
    fake.import_result = reply("+CME ERROR: 20")
    exc = raises(CmeError, m.certs.import_bytes, data_file("thawte.der"), CA, "ThawteCA")
    assert exc.code == 20
    fake.lines['AT+USECMNG=2,0,"ubx_digicert_global_root_ca"'] = reply(
        "+CME ERROR: operation not allowed")
    exc = raises(CmeError, m.certs.remove, CA, "ubx_digicert_global_root_ca")
    assert exc.text == "operation not allowed"
    fake.lines['AT+USECMNG=4,1,"nope"'] = reply("ERROR")
    exc = raises(AtError, m.certs.md5, CC, "nope")
    assert not isinstance(exc, CmeError)


def test_private_key_with_password_is_redacted_in_the_trace():
    traced = []
    fake = FakeModule()
    uart = FakeUart(fake)
    m = ubxsec.Module(uart, timeout_ms=500, trace=traced.append)
    key = b"\x30\x06\x02\x01\x00\x04\x01\x07"  # stands in for an encrypted PKCS#8 DER
    assert m.certs.import_bytes(key, PK, "key1", password="s3cret pw") == md5_hex(key)
    assert uart.commands[-1] == b'AT+USECMNG=0,2,"key1",8,"s3cret pw"'
    assert uart.payloads == [key]
    joined = "\n".join(traced)
    assert "s3cret" not in joined and "key1" not in joined
    assert "=> [8 bytes]" in joined


def test_mid_stream_bad_pem_is_never_success():
    good = data_file("thawte.pem")
    bad = good[:900] + b"*" + good[901:]
    path = write_file("bad.pem", bad)
    try:
        # the module refuses it too
        fake = FakeModule()
        fake.import_result = reply("+CME ERROR: incorrect parameters")
        m, uart, _ = rig(fake)
        exc = raises(ValueError, m.certs.import_file, path, CA, "ThawteCA")
        assert "base64" in str(exc) and "incorrect parameters" in str(exc)
        assert uart.payloads == [bad]  # all announced bytes went out
        # the module (wrongly) stores it: the entry is removed again
        fake = FakeModule()
        fake.answer_md5 = THAWTE_MD5
        fake.lines['AT+USECMNG=2,0,"ThawteCA"'] = OK
        m, uart, _ = rig(fake)
        exc = raises(ValueError, m.certs.import_file, path, CA, "ThawteCA")
        assert "removed" in str(exc)
        assert uart.commands[-1] == b'AT+USECMNG=2,0,"ThawteCA"'
        # a truncated file: found at the end
        path2 = write_file("trunc.pem", good[:1400])
        fake = FakeModule()
        fake.import_result = reply("+CME ERROR: incorrect parameters")
        m, uart, _ = rig(fake)
        exc = raises(ValueError, m.certs.import_file, path2, CA, "ThawteCA")
        assert "truncated" in str(exc)
        assert uart.payloads == [good[:1400]]
        os.remove(path2)
    finally:
        os.remove(path)


# -- refusals before any byte --------------------------------------------------

def test_invalid_parameters_write_nothing():
    pem = data_file("thawte.pem")
    der = data_file("thawte.der")
    key_pem = b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"
    big = b"\x30\x82\x20\x00" + bytes(8192)  # 8196 bytes
    cases = (
        (lambda c: c.import_bytes(pem, CA, "x" * 201)),
        (lambda c: c.import_bytes(pem, CA, "")),
        (lambda c: c.import_bytes(pem, CA, 'a"b')),
        (lambda c: c.import_bytes(pem, CA, "a\rb")),
        (lambda c: c.import_bytes(pem, CA, "a\x00b")),
        (lambda c: c.import_bytes(pem, CA, "caf\u00e9")),
        (lambda c: c.import_bytes(pem, 4, "n")),
        (lambda c: c.import_bytes(pem, "XX", "n")),
        (lambda c: c.import_bytes(pem, True, "n")),
        (lambda c: c.import_bytes(b"", CA, "n")),
        (lambda c: c.import_bytes(big, CA, "n")),
        (lambda c: c.import_bytes("text", CA, "n")),
        (lambda c: c.import_bytes(der, CA, "n", password="pw")),
        (lambda c: c.import_bytes(der, PK, "n", password="p" * 129)),
        (lambda c: c.import_bytes(der, PK, "n", password="")),
        (lambda c: c.import_bytes(der, PK, "n", password='a"b')),
        (lambda c: c.import_bytes(key_pem, PK, "n", password="pw")),
        (lambda c: c.import_bytes(key_pem, CA, "n")),
        (lambda c: c.import_bytes(pem, PK, "n")),
        (lambda c: c.import_bytes(pem.replace(b"MIIE", b"MI*E"), CA, "n")),
        (lambda c: c.import_bytes(der[:-1], CA, "n")),
        (lambda c: c.import_bytes(der + b"\x00", CA, "n")),
        (lambda c: c.import_bytes(b"hello", CA, "n")),
        (lambda c: c.import_file(data_path("thawte.pem"), CA, "x" * 201)),
        (lambda c: c.import_file(data_path("thawte.pem"), CA, "Root \u20ac CA")),
        (lambda c: c.import_file(data_path("thawte.pem"), CA, 'a"b')),
        (lambda c: c.import_file(data_path("thawte.pem"), CA, "a\tb")),
        (lambda c: c.import_file(data_path("thawte.pem"), PK, "n")),
        (lambda c: c.import_file(data_path("thawte.der"), CA, "n", password="pw")),
        (lambda c: c.import_from_module_file("f" * 64, CA, "n")),
        (lambda c: c.import_from_module_file("", CA, "n")),
        (lambda c: c.import_from_module_file("f.pem", CA, "n", expect_md5="abc")),
        (lambda c: c.upload(pem, "f" * 64)),
        (lambda c: c.upload(b"", "f.pem")),
        (lambda c: c.remove(CA, "x" * 201)),
        (lambda c: c.md5(9, "n")),
        (lambda c: c.list("ZZ")),
    )
    for i, case in enumerate(cases):
        m, uart, _ = rig()
        try:
            case(m.certs)
        except ValueError:
            pass
        else:
            raise AssertionError("case %d accepted" % i)
        assert uart.written == bytearray(), "case %d wrote %r" % (i, bytes(uart.written))


def test_file_checks_before_sending():
    der = data_file("thawte.der")
    cases = (
        ("short.der", der[:-10]),
        ("long.der", der + b"\x00"),
        ("key.pem", b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"),
        ("text.pem", b"hello\n-----BEGIN CERTIFICATE-----\n"),
        ("ws.pem", b" \n\r\n\t "),
        ("empty.pem", b""),
        ("big.der", b"\x30\x82\x20\x01" + bytes(8193)),
    )
    for name, data in cases:
        path = write_file(name, data)
        try:
            m, uart, _ = rig()
            raises(ValueError, m.certs.import_file, path, CA, "n")
            assert uart.written == bytearray(), name
        finally:
            os.remove(path)


# -- module file system ----------------------------------------------------------

def test_upload_then_import_from_module_file():
    pem = data_file("thawte.pem")
    fake = FakeModule()
    fake.lines['AT+USECMNG=1,0,"ThawteCA","thawte.pem"'] = reply(
        '+USECMNG: 1,0,"ThawteCA","%s"' % THAWTE_MD5, "OK")
    m, uart, _ = rig(fake)
    assert m.certs.upload(data_path("thawte.pem"), "thawte.pem") == 1516
    assert uart.commands[-1] == b'AT+UDWNFILE="thawte.pem",1516'
    assert uart.payloads == [pem]
    assert m.certs.upload(pem, "thawte.pem") == 1516
    assert uart.payloads == [pem, pem]
    want = m.certs.der_md5(data_path("thawte.pem"))
    assert want == THAWTE_MD5 == m.certs.der_md5(pem)
    assert m.certs.import_from_module_file("thawte.pem", CA, "ThawteCA", expect_md5=want) == want
    assert uart.commands[-1] == b'AT+USECMNG=1,0,"ThawteCA","thawte.pem"'
    raises(VerifyError, m.certs.import_from_module_file, "thawte.pem", CA, "ThawteCA",
           expect_md5="00" * 16)


# -- management --------------------------------------------------------------------

LISTING = (
    '"CA","ThawteCA","thawte Primary Root CA","2036/07/17"',
    '"CC","JohnDoeCC","GlobalSign, Inc. Client","2010/01/01"',
    '"PK","JohnDoePK"',
    '"SC","server"',
    '"CA","ubx_digicert_global_root_ca","DigiCert Global Root CA","2031/11/10 00:00:00"',
    '"CA","ubx_starfield_service_root_ca_g2",'
    '"Starfield Services Root Certificate Authority - G2","2034/06/28 17:39:16"',
)


def test_list_parses_user_and_preinstalled_entries():
    fake = FakeModule()
    fake.lines["AT+USECMNG=3"] = reply(*(LISTING + ("OK",)))
    m, uart, _ = rig(fake)
    entries = m.certs.list()
    assert uart.commands[-1] == b"AT+USECMNG=3"
    assert entries == [
        Entry("CA", "ThawteCA", "thawte Primary Root CA", "2036/07/17"),
        Entry("CC", "JohnDoeCC", "GlobalSign, Inc. Client", "2010/01/01"),
        Entry("PK", "JohnDoePK", None, None),
        Entry("SC", "server", None, None),
        Entry("CA", "ubx_digicert_global_root_ca", "DigiCert Global Root CA", "2031/11/10 00:00:00"),
        Entry("CA", "ubx_starfield_service_root_ca_g2",
              "Starfield Services Root Certificate Authority - G2", "2034/06/28 17:39:16"),
    ]
    assert entries[0].common_name == "thawte Primary Root CA"
    assert entries[2].kind == "PK"


def test_list_by_kind_and_empty():
    fake = FakeModule()
    fake.lines["AT+USECMNG=3,2"] = reply('"PK","k1"', '"PK","k2"', "OK")
    fake.lines["AT+USECMNG=3,1"] = OK
    m, uart, _ = rig(fake)
    assert [e.name for e in m.certs.list(PK)] == ["k1", "k2"]
    assert m.certs.list("CC") == []
    assert uart.commands[-2:] == [b"AT+USECMNG=3,2", b"AT+USECMNG=3,1"]


def test_list_tolerates_the_examples_bare_type():
    fake = FakeModule()
    fake.lines["AT+USECMNG=3"] = reply('CA, "ThawteCA","thawte Primary Root CA","2036/07/17"', "OK")
    m, _, _ = rig(fake)
    assert m.certs.list() == [Entry("CA", "ThawteCA", "thawte Primary Root CA", "2036/07/17")]


def test_malformed_listings_are_protocol_errors():
    bad_lines = (
        '"XX","name"',
        '"CA"',
        '"CA","n","cn"',
        '"CA","n","cn","2036-07-17"',
        '"CA","n","cn","2036/07/17","extra"',
        '"CA","unterminated',
        '"CA" junk,"n"',
    )
    for line in bad_lines:
        fake = FakeModule()
        fake.lines["AT+USECMNG=3"] = reply(line, "OK")
        m, _, _ = rig(fake)
        raises(ProtocolError, m.certs.list)
    fake = FakeModule()
    fake.lines["AT+USECMNG=3,0"] = reply('"PK","k"', "OK")
    m, _, _ = rig(fake)
    raises(ProtocolError, m.certs.list, CA)


def test_md5_and_remove_wire():
    fake = FakeModule()
    fake.lines['AT+USECMNG=4,0,"ThawteCA"'] = reply('+USECMNG: 4,0,"ThawteCA","%s"' % THAWTE_MD5, "OK")
    fake.lines['AT+USECMNG=2,1,"JohnDoeCC"'] = OK
    m, uart, _ = rig(fake)
    assert m.certs.md5(CA, "ThawteCA") == THAWTE_MD5
    assert m.certs.remove(CC, "JohnDoeCC") is None
    assert uart.commands[2:] == [b'AT+USECMNG=4,0,"ThawteCA"', b'AT+USECMNG=2,1,"JohnDoeCC"']
    fake.lines['AT+USECMNG=4,0,"ThawteCA"'] = reply('+USECMNG: 4,0,"Other","%s"' % THAWTE_MD5, "OK")
    raises(ProtocolError, m.certs.md5, CA, "ThawteCA")


def test_kind_constants_and_strings():
    assert (CA, CC, PK, SC) == (0, 1, 2, 3)
    for code, text in enumerate(("CA", "CC", "PK", "SC")):
        assert certs_mod.kind_code(code) == certs_mod.kind_code(text) == code


# -- memory ------------------------------------------------------------------------------

def _call_measured(fn, arg):
    """(fn(arg), heap bytes it allocated): alloc.py (mem_total, or gc.mem_alloc
    deltas with collection disabled; never heap_lock alone)."""
    return measured(fn, arg)


class _StepAt:
    """A stand-in engine: hands the source preallocated views and adds up
    what filling them allocates (`allocated`)."""

    timeout_ms = 5000

    def __init__(self, chunk=256):
        self.buf = bytearray(chunk)
        self.full = memoryview(self.buf)
        self.sent = new_md5()
        self.lines = None
        self.allocated = 0
        self.chunks = 0

    def command_with_data(self, cmd, size, source, timeout_ms=None, secret=False, redact=None):
        tail = self.full[:size % len(self.buf)] if size % len(self.buf) else self.full
        left = size
        got = 0
        while left:
            view = self.full if left >= len(self.buf) else tail
            n, spent = _call_measured(source, view)
            self.allocated += spent
            self.chunks += 1
            assert n == len(view)
            self.sent.update(view)
            left -= n
            got += n
        name = cmd.split(",")[2]
        md5 = binascii.hexlify(self.sent.digest()).decode()
        return ['+USECMNG: 0,%s,%s,"%s"' % (cmd.split(",")[1], name, md5)]

    def exchange_data(self, cmd, size, source, timeout_ms=None, secret=False, redact=None):
        return self.command_with_data(cmd, size, source, timeout_ms, secret, redact)
        yield  # the engine contract's generator form

    def exchange(self, cmd, timeout_ms=None, **kw):
        return []  # the listings before an import: empty
        yield

    def run(self, gen):
        # the blocking engine's run(): drive the generator to its end
        try:
            while True:
                gen.send(None)
        except StopIteration as stop:
            return stop.value


def test_der_file_chunk_loop_allocates_nothing():
    at = _StepAt()
    c = Certs(at)
    assert c.import_file(data_path("thawte.der"), CA, "ThawteCA") == THAWTE_MD5
    assert at.chunks > 1 and at.allocated == 0, at.allocated
    # bytes input (shared through BytesIO): no allocation either
    at = _StepAt()
    assert Certs(at).import_bytes(data_file("thawte.der"), CA, "ThawteCA") == THAWTE_MD5
    assert at.allocated == 0, at.allocated


def test_pem_file_chunk_loop_allocates_nothing():
    at = _StepAt(61)
    c = Certs(at)
    # the module's MD5 (of the DER) differs from the MD5 of the PEM sent here
    raises(VerifyError, c.import_file, data_path("thawte.pem"), CA, "ThawteCA")
    assert at.chunks > 1 and at.allocated == 0, at.allocated


class _QuietModule:
    """Answers commands with OK and an import with `answer`, keeping nothing
    of the data; its frames are small, so that it allocates nothing itself
    (what is measured is the library)."""

    def __init__(self):
        self.out = b""
        self.i = 0
        self.owed = 0
        self.size = 0
        self.answer = b""

    def write(self, buf, off, n):
        if self.owed:
            self.owed -= n
            if not self.owed:
                self._say(self.answer)
        elif buf[off + 3] == 0x55 and buf[off + 11] == 0x30:  # AT+USECMNG=0: the import
            self.owed = self.size
            self._say(b">")
        else:
            self._say(b"\r\nOK\r\n")
        return n

    def _say(self, data):
        self.out = data
        self.i = 0

    def any(self):
        return len(self.out) - self.i

    def readinto(self, buf, n):
        k = 0
        while k < n and self.i < len(self.out):
            buf[k] = self.out[self.i]
            self.i += 1
            k += 1
        return k


def _import_allocated(m, uart, path, der):
    uart.size = len(der)
    uart.answer = b'\r\n+USECMNG: 0,0,"blob","%s"\r\n\r\nOK\r\n' % md5_hex(der)
    gc.collect()
    got, spent = measured(m.certs.import_file, path, CA, "blob")
    assert got == md5_hex(der)
    return spent


def test_der_import_through_the_engine_allocates_nothing_per_chunk():
    uart = _QuietModule()
    m = ubxsec.Module(uart, timeout_ms=500)
    m.start()
    small = _der_blob(1024)
    big = _der_blob(8192)
    paths = (write_file("q1.der", small), write_file("q8.der", big))
    try:
        _import_allocated(m, uart, paths[0], small)  # warm up
        a1 = _import_allocated(m, uart, paths[0], small)
        a8 = _import_allocated(m, uart, paths[1], big)
    finally:
        for path in paths:
            os.remove(path)
    # 28 chunks more for the 8 KB file, and not a byte more
    assert a8 == a1, (a1, a8)


class _SinkUart:
    """A module that keeps nothing of a transfer but its length: measuring
    the library's heap, not the fake's."""

    def __init__(self):
        self.out = bytearray(128)
        self.out_n = 0
        self.out_i = 0
        self.cmd = bytearray(128)
        self.cmd_n = 0
        self.owed = 0
        self.md5 = None
        self.name = b""
        self.kind = b"0"
        self.base = 0
        self.peak = 0

    def _queue(self, data):
        self.out[self.out_n:self.out_n + len(data)] = data
        self.out_n += len(data)

    def any(self):
        return self.out_n - self.out_i

    def readinto(self, buf, n=None):
        avail = self.out_n - self.out_i
        if n is None or n > len(buf):
            n = len(buf)
        if n > avail:
            n = avail
        for i in range(n):
            buf[i] = self.out[self.out_i + i]
        self.out_i += n
        if self.out_i == self.out_n:
            self.out_i = self.out_n = 0
        return n or None

    def write(self, buf, off=0, n=None):
        if n is None:
            n = len(buf) - off
        used = gc.mem_alloc() - self.base
        if used > self.peak:
            self.peak = used
        if self.owed:
            k = n if n <= self.owed else self.owed
            self.md5.update(buf)  # the engine writes its whole chunk
            self.owed -= k
            if not self.owed:
                digest = binascii.hexlify(self.md5.digest())
                self._queue(b'\r\n+USECMNG: 0,' + self.kind + b',"' + self.name + b'","' + digest
                            + b'"\r\n\r\nOK\r\n')
            return k
        for i in range(off, off + n):
            c = buf[i]
            if c == 13:
                line = bytes(self.cmd[:self.cmd_n])
                self.cmd_n = 0
                if line.startswith(b"AT+USECMNG=0,"):
                    parts = line.split(b",")
                    self.kind = parts[1]
                    self.name = parts[2].strip(b'"')
                    self.owed = int(parts[3])
                    self.md5 = new_md5()
                    self._queue(b">")
                else:
                    self._queue(b"\r\nOK\r\n")
            else:
                self.cmd[self.cmd_n] = c
                self.cmd_n += 1
        return n


def _der_blob(total):
    body = total - 4
    return b"\x30\x82" + bytes((body >> 8, body & 0xFF)) + bytes((i * 7) & 0xFF for i in range(body))


def _import_peak(path, total):
    uart = _SinkUart()
    m = ubxsec.Module(uart, timeout_ms=500)
    m.start()
    c = m.certs
    gc.collect()
    uart.base = gc.mem_alloc()
    uart.peak = 0
    assert c.import_file(path, CA, "blob") == md5_hex(_der_blob(total))
    return uart.peak


def test_peak_heap_does_not_grow_with_size():
    small = write_file("1k.der", _der_blob(1024))
    big = write_file("8k.der", _der_blob(8192))
    try:
        _import_peak(small, 1024)  # warm up (imports, interned names)
        p1 = _import_peak(small, 1024)
        p8 = _import_peak(big, 8192)
    finally:
        os.remove(small)
        os.remove(big)
    assert p8 > 0 and p1 > 0
    assert p8 - p1 <= 256, (p1, p8)


def test_refusal_partway_through_a_good_pem_is_the_modules_error():
    # the module ends the data phase early (memory full after 768 bytes): a
    # good file is not blamed, the caller gets the module's CmeError
    path = write_file("good.pem", data_file("thawte.pem"))
    try:
        def module(line):
            if line.startswith(b"AT+USECMNG=0,"):
                return PromptReply(b"\r\n>", 768, lambda data: reply("+CME ERROR: memory full"))
            return OK if line == b"AT" else FakeModule()(line)
        m, uart, _ = rig(module)
        exc = raises(CmeError, m.certs.import_file, path, CA, "ThawteCA")
        assert exc.text == "memory full"
    finally:
        os.remove(path)


# -- what real series do differently (the module decides) -------------------

def test_names_longer_than_the_spec_are_left_to_the_module():
    # a SARA-R410M-02B took 34, 36 and 43 characters; other series 200
    for n in (31, 43, 58, 200):
        name = ("N%03d" % n) + "x" * (n - 4)
        m, uart, fake = rig()
        fake.lines['AT+USECMNG=2,0,"%s"' % name] = OK
        assert m.certs.import_bytes(data_file("thawte.der"), CA, name) == THAWTE_MD5
        assert uart.commands[-1] == ('AT+USECMNG=0,0,"%s",1060' % name).encode()
        m.certs.remove(CA, name)
        assert uart.commands[-1] == ('AT+USECMNG=2,0,"%s"' % name).encode()


def test_md5_in_upper_case_is_accepted():
    fake = FakeModule()
    fake.answer_md5 = THAWTE_MD5.upper()       # SARA-R410M-02B, LENA-R8
    m, _, _ = rig(fake)
    assert m.certs.import_file(data_path("thawte.pem"), CA, "ThawteCA") == THAWTE_MD5
    fake.lines['AT+USECMNG=4,0,"ThawteCA"'] = reply(
        '+USECMNG: 4,0,"ThawteCA","%s"' % THAWTE_MD5.upper(), "OK")
    assert m.certs.md5(CA, "ThawteCA") == THAWTE_MD5


def test_one_line_pem_streams_with_the_der_md5():
    der = data_file("thawte.der")
    one = (b"-----BEGIN CERTIFICATE-----" + binascii.b2a_base64(der).strip()
           + b"-----END CERTIFICATE-----")
    path = write_file("oneline.pem", one)
    m, uart, _ = rig()
    assert m.certs.import_file(path, CA, "OneLine") == THAWTE_MD5
    assert uart.payloads == [one]
    assert m.certs.import_bytes(one, CA, "OneLine") == THAWTE_MD5
    assert m.certs.der_md5(path) == THAWTE_MD5


def test_first_import_on_an_unused_file_system_lists_files_once_and_retries():
    # SARA-R422: +CME ERROR: 1912 before the prompt until AT+ULSTFILE ran
    fake = FakeModule()
    state = {"woken": False, "refusals": 0}
    plain = fake.__call__

    def responder(line):
        if line == b"AT+ULSTFILE":
            state["woken"] = True
            return reply("+ULSTFILE:", "OK")
        if line.startswith(b"AT+USECMNG=0,") and not state["woken"]:
            state["refusals"] += 1
            return reply("+CME ERROR: 1912")
        return plain(line)

    events = []
    uart = FakeUart(responder)
    m = ubxsec.Module(uart, timeout_ms=500, trace=lambda *a: events.append(a))
    assert m.certs.import_file(data_path("thawte.pem"), CA, "ThawteCA") == THAWTE_MD5
    imports = [c for c in uart.commands if c.startswith(b"AT+USECMNG=0,")]
    assert state["refusals"] == 1 and len(imports) == 2
    assert uart.commands[-2:-1] == [b"AT+ULSTFILE"]
    assert uart.payloads == [data_file("thawte.pem")]
    assert any("1912" in " ".join(str(x) for x in e) for e in events), events
    # once only: a module that keeps refusing gets the module's error
    state["woken"] = False
    exc = raises(CmeError, m.certs.import_file, data_path("thawte.pem"), CA, "Again")
    assert exc.code == 1912 and uart.commands.count(b"AT+ULSTFILE") == 1
    # a 1912 after the data went out is not retried
    fake2 = FakeModule()
    fake2.import_result = reply("+CME ERROR: 1912")
    m, uart, _ = rig(fake2)
    raises(CmeError, m.certs.import_file, data_path("thawte.pem"), CA, "Late")
    assert b"AT+ULSTFILE" not in uart.commands


def test_list_with_foreign_urcs_and_a_time_in_the_expiry():
    fake = FakeModule()
    fake.lines["AT+USECMNG=3"] = reply(
        "+CEREG: 5", '"CA","ThawteCA","thawte Primary Root CA","2036/07/16 23:59:59"',
        "+CSCON: 1", '"PK","MyKey"', "RING", "OK")
    m, _, _ = rig(fake)
    assert m.certs.list() == [
        Entry("CA", "ThawteCA", "thawte Primary Root CA", "2036/07/16 23:59:59"),
        Entry("PK", "MyKey", None, None)]
    assert m.at.urc_dropped == 3


def test_answers_without_a_space_after_the_colon_are_read():
    # LENA-R8 drops the space after "+USECMNG:" on some answers
    fake = FakeModule()
    fake.lines['AT+USECMNG=4,0,"ThawteCA"'] = reply('+USECMNG:4,0,"ThawteCA","%s"' % THAWTE_MD5, "OK")
    fake.lines['AT+USECMNG=1,0,"T","t.pem"'] = reply('+USECMNG:1,0,"T","%s"' % THAWTE_MD5, "OK")
    fake.import_result = reply('+USECMNG:0,0,"ThawteCA","%s"' % THAWTE_MD5, "OK")
    m, uart, _ = rig(fake)
    assert m.certs.md5(CA, "ThawteCA") == THAWTE_MD5
    assert m.certs.import_bytes(data_file("thawte.pem"), CA, "ThawteCA") == THAWTE_MD5
    assert m.certs.import_from_module_file("t.pem", CA, "T") == THAWTE_MD5
    # another prefix glued on is still not an answer
    fake.lines['AT+USECMNG=4,0,"ThawteCA"'] = reply('+USECMNGX:4,0,"ThawteCA","%s"' % THAWTE_MD5, "OK")
    raises(ProtocolError, m.certs.md5, CA, "ThawteCA")


def test_a_failed_1912_workaround_keeps_the_modules_refusal():
    # SARA-R422's 1912, then AT+ULSTFILE fails, or the import again fails
    for lst, again, got in ((reply("ERROR"), None, "got: ERROR"),
                            (reply("+ULSTFILE:", "OK"), reply("ERROR"), "got: ERROR"),
                            (reply("+ULSTFILE:", "OK"), reply("+CME ERROR: memory full"),
                             "got: memory full (+CME ERROR: 20)")):
        state = {"n": 0}

        def responder(line, lst=lst, again=again, state=state):
            if line == b"AT+ULSTFILE":
                return lst
            if line.startswith(b"AT+USECMNG=3,"):
                return OK
            if line.startswith(b"AT+USECMNG=0,"):
                state["n"] += 1
                return reply("+CME ERROR: 1912") if state["n"] == 1 else again
            return None

        m = ubxsec.Module(FakeUart(responder), timeout_ms=500)
        exc = raises(CmeError, m.certs.import_file, data_path("thawte.pem"), CA, "ROOT_TEST")
        text = str(exc)
        assert exc.code == 1912, text
        assert text.startswith("import CA 'ROOT_TEST' from ") and "(+CME ERROR: 1912)" in text, text
        assert "AT+ULSTFILE" in text and text.endswith(got), text


def test_a_pem_chain_file_is_refused_before_the_command():
    pem = data_file("thawte.pem")
    chain = pem + b"\r\n" + pem
    path = write_file("chain.pem", chain)
    try:
        for call in (lambda m: m.certs.import_file(path, CA, "Chain"),
                     lambda m: m.certs.import_bytes(chain, CA, "Chain")):
            m, uart, _ = rig()
            exc = raises(ValueError, call, m)
            assert "more than one PEM object" in str(exc), str(exc)
            assert not [c for c in uart.commands if c.startswith(b"AT+USECMNG=0,")], uart.commands
            assert not uart.payloads
    finally:
        os.remove(path)
    # one object followed by whitespace only is still one
    path = write_file("one.pem", pem + b"\r\n\r\n")
    try:
        m, uart, _ = rig()
        assert m.certs.import_file(path, CA, "One") == THAWTE_MD5
    finally:
        os.remove(path)


def test_an_import_over_a_name_of_another_kind_is_refused_unless_replace():
    pem = data_file("thawte.pem")
    fake = FakeModule()
    fake.lines["AT+USECMNG=3,1"] = reply('"CC","Shared","device 1","2030/01/01"', "OK")
    m, uart, _ = rig(fake)
    exc = raises(ValueError, m.certs.import_bytes, pem, CA, "Shared")
    assert str(exc) == "import CA 'Shared': CC 'Shared' on the module would be lost (replace=True)", str(exc)
    path = write_file("shared.pem", pem)
    try:
        exc = raises(ValueError, m.certs.import_file, path, CA, "Shared")
        assert str(exc).startswith("import CA 'Shared' from ") and "CC 'Shared'" in str(exc), str(exc)
        assert not uart.payloads and not [c for c in uart.commands if c.startswith(b"AT+USECMNG=0,")]
        # the same kind is an update, another name is no conflict, replace=True imports
        assert m.certs.import_bytes(pem, CC, "Shared") is not None
        assert m.certs.import_file(path, CA, "Other") == THAWTE_MD5
        n = len(uart.commands)
        assert m.certs.import_file(path, CA, "Shared", replace=True) == THAWTE_MD5
        assert uart.commands[n:] == [b'AT+USECMNG=0,0,"Shared",1516']   # no listing
    finally:
        os.remove(path)

