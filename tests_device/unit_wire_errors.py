"""The final result +CME ERROR in every form a module sends (issue 19 item
17): with or without a space after the colon, numeric or verbose, and the
text of every code the library names, pinned here so that a change to the
table shows. Through the engine's public commands on the fake UART."""

from ubxsec import errors
from fakeuart import reply
from checks import raises
from wirekit import CHIP, CHIP_LINES, engine, table

# every code the library names a 3GPP TS 27.007 text for, and that text
NAMED = ((3, "operation not allowed"), (4, "operation not supported"), (20, "memory full"),
         (21, "invalid index"), (22, "not found"), (23, "memory failure"),
         (24, "text string too long"), (25, "invalid characters in text string"),
         (50, "incorrect parameters"), (100, "unknown"))


def _refusal(line, echo=False):
    """The CmeError the engine raises for a command answered `line`, and
    whether the next command is in sync without a resync."""
    uart, at = engine(table({b"AT+X=1": reply(b"+X: 1", line), b"AT+USECCHIP": CHIP}),
                      echo=echo)
    exc = raises(errors.CmeError, at.command, "+X=1")
    assert at.command("+USECCHIP") == CHIP_LINES and at.resyncs == 0, line
    return exc


def test_cme_error_without_a_space_gives_its_code():
    for line, code in ((b"+CME ERROR:22", 22), (b"+CME ERROR: 22", 22), (b"+CME ERROR:  22 ", 22),
                       (b"+CME ERROR:1912", 1912), (b"+CME ERROR:0", 0)):
        for echo in (False, True):
            exc = _refusal(line, echo)
            assert exc.code == code and exc.text is None, (line, exc.code, exc.text)


def test_verbose_cme_error_without_a_space_gives_its_text_and_code():
    exc = _refusal(b"+CME ERROR:not found")
    assert exc.code == 22 and exc.text == "not found", (exc.code, exc.text)
    exc = _refusal(b"+CME ERROR:USECMNG invalid certificate/key format")
    assert exc.code is None and exc.text == "USECMNG invalid certificate/key format"


def test_the_text_of_every_named_code():
    for code, text in NAMED:
        exc = _refusal(b"+CME ERROR: %d" % code)
        assert exc.code == code and exc.text is None
        assert str(exc) == "%s (+CME ERROR: %d)" % (text, code), (code, str(exc))


def test_every_named_text_gives_its_code_in_any_case():
    for code, text in NAMED:
        for form in (text, text.upper(), text[0].upper() + text[1:]):
            exc = _refusal(b"+CME ERROR: " + form.encode())
            assert exc.code == code and exc.text == form, (form, exc.code)
            assert str(exc) == "%s (+CME ERROR: %d)" % (form, code), str(exc)


def test_a_code_the_library_does_not_name_keeps_its_number_alone():
    for code in (1, 26, 99, 1503, 1620):
        exc = _refusal(b"+CME ERROR: %d" % code)
        assert exc.code == code and str(exc) == "refused (+CME ERROR: %d)" % code, str(exc)
    exc = _refusal(b"+CME ERROR: not found at all")
    assert exc.code is None and str(exc) == "not found at all", str(exc)
