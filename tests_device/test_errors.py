"""Error paths on the rig: bad arguments refused before a byte is written,
the module's refusals as CmeError (numeric and verbose) or AtError, a
timeout, a transfer whose source runs dry, an MD5 mismatch; after each one
the engine is in sync and the module unchanged.

The +CME ERROR codes asserted are those of 3GPP TS 27.007 for what the
module says (3 operation not allowed, 4 operation not supported, 20 memory
full, 22 not found, 50 incorrect parameters), with the verbose texts and the
answers that differ per series from rig.py (rig.text, rig.md5_missing,
rig.quirk); names start with "rigErr".
"""

from ubxsec.certs import CA, CC, PK, SC
from ubxsec.errors import AtError, AtTimeout, CmeError, TransferError, VerifyError
import rig
from checks import data_path, data_file

THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"  # from the spec's example
NOT_ALLOWED, NOT_SUPPORTED, MEMORY_FULL, NOT_FOUND, INCORRECT = 3, 4, 20, 22, 50
MAX_USER_ENTRIES = 10  # the spec: up to 10 certificates or private keys


def module():
    return rig.module()


def user_names():
    return [e.name for e in module().certs.list() if not e.name.startswith("ubx_")]


def discard(kind, name):
    try:
        module().certs.remove(kind, name)
    except CmeError:
        pass


class CountingUart:
    """The board's UART, counting what is written through it."""

    def __init__(self, uart):
        self.uart = uart
        self.written = 0

    def write(self, buf, *args):
        n = self.uart.write(buf, *args)
        self.written += n or 0
        return n

    def __getattr__(self, name):
        return getattr(self.uart, name)


def refused_before_the_wire(fn, *args, **kw):
    """fn(*args) raises ValueError and writes nothing to the UART."""
    at = module().at
    real = at.uart
    at.uart = CountingUart(real)
    try:
        fn(*args, **kw)
    except ValueError:
        written = at.uart.written
    else:
        raise AssertionError("no ValueError for %r %r" % (args, kw))
    finally:
        at.uart = real
    assert written == 0, "%d bytes written before the ValueError" % written


def cme(code, fn, *args, text="", **kw):
    """fn(*args) raises the CmeError `code`, read in the numeric form
    (AT+CMEE=1) and in the verbose one (AT+CMEE=2): the module's text for
    the code (rig.text), or `text` (None: the number in that mode too)."""
    at = module().at
    if text == "":
        text = rig.text(code)
    for mode in (1, 2):
        at.command("+CMEE=%d" % mode)
        try:
            fn(*args, **kw)
        except CmeError as exc:
            if mode == 1 or text is None:
                assert (exc.code, exc.text) == (code, None), (code, exc.code, exc.text)
            else:
                # a 3GPP text carries its number too; a series' own text only itself
                number = code if text == rig.TEXTS.get(code) else None
                assert (exc.code, exc.text) == (number, text), (code, exc.code, exc.text)
        else:
            raise AssertionError("the module accepted %r %r" % (args, kw))
        finally:
            at.command("+CMEE=2")


# -- refused before the wire ---------------------------------------------------

def test_bad_certificate_arguments_never_reach_the_uart():
    c = module().certs
    der = data_file("thawte.der")
    pem = data_file("thawte.pem")
    key = data_file("ec_key_enc.der")
    for name in ("x" * 201, "", 'a"b', "a\rb", "a\nb", "a\x00b", "a\x1ab", "caf\xe9"):
        refused_before_the_wire(c.import_bytes, der, CA, name)
    refused_before_the_wire(c.import_file, data_path("thawte.der"), CA, "y" * 201)
    refused_before_the_wire(c.import_bytes, der, 4, "rigErr")          # type 4
    refused_before_the_wire(c.import_bytes, der, "XX", "rigErr")
    refused_before_the_wire(c.import_bytes, der, CA, "rigErr", password="pw")  # CA: no password
    refused_before_the_wire(c.import_bytes, key, PK, "rigErr", password="p" * 129)
    refused_before_the_wire(c.import_bytes, key, PK, "rigErr", password='p"w')
    refused_before_the_wire(c.import_bytes, data_file("ec_key.pem"), PK, "rigErr",
                            password="pw")                             # PEM: DER only
    refused_before_the_wire(c.import_bytes, pem, PK, "rigErr")          # a certificate as PK
    refused_before_the_wire(c.import_bytes, data_file("pk_pkcs8.pem"), CC, "rigErr")
    refused_before_the_wire(c.import_bytes, b"", CA, "rigErr")
    refused_before_the_wire(c.import_bytes, b"not a certificate", CA, "rigErr")
    refused_before_the_wire(c.import_bytes, der[:-1], CA, "rigErr")     # DER length
    big = bytearray(8193)
    big[0:4] = b"\x30\x82\x1f\xfd"                                      # 8193 bytes of DER
    refused_before_the_wire(c.import_bytes, big, CA, "rigErr")          # over 8192
    refused_before_the_wire(c.import_from_module_file, "f" * 64, CA, "rigErr")
    refused_before_the_wire(c.import_from_module_file, "f.pem", CA, "rigErr",
                            expect_md5="not an md5")
    refused_before_the_wire(c.upload, der, "")
    refused_before_the_wire(c.upload, big, "big.der")
    refused_before_the_wire(c.remove, CA, "z" * 201)
    refused_before_the_wire(c.md5, SC, "a\"b")
    refused_before_the_wire(c.list, 5)
    assert "rigErr" not in user_names()


