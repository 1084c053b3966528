"""The settings of one +USECPRF security profile, as the TLS client reads them.

usecprf.py owns the AT syntax and validation and keeps one Profile per
profile id (0-4) in `device.profiles.profiles`; tls.py builds a real TLS
client context from a Profile. Defaults are the factory-programmed values.
"""

from dataclasses import dataclass, field

# cipher_mode values
CIPHER_LEGACY = "legacy"   # op 2 <legacy_cs> 0..33 (0: the default list)
CIPHER_IANA = "iana"       # op 2 99,<b1>,<b2>: exactly one suite
CIPHER_LIST = "list"       # op 2 100,<b1>,<b2>,<op>: a list of suites


@dataclass
class Profile:
    validation: int = 1            # op 0 (factory value 1)
    tls_version: int = 0           # op 1
    cipher_mode: str = CIPHER_LEGACY
    legacy_cs: int = 0             # op 2 <legacy_cs> as set (99/100 in iana/list mode)
    iana_suites: list = field(default_factory=list)  # [0xC02B, ...] for iana/list
    ca_name: str = ""              # op 3
    hostname: str = ""             # op 4
    client_cert_name: str = ""     # op 5
    client_key_name: str = ""      # op 6
    key_password: str = ""         # op 7
    psk: bytes = b""               # op 8 (decoded: ASCII or hex form)
    psk_identity: bytes = b""      # op 9
    sni: str = ""                  # op 10
    psk_rot: int = 0               # op 11
    pin_name: str = ""             # op 12
    pin_level: int = 0             # op 12
    sess_status: int = 0           # op 13 tag 0 (volatile)
    sess_type: int = 1             # op 13 tag 1 (volatile)
    sess_data: dict = field(default_factory=dict)  # op 13 tag 3 -> (base64 text, size) (volatile)
    ztp: int = 0                   # op 14
    alpn: str = ""                 # op 15
    database: int = 0              # op 16
