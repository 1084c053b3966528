"""The messages a user reads: each usual mistake gets one that names what
failed (the operation, kind and name or file, the rule, the allowed range)
and never a secret; a module's refusal carries its code and text; an import
cut short by a timeout or Ctrl-C says whether the module holds the item."""

import errno
import os

import ubxsec
from ubxsec.certs import CA, PK, Certs
from ubxsec.errors import AtTimeout, CmeError
from ubxsec.pem import PemDecoder
from ubxsec.params import check_int, check_str
from fakeuart import FakeUart, PromptReply, reply
from checks import raises, data_file, data_path
from unit_certs import FakeModule, rig, write_file, md5_hex, der_of

THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"


def msg(exc_type, fn, *args, **kw):
    return str(raises(exc_type, fn, *args, **kw))


# -- arguments: the rule that failed, the allowed range ---------------------------

def test_each_name_rule_has_its_own_message():
    assert msg(ValueError, check_str, "", 200, "name", 1) == "name: 0 characters, allowed 1..200"
    assert msg(ValueError, check_str, "x" * 201, 200, "name", 1) == "name: 201 characters, allowed 1..200"
    assert msg(ValueError, check_str, 'My"CA', 200, "name", 1).startswith("name: character 2 is a quote")
    assert msg(ValueError, check_str, "My\nCA", 200, "name", 1) == \
        "name: character 2 is not printable ASCII (space to ~)"
    assert msg(ValueError, check_str, b"MyCA", 200, "name", 1) == "name: want a str, not bytes"


def test_a_secret_is_never_in_the_message():
    m, uart, _ = rig()
    p = m.profile(2)
    for fn, arg in ((p.key_password, "s3cr\x01t-pw"), (p.psk, "s3cr\x01t-psk"),
                    (p.psk_identity, "s3cr\x01t-id")):
        text = msg(ValueError, fn, arg)
        assert "s3cr" not in text and "character 4" in text, text


def test_ranges_are_given():
    m, uart, _ = rig()
    assert msg(ValueError, m.profile, 5) == "profile_id 5: allowed 0..4"
    assert msg(ValueError, m.profile(2).validation_level, 7) == "validation_level 7: allowed 0..3"
    assert msg(ValueError, m.profile(2).session_type, 2) == "session 2: allowed (0, 1, 3, 10, 11, 13)"


def test_ciphers_in_hex_and_one_reason_each():
    m, uart, _ = rig()
    p = m.profile(2)
    assert msg(ValueError, p.add_cipher, 0x1234) == "cipher 0x1234: not in the spec's Table 26"
    assert msg(ValueError, p.add_cipher, [0xC02B, 0xC02B]) == "cipher 0xC02B: listed twice"
    assert msg(ValueError, p.add_cipher, "C02B").startswith("cipher 'C02B': want an IANA code")


# -- files -----------------------------------------------------------------------

def test_a_missing_file_is_named():
    m, uart, _ = rig()
    exc = raises(OSError, m.certs.import_file, "/no/such/ca.pem", CA, "MyCA")
    # errno.ENOENT: 2 on most ports, 44 on the WebAssembly one
    assert exc.errno == errno.ENOENT and "/no/such/ca.pem: no such file" in str(exc), str(exc)
    assert uart.commands[-1:] != [b'AT+USECMNG=0,0,"MyCA",0']


def test_an_empty_file_is_named():
    m, uart, _ = rig()
    for data, why in ((b"", "empty file"), (b" \r\n\n", "whitespace only")):
        path = write_file("empty.pem", data)
        try:
            assert msg(ValueError, m.certs.import_file, path, CA, "E") == path + ": " + why
        finally:
            os.remove(path)
    assert msg(ValueError, m.certs.import_bytes, b"", CA, "E") == "data: empty"


def test_each_der_header_fault_has_its_message():
    m, uart, _ = rig()
    for data, why in ((b"\x30", "DER: not a SEQUENCE"),
                      (b"\x30\x80\x00\x00", "DER: bad length field"),            # no length bytes
                      (b"\x30\x83\x00\x00\x01\x00", "DER: bad length field"),    # 3: no import is that long
                      (b"\x30\x82\x00", "DER: bad length field"),                 # cut inside the length
                      (b"\x30\x81\x03\x00", "DER: SEQUENCE length is not 4")):
        assert msg(ValueError, m.certs.import_bytes, data, CA, "D") == why, data
    assert uart.written == bytearray()


