"""pem.PemDecoder checks no other test pins (the self-audit of issue 19
item 17): each rule of its docstring that a plausible slip could break with
every other test still passing. Fed whole and byte by byte."""

import binascii

from ubxsec.pem import PemDecoder

# a 7-byte SEQUENCE: its base64 ends in "==", so every padding case is near
DER = b"\x30\x05\x04\x03abc"
B64 = binascii.b2a_base64(DER).strip()  # b"MAUEA2FiYw=="
BEGIN = b"-----BEGIN CERTIFICATE-----"
END = b"-----END CERTIFICATE-----"


def _decode(pem, step):
    dec = PemDecoder()
    if step is None:
        dec.feed(pem)
    else:
        for i in range(0, len(pem), step):
            dec.feed(pem[i:i + step])
    dec.finish()
    return dec


def _accepted(pem):
    for step in (None, 1, 5):
        dec = _decode(pem, step)
        assert dec.der_len == len(DER), (step, dec.der_len)
    return dec


def _rejected(pem, words):
    for step in (None, 1, 5):
        try:
            _decode(pem, step)
        except ValueError as exc:
            assert words in str(exc), "%r not in %r (step %r)" % (words, str(exc), step)
        else:
            raise AssertionError("accepted (step %r): %r" % (step, pem))


def test_the_reference_forms_are_accepted():
    want = _decode(BEGIN + b"\n" + B64 + b"\n" + END + b"\n", None).digest()
    for pem in (BEGIN + b"\r\n" + B64 + b"\r\n" + END + b"\r\n", BEGIN + B64 + END):
        assert _accepted(pem).digest() == want


def test_an_incomplete_padding_is_refused_in_the_one_line_form_too():
    one = B64[:-1]  # "...Yw=": one '=' of two
    _rejected(BEGIN + b"\n" + one + b"\n" + END + b"\n", "padding")
    _rejected(BEGIN + one + END, "padding")


def test_a_partial_group_is_refused_in_the_one_line_form_too():
    part = B64[:-2]  # "...Yw": a group of two digits
    _rejected(BEGIN + b"\n" + part + b"\n" + END + b"\n", "partial base64 group")
    _rejected(BEGIN + part + END, "partial base64 group")


def test_padding_after_a_single_digit_is_misplaced():
    for body in (B64[:-3] + b"=", B64[:-3] + b"==", B64[:-3] + b"==="):  # "...Y="
        _rejected(BEGIN + b"\n" + body + b"\n" + END + b"\n", "misplaced")


def test_an_end_label_longer_or_shorter_than_the_begin_label_is_refused():
    for end in (b"-----END CERTIFICATES-----", b"-----END CERTIFICAT-----",
                b"-----END CERTIFICATE -----", b"-----END X509 CERTIFICATE-----"):
        _rejected(BEGIN + b"\n" + B64 + b"\n" + end + b"\n", "END line mismatch")


def test_a_label_that_starts_or_ends_with_a_dash_or_a_space_is_refused():
    for label in (b"-CERTIFICATE", b" CERTIFICATE", b"CERTIFICATE ", b"CERTIFICATE-"):
        pem = b"-----BEGIN " + label + b"-----\n" + B64 + b"\n-----END " + label + b"-----\n"
        try:
            _decode(pem, None)
        except ValueError:
            pass
        else:
            raise AssertionError("label %r accepted" % label)
    _rejected(b"-----BEGIN -CERTIFICATE-----\n" + B64 + b"\n-----END -CERTIFICATE-----\n",
              "bad BEGIN label")
    _rejected(b"-----BEGIN  CERTIFICATE-----\n" + B64 + b"\n-----END  CERTIFICATE-----\n",
              "bad BEGIN label")


def test_whitespace_after_the_end_line_is_allowed():
    for tail in (b"  \n", b"\t\r\n", b" ", b"\n\n \t\n"):
        _accepted(BEGIN + b"\n" + B64 + b"\n" + END + tail)


def test_spaces_inside_the_block_are_refused():
    for body in (B64[:4] + b" " + B64[4:], b" " + B64, b"\t" + B64, B64[:8] + b" \n" + B64[8:],
                 B64[:4] + b"\t" + B64[4:]):
        _rejected(BEGIN + b"\n" + body + b"\n" + END + b"\n", "bad base64 character")


def test_data_fed_after_finish_is_refused():
    dec = _decode(BEGIN + b"\n" + B64 + b"\n" + END + b"\n", None)
    try:
        dec.feed(b"\n")
    except ValueError as exc:
        assert "after finish" in str(exc), str(exc)
    else:
        raise AssertionError("fed after finish()")
    dec.feed(b"")  # nothing: not an error
