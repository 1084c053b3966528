"""Typed exceptions: every failure the library reports is one of these, or
ValueError for a bad argument caught before any byte is written."""

from typing import Any, Callable, Generator

class UbxError(Exception):
    """Base of every error the library raises about the module."""

class AtError(UbxError):
    """The module answered a plain ERROR (AT+CMEE=0)."""

class CmeError(AtError):
    """+CME ERROR: the module refused a command.

    code: the numeric code (the spec's table maps verbose texts to it), or
    None if the text is not in the table. text: the module's verbose text,
    or None. str(e) says what was refused (operation, kind and name or
    file; never a secret), the module's text and code, and the likely cause.
    """

    code: int | None
    text: str | None
    what: str | None
    hint: str | None
    def __init__(self, code: int | None = None, text: str | None = None,
                 what: str | None = None, hint: str | None = None) -> None: ...

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

def refused(exc: AtError, what: str, hint: str | None = None) -> AtError:
    """The module's refusal exc restated for `what`: a CmeError keeps its
    code, text and hint."""

def named(gen: Generator[Any, Any, Any], what: str,
          hint: str | None = None) -> Generator[Any, Any, Any]:
    """Generator: runs gen (an engine exchange, or one built over them) and
    returns its value; a refusal is raised as refused() restates it."""