def test_a_password_with_a_plain_pem_key():
    m, uart, _ = rig()
    text = msg(ValueError, m.certs.import_file, data_path("pk_pkcs8.pem"), PK, "K", password="pw9")
    assert text == data_path("pk_pkcs8.pem") + ": password with a PEM key: the module takes " \
        "one with an encrypted DER key only", text


def _truncated_pem():
    lines = data_file("thawte.pem").split(b"\r\n")
    return b"\r\n".join(lines[:5] + lines[6:])   # one whole body line lost


def test_a_truncated_pem_body_is_caught_by_the_decoder():
    dec = PemDecoder()
    dec.reset()
    pem = _truncated_pem()
    dec.feed(pem)
    text = msg(ValueError, dec.finish)
    assert text == "PEM: body truncated? its DER has 1012 bytes, its header says 1060", text


def test_a_truncated_pem_body_never_reaches_the_module():
    m, uart, _ = rig()
    before = len(uart.written)
    assert "body truncated" in msg(ValueError, m.certs.import_bytes, _truncated_pem(), CA, "T")
    assert len(uart.written) == before
    path = write_file("trunc.pem", _truncated_pem())
    try:   # a file is checked while it streams: the module's error is not the story
        text = msg(ValueError, m.certs.import_file, path, CA, "T")
    finally:
        os.remove(path)
    assert "body truncated" in text, text


# -- the module's refusals -------------------------------------------------------

def test_a_refused_key_import_names_it_and_the_likely_cause():
    fake = FakeModule()
    fake.import_result = reply("+CME ERROR: incorrect parameters")
    m, uart, _ = rig(fake)
    exc = raises(CmeError, m.certs.import_file, data_path("ec_key_enc.der"), PK, "MyKey",
                 password="wrong-pw-123")
    assert exc.code == 50 and exc.text == "incorrect parameters"
    assert str(exc) == ("import PK 'MyKey' from %s: incorrect parameters (+CME ERROR: 50); "
                        "likely a wrong password or a key format the module refuses"
                        % data_path("ec_key_enc.der")), str(exc)
    assert "wrong-pw-123" not in str(exc)


def test_every_refusal_carries_operation_kind_name_and_code():
    fake = FakeModule()
    fake.lines['AT+USECMNG=4,0,"Gone"'] = reply("+CME ERROR: 22")   # numeric (AT+CMEE=1)
    fake.lines['AT+USECMNG=2,0,"Gone"'] = reply("+CME ERROR: not found")
    m, uart, _ = rig(fake)
    exc = raises(CmeError, m.certs.md5, CA, "Gone")
    assert (exc.code, exc.text) == (22, None)
    assert str(exc) == "MD5 of CA 'Gone': not found (+CME ERROR: 22)", str(exc)
    assert str(raises(CmeError, m.certs.remove, "CA", "Gone")) == \
        "remove CA 'Gone': not found (+CME ERROR: 22)"


def test_a_missing_extension_names_its_package():
    exc = raises(ImportError, ubxsec.extension, "nosuch")
    assert str(exc).startswith("ubxsec.nosuch: install its package, lib/ubxsec-nosuch.json ("), str(exc)
    assert "nosuch'" in str(exc), str(exc)   # the import's own reason follows


def test_a_refused_profile_setting_is_named_without_its_value():
    def module(line):
        if line.startswith(b"AT+USECPRF="):
            return reply("+CME ERROR: operation not allowed")
        return None
    uart = FakeUart(module)
    m = ubxsec.Module(uart, timeout_ms=500)
    p = m.profile(2)
    assert str(raises(CmeError, p.tls_version, 4)) == \
        "profile 2 set tls_version (op 1): operation not allowed (+CME ERROR: 3)"
    text = str(raises(CmeError, p.psk, "very-secret-psk"))
    assert text == "profile 2 set psk (op 8): operation not allowed (+CME ERROR: 3)", text
    assert str(raises(CmeError, p.ca_name)) == \
        "profile 2 read ca_name (op 3): operation not allowed (+CME ERROR: 3)"
    exc = raises(CmeError, p.apply, {"validation_level": 1, "sni": "a.b"})
    assert str(exc).startswith("profile 2 set validation_level (op 0): "), str(exc)


