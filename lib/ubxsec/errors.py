"""Typed exceptions: every failure the library reports is one of these,
or ValueError for a bad argument caught before any byte is written."""


class UbxError(Exception):
    """Base of every error the library raises about the module."""


class AtError(UbxError):
    """The module answered a plain ERROR (AT+CMEE=0)."""


class CmeError(AtError):
    """+CME ERROR: carries the numeric code (or None) and the verbose text (or None)."""

    def __init__(self, code=None, text=None):
        super().__init__(code if text is None else text)
        self.code = code
        self.text = text


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
