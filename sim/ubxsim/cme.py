"""+CME ERROR codes: one table gives both the numeric and the verbose form.

Numbers follow 3GPP TS 27.007 clause 9.2, which u-blox modules use for the
commands the simulator implements.
"""

PHONE_FAILURE = 0
NOT_ALLOWED = 3
NOT_SUPPORTED = 4
MEMORY_FULL = 20
INVALID_INDEX = 21
NOT_FOUND = 22
MEMORY_FAILURE = 23
TEXT_TOO_LONG = 24
INVALID_CHARS = 25
TIMEOUT = 31
INCORRECT_PARAMETERS = 50
UNKNOWN = 100

TEXTS = {
    PHONE_FAILURE: "phone failure",
    NOT_ALLOWED: "operation not allowed",
    NOT_SUPPORTED: "operation not supported",
    MEMORY_FULL: "memory full",
    INVALID_INDEX: "invalid index",
    NOT_FOUND: "not found",
    MEMORY_FAILURE: "memory failure",
    TEXT_TOO_LONG: "text string too long",
    INVALID_CHARS: "invalid characters in text string",
    TIMEOUT: "network timeout",
    INCORRECT_PARAMETERS: "incorrect parameters",
    UNKNOWN: "unknown",
}


class CmeError(Exception):
    """Raised by a command handler; the engine renders it per AT+CMEE."""

    def __init__(self, code, detail=""):
        super().__init__(code, detail)
        self.code = code
        self.text = TEXTS.get(code, "unknown")
        # detail is for logs and test diagnostics only; never sent on the wire
        self.detail = detail
        # set by a module model (models.py): the series' own verbose answer
        # ("" = the model's text for the code, None = the number), and a
        # refusal that is a bare ERROR whatever AT+CMEE says
        self.own_text = ""
        self.plain = False
