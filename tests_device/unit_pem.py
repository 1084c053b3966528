"""pem.PemDecoder: chunk boundaries, line endings, every rejection, no
allocation while feeding, and the spec's Thawte vector."""

import binascii
import io
import sys

from ubxsec.pem import PemDecoder, new_md5
from ubxsec import md5 as md5_module
from ubxsec.md5 import MD5
from checks import data_file
from alloc import allocated

THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"  # from the spec's example

# RFC 1321, appendix A.5
RFC1321_VECTORS = (
    (b"", "d41d8cd98f00b204e9800998ecf8427e"),
    (b"a", "0cc175b9c0f1b6a831c399e269772661"),
    (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
    (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
    (b"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"),
    (b"1234567890" * 8, "57edf4a22be3c955ac49da2e2107b67a"),
)
# MD5 of _pattern(n) around the block and padding boundaries (computed once
# with CPython's hashlib; ports without hashlib.md5 check against these)
PATTERN_VECTORS = (
    (0, "d41d8cd98f00b204e9800998ecf8427e"),
    (1, "89e74e640b8c46257a29de0616794d5d"),
    (55, "852e13533f66e414bbbbb3348de4f81f"),
    (56, "98e8cb3457434649644b5fe9f4e5e4fa"),
    (63, "c9803ddca3b148d91d5f214be64197d4"),
    (64, "bc00c8534af1e5aef0ede584d8ad5bc3"),
    (65, "4e114d3e0baf5ace365e0552a3273291"),
    (127, "886a64f47659d525b55b12fac127c4a1"),
    (128, "154b8c17cfb174384edd9557e3e64e2b"),
    (1060, "80256b4d506372827996558f6d73a293"),
)


def _pattern(n):
    return bytes((i * 131 + 7) & 0xFF for i in range(n))


def md5_hex(data):
    # the library's MD5 (hashlib.md5, or the fallback: both checked against
    # the fixed vectors below)
    h = new_md5()
    h.update(data)
    return binascii.hexlify(h.digest()).decode()


def make_pem(der, label="CERTIFICATE", eol=b"\n", width=64, final_eol=True):
    """A PEM built with binascii's encoder, independent of the decoder."""
    b64 = binascii.b2a_base64(der).strip()
    out = bytearray(b"-----BEGIN " + label.encode() + b"-----" + eol)
    for i in range(0, len(b64), width):
        out += b64[i:i + width] + eol
    out += b"-----END " + label.encode() + b"-----"
    if final_eol:
        out += eol
    return bytes(out)


def decode(pem, step=None):
    """(DER, hex MD5) of pem fed in chunks of `step` bytes (None: at once)."""
    der = bytearray()
    dec = PemDecoder()
    dec.reset(sink=lambda mv: der.extend(mv))
    if step is None:
        dec.feed(pem)
    else:
        for i in range(0, len(pem), step):
            dec.feed(pem[i:i + step])
    n = dec.finish()
    assert n == len(der)
    return bytes(der), binascii.hexlify(dec.digest()).decode()


def rejected(pem, words):
    """pem must be refused whole and byte by byte, naming `words`."""
    for step in (None, 1, 7):
        try:
            decode(pem, step)
        except ValueError as exc:
            assert words in str(exc), "%r not in %r" % (words, str(exc))
        else:
            raise AssertionError("accepted (step %r): %r" % (step, pem[:60]))


def thawte_der():
    return data_file("thawte.der")


def test_thawte_vector_from_the_spec():
    pem = data_file("thawte.pem")
    assert len(pem) == 1516 and pem.count(b"\r\n") == 24
    der, md5 = decode(pem)
    assert md5 == THAWTE_MD5
    assert der == thawte_der()


def test_chunk_boundary_sweep_crlf_and_lf():
    pem_crlf = data_file("thawte.pem")
    pem_lf = pem_crlf.replace(b"\r\n", b"\n")
    assert len(pem_lf) == 1516 - 24
    want = thawte_der()
    for pem in (pem_crlf, pem_lf):
        for step in range(1, 100):
            der, md5 = decode(pem, step)
            assert der == want, "step %d" % step
            assert md5 == THAWTE_MD5
        for step in (127, 255, 256, 257, 1000, 1515, 1516):
            assert decode(pem, step)[1] == THAWTE_MD5


def test_every_split_point_of_begin_crlf_and_end():
    pem = data_file("thawte.pem")
    for cut in range(0, len(pem) + 1):
        if 40 < cut < len(pem) - 60 and cut % 97:
            continue  # the body is covered by the sweep; keep the run short
        dec = PemDecoder()
        dec.reset()
        dec.feed(pem[:cut])
        dec.feed(pem[cut:])
        dec.finish()
        assert binascii.hexlify(dec.digest()).decode() == THAWTE_MD5, cut


def test_any_der_length_and_padding():
    # lengths 1..70 cover no padding, '=' and '==' at every group position
    for n in range(1, 71):
        # never a SEQUENCE header (0x30): its length would be checked
        der = bytes((i * 37 + n) & 0xFF ^ (i == 0 and n == 0x30) for i in range(n))
        for eol in (b"\n", b"\r\n"):
            pem = make_pem(der, "PRIVATE KEY", eol)
            got, md5 = decode(pem, 5)
            assert got == der, n
            assert md5 == md5_hex(der)


def test_line_width_and_missing_final_newline():
    der = thawte_der()
    for width in (4, 60, 76, 2000):
        assert decode(make_pem(der, width=width, final_eol=False), 3)[0] == der


def test_surrounding_whitespace_is_tolerated():
    der = thawte_der()
    pem = b" \r\n\t\n" + make_pem(der, eol=b"\r\n") + b"\r\n\r\n  \n"
    assert decode(pem, 2)[0] == der


def test_label_is_reported():
    dec = PemDecoder()
    dec.reset()
    dec.feed(make_pem(b"\x30\x00", "EC PRIVATE KEY"))
    dec.finish()
    assert dec.label == "EC PRIVATE KEY"


def test_rejects_missing_begin():
    body = make_pem(thawte_der()).split(b"\n", 1)[1]
    rejected(body, "BEGIN")
    rejected(b"", "BEGIN")
    rejected(b"  \r\n", "BEGIN")
    rejected(b"text\n" + make_pem(b"\x30\x00"), "BEGIN")


def test_rejects_mismatched_end_label():
    pem = make_pem(b"\x30\x03\x02\x01\x05").replace(b"END CERTIFICATE", b"END PRIVATE KEY")
    rejected(pem, "END line")
    rejected(make_pem(b"\x30\x00").replace(b"-----END", b"----END"), "END line")


def test_rejects_extension_headers():
    pem = (b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
           b"DEK-Info: DES-EDE3-CBC,0123456789ABCDEF\n\nMIIB\n-----END RSA PRIVATE KEY-----\n")
    rejected(pem, "Proc-Type")
    pem = b"-----BEGIN PRIVATE KEY-----\nDEKInfo:AAAA\nMIIB\n-----END PRIVATE KEY-----\n"
    rejected(pem, "Proc-Type")


def test_rejects_ec_parameters_block():
    pem = (make_pem(b"\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", "EC PARAMETERS")
           + make_pem(b"\x30\x00", "EC PRIVATE KEY"))
    rejected(pem, "EC PARAMETERS")


def test_rejects_bad_base64():
    good = make_pem(thawte_der())
    rejected(good.replace(b"MIIE", b"MI*E", 1), "bad base64")
    rejected(good.replace(b"MIIE", b"MI E", 1), "bad base64")
    rejected(good.replace(b"MIIE", b"M=IE", 1), "padding")
    rejected(make_pem(b"\x30\x01\x05").replace(b"MAEF", b"MAEFA"), "group")
    rejected(make_pem(b"\x30").replace(b"==", b"="), "padding")
    rejected(make_pem(b"\x30").replace(b"==", b"==A"), "padding")
    rejected(make_pem(b"\x30\x01").replace(b"=", b"=="), "padding")


def test_rejects_blank_line_and_bare_cr():
    good = make_pem(thawte_der())
    rejected(good.replace(b"\n", b"\n\n", 3), "blank line")
    rejected(good.replace(b"\n", b"\r"), "")  # old Mac line ends
    lines = good.split(b"\n")
    lines[2] = lines[2][:10] + b"\r" + lines[2][10:]
    rejected(b"\n".join(lines), "CR not followed by LF")


def test_rejects_more_than_one_object():
    one = make_pem(b"\x30\x00")
    rejected(one + one, "more than one")
    rejected(one + b"trailing words\n", "after the END")


def test_rejects_truncated_and_empty():
    pem = make_pem(thawte_der())
    rejected(pem[:200], "truncated")
    rejected(pem[:-30], "truncated")
    rejected(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "empty")
    rejected(b"-----BEGIN -----\nMIIB\n-----END -----\n", "BEGIN line")
    rejected(b"-----BEGIN " + b"X" * 100 + b"-----\n", "too long")


def _feed_all(dec, src, buf):
    while True:
        n = src.readinto(buf)
        if not n:
            return
        dec.feed(buf, n)


def test_feeding_allocates_nothing():
    pem = data_file("thawte.pem")
    src = io.BytesIO(pem)  # readinto copies without allocating
    buf = bytearray(61)
    dec = PemDecoder()
    dec.reset()
    assert allocated(_feed_all, dec, src, buf) == 0
    dec.finish()
    assert binascii.hexlify(dec.digest()).decode() == THAWTE_MD5


def _hex(h):
    return binascii.hexlify(h.digest()).decode()


def _transforms():
    """The bytecode block transform, and the native one where the port has it."""
    found = [md5_module._transform]
    fast = md5_module._fast()
    if fast is not None:
        found.append(fast)
    return found


def _md5_with(tf, data=None):
    h = MD5()
    h._tf = tf
    if data is not None:
        h.update(data)
    return h


def test_native_md5_where_the_port_emits_native_code():
    native = getattr(sys.implementation, "_mpy", 0) >> 10
    assert (md5_module._fast() is not None) == bool(native), native
    if native:
        assert MD5()._tf is md5_module._fast()
        # the copy into the block buffer (updates off a block boundary) too
        assert type(md5_module._copy) is not type(md5_module._load)   # native, not bytecode


def test_md5_copy_off_block_boundaries():
    data = _pattern(300)
    for tf in _transforms():
        for cut in (1, 3, 63, 65, 100):
            h = _md5_with(tf)
            h.update(data[:cut])
            h.update(memoryview(data)[cut:])
            assert _hex(h) == _hex(_md5_with(tf, data)) == md5_hex(data), (tf, cut)


def test_native_base64_where_the_port_emits_native_code():
    native = getattr(sys.implementation, "_mpy", 0) >> 10
    dec = PemDecoder()
    assert (dec._st is not None) == bool(native), native   # the state the native run shares
    assert "ubxsec.pem_viper" not in sys.modules
    assert not hasattr(sys.modules["ubxsec"], "pem_viper")


def test_base64_decodes_every_split_and_line_form():
    # natively where the port can (chunks entering and leaving the native run
    # at any byte), in bytecode elsewhere: the same DER
    der = thawte_der()
    for pem in (make_pem(der), make_pem(der, eol=b"\r\n"), make_pem(der, width=76),
                make_pem(der, width=100000, eol=b"", final_eol=False)):
        for step in (None, 1, 2, 3, 5, 61, 64, 65, 256):
            got, md5 = decode(pem, step)
            assert md5 == THAWTE_MD5 and got == der, step


def test_native_md5_source_is_not_kept_in_ram():
    md5_module._fast()
    assert "ubxsec.md5_viper" not in sys.modules
    assert not hasattr(sys.modules["ubxsec"], "md5_viper")


def test_md5_matches_fixed_vectors():
    for tf in _transforms():
        for data, want in RFC1321_VECTORS:
            assert _hex(_md5_with(tf, data)) == want, (tf, data)
        for n, want in PATTERN_VECTORS:
            data = _pattern(n)
            h = _md5_with(tf)
            h.update(data[: n // 3])
            h.update(data[n // 3:])
            assert _hex(h) == want, (tf, n)
        assert _hex(_md5_with(tf, thawte_der())) == THAWTE_MD5
    for data, want in RFC1321_VECTORS:
        assert md5_hex(data) == want, data   # the library's choice (hashlib or MD5)


def _update_both(h, block, view):
    h.update(block)
    h.update(view)


def test_md5_fallback_allocates_nothing_per_block():
    block = bytearray(range(200))
    view = memoryview(block)
    one = memoryview(block)[:1]
    for tf in _transforms():
        h = _md5_with(tf)
        _update_both(h, block, view)  # warm up
        assert allocated(_update_both, h, block, view) == 0, tf
        # byte by byte through the buffered path too
        assert allocated(h.update, one) == 0, tf


def test_one_line_pem_and_lines_of_any_length():
    der = thawte_der()
    # the whole object on one line (no line end after BEGIN or before END),
    # as public client code sends it; with and without a final line end
    for final in (b"", b"\n", b"\r\n"):
        pem = make_pem(der, width=100000, eol=b"", final_eol=False) + final
        assert b"\n" not in pem.rstrip()
        for step in (None, 1, 7, 64):
            got, md5 = decode(pem, step)
            assert md5 == THAWTE_MD5 and got == der, (final, step)
    # one body line of 1,400 characters between a BEGIN and an END line
    for eol in (b"\n", b"\r\n"):
        got, md5 = decode(make_pem(der, width=100000, eol=eol), 5)
        assert md5 == THAWTE_MD5 and got == der


def test_one_line_pem_rejections():
    der = thawte_der()
    one = make_pem(der, width=100000, eol=b"", final_eol=False)
    rejected(one[:-20], "END line")                      # END cut short
    rejected(one.replace(b"-----END", b"----END"), "bad base64")  # four dashes
    rejected(one.replace(b"-----END CERTIFICATE", b"-----END PRIVATE KEY"), "END line")
    rejected(one[:one.index(b"-----END")], "no END line")   # truncated body
    # a stray digit right before the END dashes (the body ends in '=')
    rejected(one.replace(b"-----END", b"A-----END"), "padding")


def _outcome(pem, step, bytecode):
    """decode()'s result or its error's text, natively or in bytecode."""
    from ubxsec import pem as pem_module
    saved = pem_module._attach
    if bytecode:
        pem_module._attach = None   # decoders made now take the bytecode path
    try:
        return decode(pem, step)
    except ValueError as exc:
        return str(exc)
    finally:
        pem_module._attach = saved


def test_native_and_bytecode_decoders_agree_on_damaged_input():
    # same DER and MD5, or the same error at the same byte, whichever path
    # decodes (on a port without a native emitter both are bytecode)
    good = make_pem(thawte_der())
    seed = 12345
    for case in range(40):
        seed = (seed * 1103515245 + 12345) & 0x3FFFFFFF
        pos = 30 + seed % (len(good) - 60)
        bad = bytearray(good)
        bad[pos] = b"=-\n\r !A:"[case % 8]
        for step in (None, 5, 64, 256):
            native = _outcome(bytes(bad), step, False)
            assert native == _outcome(bytes(bad), step, True), (case, pos, step, native)