# -- timeouts and interrupts during an import ------------------------------------

class _At:
    """Records the timeout an import is given."""
    timeout_ms = 5000

    def exchange_data(self, cmd, size, fill, timeout_ms=None, **kw):
        self.given = timeout_ms
        raise KeyError("recorded")
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


def test_an_import_timeout_follows_its_size_and_the_baud_rate():
    der = data_file("thawte.der")
    given = {}
    for baud in (9600, 115200):
        at = _At()
        raises(KeyError, Certs(at, baud).import_bytes, der, CA, "T")
        given[baud] = at.given
    wire_9600 = len(der) * 10 * 1000 // 9600
    assert given[9600] >= 5000 + wire_9600 and given[115200] >= 5000 + len(der) * 10 * 1000 // 115200
    assert given[9600] - 5000 > 10 * (given[115200] - 5000)
    # the Module reads the baud rate from its UART
    m, uart, _ = rig()
    uart.__class__.__repr__ = lambda self: "UART(0, baudrate=9600, bits=8)"
    try:
        assert m.certs.baud == 9600
    finally:
        del uart.__class__.__repr__


def _silent_after_data(fake, md5_answer):
    """The module takes the data and never answers; asked for the MD5 later,
    it gives md5_answer (None: not found)."""
    fake.import_result = b""
    key = 'AT+USECMNG=4,0,"Slow"'
    fake.lines[key] = (reply("+CME ERROR: not found") if md5_answer is None else
                       reply('+USECMNG: 4,0,"Slow","%s"' % md5_answer, "OK"))


def test_after_a_timeout_the_exception_says_the_module_holds_it():
    fake = FakeModule()
    _silent_after_data(fake, THAWTE_MD5)
    m, uart, _ = rig(fake)
    text = str(raises(AtTimeout, m.certs.import_bytes, data_file("thawte.pem"), CA, "Slow"))
    assert text.startswith("import CA 'Slow': ") and text.endswith(
        "; the module holds it (MD5 %s matches)" % THAWTE_MD5), text


def test_after_a_timeout_the_exception_says_the_module_does_not_hold_it():
    fake = FakeModule()
    _silent_after_data(fake, None)
    m, uart, _ = rig(fake)
    text = str(raises(AtTimeout, m.certs.import_file, data_path("thawte.der"), CA, "Slow"))
    assert text.endswith("; the module does not hold it"), text


class _CtrlC(FakeUart):
    """Ctrl-C while the data of a '>' phase goes out (after `after` bytes)."""

    def __init__(self, responder, after):
        super().__init__(responder, guard_ms=300)   # the module's guard timer, shortened
        self.after = after
        self.fired = False

    def write(self, buf, *args):
        if self._prompt is not None and not self.fired and len(self._data) >= self.after:
            self.fired = True
            raise KeyboardInterrupt
        return super().write(buf, *args)


def test_ctrl_c_during_an_import_says_what_the_module_holds():
    fake = FakeModule()
    _silent_after_data(fake, "0" * 32)   # an older item of that name
    uart = _CtrlC(fake, 512)
    m = ubxsec.Module(uart, timeout_ms=500)
    text = str(raises(KeyboardInterrupt, m.certs.import_file, data_path("thawte.pem"), CA, "Slow"))
    assert text.startswith("import CA 'Slow' from ") and ": the module holds" in text and text.endswith(
        ": the module holds MD5 %s under that name (the data did not all go out)" % ("0" * 32)), text


def test_after_a_timeout_a_module_that_will_not_say_leaves_it_unknown():
    fake = FakeModule()
    fake.import_result = b""
    fake.lines['AT+USECMNG=4,0,"Slow"'] = reply("+CME ERROR: operation not allowed")
    m, uart, _ = rig(fake)
    text = str(raises(AtTimeout, m.certs.import_bytes, data_file("thawte.der"), CA, "Slow"))
    assert text.endswith("; stored? unknown (MD5 of CA 'Slow': operation not allowed "
                         "(+CME ERROR: 3)): try certs.md5() later"), text
