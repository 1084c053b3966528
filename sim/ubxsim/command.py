"""What a command handler receives and may return.

The engine (engine.py) splits a command line `AT+NAME=...` into its name, its
kind and its parameters, and calls the handler registered for NAME:

    handler(device, kind, params) -> list[str] | Prompt

kind is one of SET (`AT+X=...`), READ (`AT+X?`), TEST (`AT+X=?`), ACTION
(`AT+X`). params is a list for SET and empty otherwise: a quoted string is a
`str`, a bare number an `int`, an omitted parameter (`1,,2`) `None`.

The handler returns the information lines to send before OK (without CRLF),
or a Prompt when the command continues with a data phase, or raises
cme.CmeError.
"""

from .cme import CmeError, INCORRECT_PARAMETERS

SET, READ, TEST, ACTION = "set", "read", "test", "action"


class Prompt:
    """Ask the engine for a `>` data phase of exactly `size` bytes.

    The engine sends `>` (no CRLF), collects `size` bytes while the guard
    timer runs, then calls `on_data(data)`, which returns the information
    lines of the final response or raises CmeError. If the guard timer
    expires, or the module restarts, on_data is never called and nothing is
    stored (the engine answers with an error).
    """

    def __init__(self, size, on_data):
        self.size = size
        self.on_data = on_data


def parse_params(text):
    """Parse the text after '=' into a list of str / int / None.

    Strings are double-quoted and may hold any byte but '"' (V.250 has no
    escape inside a string constant). Anything else must be a decimal
    number. Raises CmeError(INCORRECT_PARAMETERS) on malformed input.
    """
    params = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise CmeError(INCORRECT_PARAMETERS, "unterminated string")
            params.append(text[i + 1:end])
            i = end + 1
        else:
            end = text.find(",", i)
            if end < 0:
                end = n
            token = text[i:end].strip()
            if token == "":
                params.append(None)
            elif token.isdigit() and token.isascii():
                params.append(int(token))
            else:
                raise CmeError(INCORRECT_PARAMETERS, "bad token %r" % token)
            i = end
        if i == n:
            return params
        if text[i] != ",":
            raise CmeError(INCORRECT_PARAMETERS, "junk after parameter")
        i += 1
        if i == n:  # trailing comma: an omitted last parameter
            params.append(None)
            return params


def quote(value):
    """Render a str parameter for a response line."""
    return '"%s"' % value
