"""What a user finds at the REPL: the public names at the top of the package,
nothing else, and profile settings as named methods that send their own op
code."""

import ubxsec
from ubxsec import certs, errors
from ubxsec.profiles import SecurityProfile
from fakeuart import FakeUart, OK

PUBLIC = ("AtError", "AtTimeout", "CA", "CC", "CmeError", "Module", "PK", "ProtocolError",
          "RingOverflow", "SC", "TransferError", "UbxError", "VerifyError", "extension")


def test_top_level_names_are_the_public_api():
    # submodules show up once something imports them (these tests do)
    module = type(ubxsec)
    names = [n for n in dir(ubxsec) if not n.startswith("_")]
    extra = [n for n in names if n not in PUBLIC and type(getattr(ubxsec, n)) is not module]
    assert not extra, "internals at the top level: %r" % (extra,)
    for n in PUBLIC:
        assert n in names, n


def test_exceptions_and_kinds_are_the_library_own():
    for n in ("AtError", "AtTimeout", "CmeError", "ProtocolError", "RingOverflow",
              "TransferError", "UbxError", "VerifyError"):
        assert getattr(ubxsec, n) is getattr(errors, n), n
    assert (ubxsec.CA, ubxsec.CC, ubxsec.PK, ubxsec.SC) == (certs.CA, certs.CC, certs.PK, certs.SC)


# method name -> (op code, a value to set, its wire form)
SETTERS = {"validation_level": (0, 2, "2"), "tls_version": (1, 3, "3"),
           "ca_name": (3, "MyCA", '"MyCA"'), "server_hostname": (4, "a.b", '"a.b"'),
           "client_cert_name": (5, "Cc", '"Cc"'), "client_key_name": (6, "Pk", '"Pk"'),
           "sni": (10, "s.n", '"s.n"'), "psk_from_rot": (11, True, "1"), "ztp": (14, 1, "1"),
           "alpn": (15, "h2", '"h2"'), "database": (16, 2, "2")}


def test_settings_are_named_methods_sending_their_op_code():
    from ubxsec.at import AtEngine
    from ubxsec.ring import Ring
    uart = FakeUart(lambda line: OK)
    at = AtEngine(uart, Ring(256, uart), timeout_ms=300, probe_ms=100, quiet_ms=10)
    p = SecurityProfile(at, 1)
    for name, (op, value, wire) in SETTERS.items():
        method = getattr(SecurityProfile, name)
        # a def of its own (a closure made in a loop prints as <lambda>)
        assert name in repr(method) and "lambda" not in repr(method), repr(method)
        del uart.commands[:]
        getattr(p, name)(value)
        assert uart.commands[-1] == b"AT+USECPRF=1,%d,%s" % (op, wire), (name, uart.commands)


def test_no_private_name_at_the_top_level():
    # dir(ubxsec) at the REPL: the API and the package's dunders, nothing else
    private = [n for n in dir(ubxsec) if n.startswith("_") and not n.startswith("__")]
    assert not private, private
