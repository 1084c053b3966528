"""An application as a user writes it, type-checked against the library's
stubs (lib/ubxsec/*.pyi) and MicroPython's stubs for the port."""

from machine import UART

import ubxsec
from ubxsec.certs import Entry


def provision(uart: UART) -> str:
    m = ubxsec.Module(uart, rx_size=1024)
    chip: str = m.chip_id()
    md5: str = m.certs.import_file("ca.pem", ubxsec.CA, "MyCA")
    again: str = m.certs.import_bytes(b"0\x82", "CA", "MyCA")
    entries: list[Entry] = m.certs.list(ubxsec.CA)
    names = [e.name for e in entries if e.expiry is not None]
    p = m.profile(2)
    p.validation_level(1)
    p.ca_name("MyCA")
    level: int = p.validation_level()
    on: bool = p.psk_from_rot()
    kind, value = p.ciphers()
    p.add_cipher([0xC02B, 0xC02F])
    p.apply({"tls_version": 3, "server_hostname": "example.com"})
    identity, is_hex = p.psk_identity()
    m.on_urc("+UUSECPRF:", lambda line: print(line))
    try:
        m.certs.remove(ubxsec.PK, "old")
    except ubxsec.CmeError as exc:
        code: int | None = exc.code
        text: str | None = exc.text
        print(code, text)
    except (ubxsec.AtTimeout, ubxsec.VerifyError, ubxsec.ProtocolError):
        pass
    m.close()
    return "%s %s %s %d %s %s %s %s %s" % (chip, md5, again, level, on, kind, value, names, identity + str(is_hex))


provision(UART(0, 115200))
