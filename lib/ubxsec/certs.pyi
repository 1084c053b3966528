"""+USECMNG: import, list, remove and check certificates and private keys.

Kinds are CA, CC, PK, SC (0-3) or the strings "CA", "CC", "PK", "SC".
Every import is verified end to end: the MD5 of the DER the module stores
is computed while the data streams and compared with the module's answer.
A bad argument raises ValueError before a byte is written; a refusal by
the module raises CmeError naming the operation, kind, name or file.
"""

from typing import Any, Final, NamedTuple

CA: Final = 0
CC: Final = 1
PK: Final = 2
SC: Final = 3
KINDS: tuple[str, str, str, str]

_Data = bytes | bytearray | memoryview

class Entry(NamedTuple):
    """One line of the module's list: kind "CA"/"CC"/"PK"/"SC", internal
    name, common name (or None) and expiry (or None)."""

    kind: str
    name: str
    common_name: str | None
    expiry: str | None

def kind_code(kind: int | str) -> int:
    """0-3 for a kind given as int or string; ValueError for anything else."""

class Certs:
    baud: int
    def __init__(self, at: object, baud: int = 9600) -> None:
        """baud: the UART's rate; an import's timeout adds its wire time."""
    def import_file(self, path: str, kind: int | str, name: str,
                    password: str | None = None, replace: bool = False) -> str:
        """Import a DER or PEM file (one object, at most 8192 bytes) from the
        board's file system, streamed in chunks; returns the verified MD5
        (32 lowercase hex digits). password: only for a DER private key
        (PK). The module keeps one entry per name whatever its kind: the
        other kinds are listed first, and an entry of another kind under
        that name (which the import would replace) is a ValueError naming
        it unless replace=True (which also skips the listings). A missing
        file is an OSError naming the path. The timeout grows with the size
        at the UART's baud rate; after a timeout, Ctrl-C or a cancelled
        task the exception says whether the module holds the item (from
        its MD5)."""
    def import_bytes(self, data: _Data, kind: int | str, name: str,
                     password: str | None = None, replace: bool = False) -> str:
        """Import DER or PEM held in memory; returns the verified MD5.
        replace: as import_file()."""
    def import_from_module_file(self, filename: str, kind: int | str, name: str,
                                password: str | None = None,
                                expect_md5: str | None = None) -> str:
        """Import a file already on the module's file system (op code 1);
        returns the module's MD5 (checked against expect_md5 if given).
        Package ubxsec-modfile, as der_md5() and upload()."""
    def der_md5(self, src: str | _Data, kind: int | str = 0) -> str:
        """MD5 of the DER the module would store for a local file path or
        DER/PEM bytes, checked as an import of `kind` would be."""
    def upload(self, src: str | _Data, module_filename: str) -> int:
        """Write a local file or bytes to the module's file system
        (AT+UDWNFILE), byte for byte; returns the size."""
    def remove(self, kind: int | str, name: str) -> None:
        """Delete a stored item."""
    def md5(self, kind: int | str, name: str) -> str:
        """The module's MD5 (32 lowercase hex digits) of a stored item."""
    def list(self, kind: int | str | None = None) -> list[Entry]:
        """User entries and pre-installed roots, in the module's order."""
    def transfer_ms(self, size: int) -> int:
        """Timeout of a '>' transfer of size bytes: the engine's timeout plus
        the data's wire time at the UART's baud rate, +25%."""

class Source:
    """A '>' data source for the engine (source.fill), hashing what the
    module will store: for extensions (ubxsec.modfile)."""

    def __init__(self, reader: Any, md5: Any = None, decoder: Any = None,
                 buf: Any = None, pos: int = 0) -> None: ...
    def fill(self, mv: memoryview) -> int: ...
    def digest(self) -> bytes: ...
