"""+USECPRF: one (D)TLS security profile of the module (ids 0-4).

Each op code has a method named after what it sets. Called with a value it
sets it; called without one it reads it back (the key password and the PSK
are write-only). Every value is checked before a byte is written: a bad one
raises ValueError naming the setting, the rule and the allowed range.
"""

from typing import Any, Callable, Final, Generator, Literal, overload

LEGACY: Final = "legacy"
IANA: Final = "iana"
LIST: Final = "list"

_Codes = int | list[int] | tuple[int, ...]
_Ciphers = tuple[Literal["legacy"], int] | tuple[Literal["iana"], int] | tuple[Literal["list"], list[int]]

class SecurityProfile:
    """Every method that talks to the module returns at.run() of a generator
    over the engine's exchanges: a value on Module, an awaitable on
    ubxsec.aio's engine. send(), exchange(), put(), read_op(), reader() and
    batch are the surface the extensions (profiles_more, session) use."""

    id: int
    at: Any
    batch: list[Any] | None
    def __init__(self, at: object, profile_id: int) -> None: ...
    def send(self, cmd: str, secret: bool = False, data: Any = None) -> None:
        """Send cmd now (data: (size, source) after a '>' prompt), or add it
        to the batch apply() is collecting."""
    def exchange(self, cmd: str, secret: bool = False, data: Any = None) -> Generator[Any, Any, list[str]]:
        """Generator: cmd now, never batched; its answer lines. A refusal
        names what was refused, never a value."""
    def put(self, op: int, text: str, secret: bool = False) -> None:
        """Set op code op to text (checked parameters), as send()."""
    def read_op(self, op: int, parse: Callable[[list[Any], Any], Any], arg: Any = None,
                tag: int | None = None, secret: bool = False) -> Generator[Any, Any, Any]:
        """Generator: op code op (and tag) read back; parse(fields, arg)."""
    def reader(self, key: str) -> Generator[Any, Any, Any]:
        """Generator reading setting `key` back, as its getter returns it."""

    @overload
    def validation_level(self, value: None = None) -> int: ...
    @overload
    def validation_level(self, value: int) -> None:
        """0 none, 1 root of trust, 2 + hostname, 3 + date."""
    @overload
    def tls_version(self, value: None = None) -> int: ...
    @overload
    def tls_version(self, value: int) -> None:
        """0 any, 1-4 TLS 1.0-1.3 (the module may refuse 1.3)."""
    @overload
    def ca_name(self, value: None = None) -> str: ...
    @overload
    def ca_name(self, value: str) -> None:
        """Internal name of the trusted root (up to 200 chars)."""
    @overload
    def server_hostname(self, value: None = None) -> str: ...
    @overload
    def server_hostname(self, value: str) -> None:
        """Hostname checked at validation levels 2 and 3 (up to 256 chars)."""
    @overload
    def client_cert_name(self, value: None = None) -> str: ...
    @overload
    def client_cert_name(self, value: str) -> None:
        """Internal name of the client certificate (up to 200 chars)."""
    @overload
    def client_key_name(self, value: None = None) -> str: ...
    @overload
    def client_key_name(self, value: str) -> None:
        """Internal name of the client private key (up to 200 chars)."""
    @overload
    def sni(self, value: None = None) -> str: ...
    @overload
    def sni(self, value: str) -> None:
        """Server Name Indication (up to 128 chars)."""
    @overload
    def psk_from_rot(self, value: None = None) -> bool: ...
    @overload
    def psk_from_rot(self, value: bool | int) -> None:
        """PSK and identity from the root of trust."""
    @overload
    def ztp(self, value: None = None) -> int: ...
    @overload
    def ztp(self, value: int) -> None:
        """Zero touch provisioning: 0 none, 1 CA and client, 2 client only."""
    @overload
    def alpn(self, value: None = None) -> str: ...
    @overload
    def alpn(self, value: str) -> None:
        """ALPN protocol name (up to 255 chars)."""
    @overload
    def database(self, value: None = None) -> int: ...
    @overload
    def database(self, value: int) -> None:
        """Roots to trust: 0 all, 1 user only, 2 pre-installed only."""

    def reset(self) -> None:
        """Factory values for every setting of this profile."""
    def cipher_suite(self, legacy: int) -> None:
        """Legacy suite number 0-33; 0 is the default list."""
    def cipher_suite_iana(self, code: int) -> None:
        """Exactly one suite, by IANA code of the spec's Table 26 (e.g. 0xC02B).
        The IANA forms, ciphers(), apply() and read_all(): package
        ubxsec-profiles_more."""
    def add_cipher(self, codes: _Codes) -> None:
        """Add a code, or each of a list, to the suite list."""
    def remove_cipher(self, codes: _Codes) -> None:
        """Remove codes from the suite list (the last one removed: legacy 0)."""
    def cipher_list(self, codes: _Codes) -> None:
        """Make the suite list hold exactly codes (membership, not order)."""
    def ciphers(self) -> _Ciphers:
        """("legacy", n), ("iana", code) or ("list", [code, ...])."""
    def key_password(self, password: str) -> None:
        """Password of the client private key (write-only)."""
    def psk(self, key: str, hex: bool = False) -> None:
        """Pre-shared key (write-only): ASCII up to 64 chars, or hex=True up
        to 128 hex digits."""
    @overload
    def psk_identity(self, identity: None = None, hex: bool = False) -> tuple[str, bool]: ...
    @overload
    def psk_identity(self, identity: str, hex: bool = False) -> None:
        """PSK identity: ASCII up to 128 chars, or hex up to 256 digits;
        reads back (text, hex)."""
    @overload
    def pinning(self, name: None = None, level: int = 0) -> tuple[str, int]: ...
    @overload
    def pinning(self, name: str, level: int = 0) -> None:
        """Server certificate pinning: internal name and level 0-2."""
    @overload
    def session_status(self, status: None = None) -> int: ...
    @overload
    def session_status(self, status: int) -> None:
        """Session resumption: 0 disabled, 1 enabled, 2 data configured.
        Op code 13 (these three methods): package ubxsec-session."""
    @overload
    def session_type(self, kind: None = None) -> int: ...
    @overload
    def session_type(self, kind: int) -> None:
        """0 session ID, 1 ticket, 3 PSK ticket, 10/11/13 with local encryption."""
    def session_data(self, tag: int, *values: str) -> Any:
        """Session data of tag 2, 3, 5, 12, 13 or 15: read without values,
        set with them (tag 2: session_id_b64, master_secret_b64)."""
    def apply(self, config: dict[str, Any], reset: bool = False) -> None:
        """Set every key of config (keys: the setter names; a tuple is the
        argument list of psk, psk_identity, pinning and session_data).
        Everything is checked before the first write."""
    def read_all(self) -> dict[str, Any]:
        """Every readable setting, keyed as apply() takes it."""
