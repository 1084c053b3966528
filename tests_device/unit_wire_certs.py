"""certs.Certs checks no other test pins (the self-audit of issue 19 item
17): each check its docstring names that a plausible slip could break with
every other test still passing. Over the AT engine on the fake UART, with a
pretend module that stores what it is sent and answers its MD5."""

import binascii

from ubxsec.certs import CA, PK, Certs
from ubxsec.errors import ProtocolError
from ubxsec.pem import new_md5
from fakeuart import PromptReply, reply
from checks import raises, data_file, scratch_path, remove
from wirekit import engine


def _md5_hex(data):
    h = new_md5()
    h.update(data)
    return binascii.hexlify(h.digest()).decode()


def _der_of(data):
    """The module's own PEM -> DER (binascii, not ubxsec.pem)."""
    if data[:1] == b"\x30":
        return data
    text = bytes(data).replace(b"\r", b"")
    start = text.index(b"-----", text.index(b"-----BEGIN ") + 11) + 5
    return binascii.a2b_base64(text[start:text.index(b"-----END")].replace(b"\n", b""))


class _Module:
    """Takes +USECMNG=0 imports (keeping what it received), answers other
    commands from `lines`, and a listing of one kind (the replace check
    before each import) as an empty one."""

    def __init__(self):
        self.received = []
        self.lines = {}

    def __call__(self, line):
        text = line.decode()
        if text in self.lines:
            return self.lines[text]
        if text.startswith("AT+USECMNG=0,"):
            f = text[len("AT+USECMNG=0,"):].split(",")
            return PromptReply(b"\r\n>", int(f[2]), lambda data: self._stored(f, data))
        if text.startswith("AT+USECMNG=3,"):
            return reply(b"OK")
        return None

    def _stored(self, f, data):
        self.received.append(data)
        return reply(b'+USECMNG: 0,%s,%s,"%s"' % (f[0].encode(), f[1].encode(),
                                                  _md5_hex(_der_of(data)).encode()), b"OK")


def _certs():
    module = _Module()
    uart, at = engine(module)
    return module, uart, Certs(at)


def _der(size):
    """A SEQUENCE of exactly size bytes (a 2-byte length)."""
    return b"\x30\x82" + bytes(((size - 4) >> 8, (size - 4) & 0xFF)) + bytes(size - 4)


def test_an_import_holds_at_most_8192_bytes():
    module, uart, certs = _certs()
    assert certs.import_bytes(_der(8192), CA, "big") == _md5_hex(_der(8192))
    assert module.received == [_der(8192)]
    module, uart, certs = _certs()
    exc = raises(ValueError, certs.import_bytes, _der(8193), CA, "big")
    assert "8193" in str(exc) and len(uart.written) == 0, str(exc)
    path = scratch_path("wire_8193.der")
    try:
        with open(path, "wb") as f:
            f.write(_der(8193))
        raises(ValueError, certs.import_file, path, CA, "big")
        assert len(uart.written) == 0
    finally:
        remove(path)


def test_tabs_and_spaces_around_a_pem_are_not_sent():
    pem = data_file("thawte.pem")
    for lead, tail in ((b"\t", b"\t"), (b" \t\r\n", b"\r\n\t "), (b"\n\t\n", b"")):
        module, uart, certs = _certs()
        certs.import_bytes(lead + pem.strip() + tail, CA, "t")
        assert module.received == [pem.strip()], (lead, tail)
        module, uart, certs = _certs()
        path = scratch_path("wire_ws.pem")
        try:
            with open(path, "wb") as f:
                f.write(lead + pem.strip() + tail)
            certs.import_file(path, CA, "t")
        finally:
            remove(path)
        assert module.received == [pem.strip()], (lead, tail)


def test_a_file_ending_in_more_whitespace_than_is_read_back_is_refused_unsent():
    pem = data_file("thawte.pem").strip()
    path = scratch_path("wire_tail.pem")
    try:
        with open(path, "wb") as f:
            f.write(pem + b" " * 200 + b"\n")
        module, uart, certs = _certs()
        exc = raises(ValueError, certs.import_file, path, CA, "t")
        assert "whitespace at the end" in str(exc) and len(uart.written) == 0, str(exc)
    finally:
        remove(path)


def test_a_file_neither_der_nor_pem_is_named_so_unsent():
    path = scratch_path("wire_text.txt")
    try:
        for body in (b"hello world\n", b"  \n MII...\n"):
            with open(path, "wb") as f:
                f.write(body)
            module, uart, certs = _certs()
            exc = raises(ValueError, certs.import_file, path, CA, "t")
            assert "neither DER nor PEM" in str(exc) and len(uart.written) == 0, str(exc)
    finally:
        remove(path)


def _md5_answered(answer):
    module, uart, certs = _certs()
    module.lines['AT+USECMNG=4,0,"n"'] = answer
    return certs.md5


def test_an_md5_answer_is_one_line_of_32_hex_digits():
    good = b'+USECMNG: 4,0,"n","%s"'
    digest = b"8ccadc0b22cef5be72ac411a11a8d812"
    assert _md5_answered(reply(good % digest, b"OK"))(CA, "n") == digest.decode()
    for answer in (reply(good % digest, good % digest, b"OK"),   # two answers
                   reply(good % digest[:31], b"OK"),             # 31 digits
                   reply(good % digest[:30], b"OK"),
                   reply(good % (digest[:31] + b"g"), b"OK"),    # not hex
                   reply(good % (digest[:31] + b" "), b"OK"),
                   reply(good % (digest + b"0"), b"OK")):        # 33 digits
        raises(ProtocolError, _md5_answered(answer), CA, "n")


def test_a_kind_is_never_a_bool():
    module, uart, certs = _certs()
    for kind in (True, False):
        raises(ValueError, certs.md5, kind, "n")
        raises(ValueError, certs.list, kind)
        raises(ValueError, certs.remove, kind, "n")
        raises(ValueError, certs.import_bytes, _der(40), kind, "n")
    assert len(uart.written) == 0


def test_a_listing_line_with_an_empty_name_is_malformed():
    module, uart, certs = _certs()
    module.lines["AT+USECMNG=3"] = reply(b'"CA","","X Root","2036/07/17"', b"OK")
    raises(ProtocolError, certs.list)
    module.lines["AT+USECMNG=3"] = reply(b'"CA","x","X Root","2036/07/17"', b"OK")
    assert [e.name for e in certs.list()] == ["x"]


def test_a_password_reaches_the_module_only_with_a_der_private_key():
    module, uart, certs = _certs()
    key = data_file("ec_key_enc.der")
    certs.import_bytes(key, PK, "k", password="pw")
    assert uart.commands[-1].endswith(b',"pw"'), uart.commands
