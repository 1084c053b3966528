"""Typed exceptions: every failure the library reports is one of these,
or ValueError for a bad argument caught before any byte is written.

For the command families and extensions: refused() restates a refusal for
what was refused, named() does it for a whole exchange (the one path every
family takes, so each refusal says what it refused the same way)."""

# what `from .errors import *` gives the package's top level
__all__ = ["AtError", "AtTimeout", "CmeError", "ProtocolError", "RingOverflow", "TransferError",
           "UbxError", "VerifyError"]


class UbxError(Exception):
    """Base of every error the library raises about the module."""


class AtError(UbxError):
    """The module answered a plain ERROR (AT+CMEE=0)."""


# The 3GPP TS 27.007 (clause 9.2) texts that the security and file commands
# answer in verbose mode (AT+CMEE=2), so that a verbose error still carries
# its number. One string: no objects built at import.
_CME_TEXTS = ("|3:operation not allowed|4:operation not supported|20:memory full"
              "|21:invalid index|22:not found|23:memory failure|24:text string too long"
              "|25:invalid characters in text string|50:incorrect parameters|100:unknown|")


def _cme_code(text):
    """The number of a verbose +CME ERROR text, or None if the table lacks it."""
    i = _CME_TEXTS.find(":%s|" % text.strip().lower())
    if i > 0:
        return int(_CME_TEXTS[_CME_TEXTS.rfind("|", 0, i) + 1:i])


def _cme_text(code):
    """The 27.007 text of a numeric code (AT+CMEE=1), or None."""
    i = _CME_TEXTS.find("|%d:" % code)
    if i >= 0:
        i = _CME_TEXTS.find(":", i) + 1
        return _CME_TEXTS[i:_CME_TEXTS.find("|", i)]


class CmeError(AtError):
    """+CME ERROR: carries the numeric code (or None), the verbose text (or
    None), `what` was refused (operation, kind and name or file; never a
    secret) and the hint (the likely cause, or what a workaround got). A verbose text known to 3GPP TS 27.007 also gets its code, a
    known code its text. str(e): what, text, code and the likely cause."""

    def __init__(self, code=None, text=None, what=None, hint=None):
        if code is None and text:
            code = _cme_code(text)
        msg = text or (code is not None and _cme_text(code)) or "refused"
        if code is not None:
            msg += " (+CME ERROR: %d)" % code
        if what:
            msg = what + ": " + msg
        if hint:
            msg += "; " + hint
        super().__init__(msg)
        self.code = code
        self.text = text
        self.what = what
        self.hint = hint


def refused(exc, what, hint=None):
    """The module's refusal exc (AtError or CmeError) restated for `what`."""
    if isinstance(exc, CmeError):
        if exc.hint:  # kept: e.g. what a workaround for the refusal got
            hint = exc.hint + ("; " + hint if hint else "")
        return CmeError(exc.code, exc.text, what, hint)
    return AtError(what + ": ERROR" + ("; " + hint if hint else ""))


def named(gen, what, hint=None):
    """Generator: runs gen (an engine exchange, or one built over them) and
    returns its value; a refusal (AtError) is raised as refused() says."""
    try:
        return (yield from gen)
    except AtError as exc:
        raise refused(exc, what, hint)


class AtTimeout(UbxError):
    """No final result code arrived in time; the engine resynchronises next."""


class ProtocolError(UbxError):
    """The module sent something the spec does not allow here."""


class VerifyError(UbxError):
    """The module's MD5 of an imported item differs from the one computed here."""


class RingOverflow(UbxError):
    """Received bytes were lost because the RX ring buffer was full."""


class TransferError(UbxError):
    """A '>' data transfer stopped before `size` bytes were sent because the
    source ran dry; nothing was padded, the module discards the partial data."""