def test_bad_profile_arguments_never_reach_the_uart():
    m = module()
    refused_before_the_wire(m.profile, 5)
    p = m.profile(1)
    refused_before_the_wire(p.validation_level, 4)
    refused_before_the_wire(p.validation_level, True)
    refused_before_the_wire(p.tls_version, 5)
    refused_before_the_wire(p.cipher_suite, 34)
    refused_before_the_wire(p.cipher_suite_iana, 0x1234)             # not in Table 26
    refused_before_the_wire(p.cipher_suite_iana, [0xC02B])
    refused_before_the_wire(p.add_cipher, [0xC02B, 0xC02B])
    refused_before_the_wire(p.add_cipher, [])
    refused_before_the_wire(p.ca_name, "c" * 201)
    refused_before_the_wire(p.server_hostname, "h" * 257)
    refused_before_the_wire(p.sni, "s" * 129)
    refused_before_the_wire(p.alpn, "a" * 256)
    refused_before_the_wire(p.sni, "bad\r\nAT+CFUN=16")
    refused_before_the_wire(p.key_password, "k" * 129)
    refused_before_the_wire(p.psk, "k" * 65)
    refused_before_the_wire(p.psk, "0" * 129, True)
    refused_before_the_wire(p.psk, "abc", True)                         # odd hex
    refused_before_the_wire(p.psk, "zz", True)
    refused_before_the_wire(p.psk_identity, "i" * 129)
    refused_before_the_wire(p.psk_identity, "0" * 258, True)
    refused_before_the_wire(p.pinning, "name", 3)
    refused_before_the_wire(p.psk_from_rot, 2)
    refused_before_the_wire(p.ztp, 3)
    refused_before_the_wire(p.database, 3)
    refused_before_the_wire(p.session_status, 3)
    refused_before_the_wire(p.session_type, 2)
    refused_before_the_wire(p.session_data, 4, "AAAA")                 # no such tag
    refused_before_the_wire(p.session_data, 3, "not base64!")
    refused_before_the_wire(p.apply, {"tls_version": 3, "sni": "x" * 129})
    refused_before_the_wire(p.apply, {"no_such_key": 1})
    refused_before_the_wire(p.apply, {"cipher_suite": 5, "cipher_list": [0xC02B]})


# -- the module's refusals -----------------------------------------------------

def md5_missing(*args):
    """The MD5 of a name not stored: the series' own answer (rig.md5_missing)."""
    code, text = rig.md5_missing()
    cme(code, module().certs.md5, *args, text=text)


def full_store(fn, *args):
    """An 11th import: memory full, or a bare ERROR on the series that say so."""
    if not rig.quirk("full_store_plain"):
        cme(MEMORY_FULL, fn, *args)
        return
    for mode in (1, 2):
        module().at.command("+CMEE=%d" % mode)
        try:
            fn(*args)
        except CmeError as exc:
            raise AssertionError("a bare ERROR expected, got %r" % exc)
        except AtError as exc:
            assert str(exc).endswith(": ERROR"), exc
        else:
            raise AssertionError("the module accepted an 11th entry")
        finally:
            module().at.command("+CMEE=2")


def test_module_refusals_on_certificates_carry_their_code():
    try:
        _refusals_on_certificates(module().certs)
    finally:   # what a module wrongly accepted is not left behind
        for kind, name in ((PK, "rigErrMissing"), (CA, "rigErr"), (PK, "rigErr"), (CC, "rigErrCC")):
            discard(kind, name)


def _refusals_on_certificates(c):
    md5_missing(CA, "rigErrMissing")
    cme(NOT_FOUND, c.remove, PK, "rigErrMissing")
    cme(NOT_FOUND, c.import_from_module_file, "rig_no_such_file.pem", CA, "rigErr")
    cme(NOT_ALLOWED, c.remove, CA, "ubx_digicert_global_root_ca")
    cme(NOT_ALLOWED, c.import_bytes, data_file("thawte.der"), CA, "ubx_digicert_global_root_ca")
    key = data_file("ec_key_enc.der")
    cme(INCORRECT, c.import_bytes, key, PK, "rigErr", password="wrong")
    cme(INCORRECT, c.import_bytes, key, PK, "rigErr")                  # no password
    cme(INCORRECT, c.import_bytes, data_file("thawte.der"), PK, "rigErr")  # not a key
    cme(INCORRECT, c.import_bytes, data_file("pk_ec.der"), CA, "rigErr")   # not a certificate
    assert "rigErr" not in user_names()
    # remove and MD5 name the type: the right name with another type is not found
    c.import_bytes(data_file("cc_ec.der"), CC, "rigErrCC")
    try:
        md5_missing(CA, "rigErrCC")
        cme(NOT_FOUND, c.remove, SC, "rigErrCC")
        assert "rigErrCC" in user_names()
    finally:
        c.remove(CC, "rigErrCC")
    assert module().certs.md5(CA, "ubx_digicert_global_root_ca")   # still there


def test_an_eleventh_entry_is_memory_full_and_nothing_changes():
    c = module().certs
    der = data_file("cc_ec.der")
    added = []
    try:
        for i in range(MAX_USER_ENTRIES - len(user_names())):
            c.import_bytes(der, CC, "rigErrFill%d" % i)
            added.append("rigErrFill%d" % i)
        before = user_names()
        full_store(c.import_bytes, der, CC, "rigErrOneMore")
        full_store(c.import_file, data_path("thawte.pem"), CA, "rigErrOneMore")
        assert user_names() == before
    finally:
        for name in added:
            discard(CC, name)


def test_module_refusals_on_profiles_carry_their_code():
    p = module().profile(4)
    p.reset()
    try:
        p.tls_version(2)
        p.cipher_suite(3)
        cme(NOT_SUPPORTED, p.tls_version, 4)                           # TLS 1.3
        for legacy in (10, 11, 12, 15, 16):
            cme(NOT_SUPPORTED, p.cipher_suite, legacy)
        cme(NOT_SUPPORTED, p.cipher_suite_iana, 0x0000)                 # not on this module
        cme(NOT_SUPPORTED, p.session_type, 0)
        cme(NOT_SUPPORTED, p.session_data, 2, "AAAA", "BBBB")
        assert (p.tls_version(), p.ciphers()) == (2, ("legacy", 3))     # unchanged
        p.add_cipher(0xC02B)
        cme(INCORRECT, p.remove_cipher, 0xC02F)                         # not in the list
        assert p.ciphers() == ("list", [0xC02B])
        # a batch stops at the refusal: what came before it is set
        cme(NOT_SUPPORTED, p.apply, {"validation_level": 2, "tls_version": 4})
        assert p.validation_level() == 2
        # the key password and the PSK are write-only
        p.key_password("secret-pw")
        p.psk("secret-psk")
        for op in (7, 8):
            cme(NOT_ALLOWED, module().at.command, "+USECPRF=4,%d" % op)
    finally:
        p.reset()


def test_plain_error_is_an_aterror_not_a_cmeerror():
    m = module()
    m.at.command("+CMEE=0")
    try:
        m.certs.md5(CA, "rigErrMissing")
    except CmeError:
        raise AssertionError("AT+CMEE=0 gives a plain ERROR")
    except AtError as exc:
        assert str(exc) == "MD5 of CA 'rigErrMissing': ERROR", str(exc)
    else:
        raise AssertionError("md5 of a missing entry answered")
    finally:
        m.at.command("+CMEE=2")
    assert m.certs.md5(CA, "ubx_digicert_global_root_ca")


# -- the engine's own errors -------------------------------------------------------

def test_a_timeout_resynchronises_the_engine():
    m = module()
    want = m.certs.list(CA)
    resyncs = m.at.resyncs
    try:
        m.at.command("+USECMNG=3", 1)   # the listing takes far longer than 1 ms
    except AtTimeout:
        pass
    else:
        raise AssertionError("no timeout")
    assert m.at.resyncs == resyncs + 1
    assert m.certs.list(CA) == want     # the late listing was not taken for this one


def test_a_source_running_dry_mid_transfer_stores_nothing():
    m = module()
    data = data_file("thawte.der")
    sent = [0]

    def half(view):   # gives 512 of the 1060 bytes, then nothing
        n = min(len(view), 512 - sent[0])
        view[:n] = data[sent[0]:sent[0] + n]
        sent[0] += n
        return n
    # the engine alone, without certs' SARA-R422 workaround: wake a file
    # system never used (+CME ERROR: 1912 before the prompt) as it does
    rig.module_files()
    try:
        m.at.command_with_data('+USECMNG=0,0,"rigErrHalf",%d' % len(data), len(data), half)
    except TransferError:
        pass
    else:
        raise AssertionError("no TransferError")
    try:
        assert sent[0] == 512
        assert "rigErrHalf" not in user_names()
        assert m.certs.import_bytes(data, CA, "rigErrHalf") == THAWTE_MD5   # in sync
    finally:
        discard(CA, "rigErrHalf")


def test_an_md5_other_than_expected_is_a_verifyerror():
    c = module().certs
    c.upload(data_path("thawte.pem"), "rig_err.pem")
    try:
        try:
            c.import_from_module_file("rig_err.pem", CA, "rigErrPin", expect_md5="0" * 32)
        except VerifyError as exc:
            assert THAWTE_MD5 in str(exc)
        else:
            raise AssertionError("no VerifyError")
    finally:
        discard(CA, "rigErrPin")
        rig.delete_module_file("rig_err.pem")   # a second upload would append to it
