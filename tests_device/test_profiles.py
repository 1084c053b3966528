"""+USECPRF on the rig: SecurityProfile and SessionKeeper against the module
(the simulator on the virtual board, or a real module).

Each test resets the profile it uses first; profile 0 is left alone (the
demo uses it).
"""

import os

from ubxsec.errors import AtError
from ubxsec.session import SessionKeeper
import rig

TICKET = "MIHOAgECAgMAzKgEMDZV" + "A" * 308 + "yQ=="   # 332 chars, as the spec's
SID = "VWY5UENs0Hh3VWR1MjB2WTVMYVZ5TTdE0WpMeWZWeHo="
MS = "SHVSODByUit0My9OMEtIT2ZsVVFRcUsyTkdvaz0nWVFhRzdQZUpndG9IMzN4ZTBo"

FACTORY = {
    "validation_level": 1, "tls_version": 0, "cipher_suite": 0, "ca_name": "",
    "server_hostname": "", "client_cert_name": "", "client_key_name": "",
    "psk_identity": ("", False), "sni": "", "psk_from_rot": False,
    "pinning": ("", 0), "session_status": 0, "session_type": 1, "ztp": 0,
    "alpn": "", "database": 0,
}


def profile(n):
    p = rig.module().profile(n)
    p.reset()
    return p


def refused(fn, *args):
    try:
        fn(*args)
    except AtError:
        return
    raise AssertionError("the module accepted %r" % (args,))


def test_reset_gives_the_factory_values():
    p = profile(1)
    p.apply({"validation_level": 3, "sni": "x", "cipher_suite": 5})
    p.reset()
    assert p.read_all() == FACTORY


def test_apply_and_read_all_round_trip():
    config = {
        "validation_level": 3, "tls_version": 3, "cipher_list": [0xC02B, 0xC02F],
        "ca_name": "ca_iname", "server_hostname": "server.example",
        "client_cert_name": "cc_iname", "client_key_name": "pk_iname",
        "key_password": "xxxxx", "psk": ("00aBfF", True),
        "psk_identity": ("0001FF22", True), "sni": "sni.example",
        "psk_from_rot": True, "pinning": ("my_srv_cert", 1), "session_status": 1,
        "session_type": 1, "ztp": 2, "alpn": "h2,http/1.1", "database": 1,
    }
    p = profile(2)
    p.apply(config, reset=True)
    want = dict(config)
    del want["key_password"]
    del want["psk"]
    assert p.read_all() == want
    q = profile(3)
    q.apply(p.read_all())
    assert q.read_all() == want


def test_every_cipher_form_reads_back():
    p = profile(1)
    p.cipher_suite(5)
    assert p.ciphers() == ("legacy", 5)
    p.cipher_suite_iana(0xC02B)
    assert p.ciphers() == ("iana", 0xC02B)
    p.add_cipher([0xC02A, 0xC02C])
    assert p.ciphers() == ("list", [0xC02A, 0xC02C])
    p.cipher_list([0xC02C, 0xC030])
    assert p.ciphers() == ("list", [0xC02C, 0xC030])
    p.remove_cipher([0xC02C, 0xC030])
    assert p.ciphers() == ("legacy", 0)


def test_the_module_refuses_what_its_notes_exclude():
    p = profile(4)
    p.tls_version(3)
    refused(p.tls_version, 4)              # TLS 1.3
    assert p.tls_version() == 3
    p.cipher_suite(7)                      # TLS_PSK_WITH_AES_256_CBC_SHA
    for legacy in (10, 11, 12, 15, 16):
        refused(p.cipher_suite, legacy)
    assert p.ciphers() == ("legacy", 7)
    refused(p.cipher_suite_iana, 0x0000)   # in Table 26, not on this module
    refused(p.session_type, 0)             # only session tickets
    refused(p.session_data, 2, SID, MS)
    assert p.session_type() == 1


def test_a_ticket_survives_a_power_cycle_through_flash():
    path = "ubxsec_rig_session.json"
    m = rig.module()
    p = profile(3)
    p.apply({"session_status": 1, "session_type": 1, "session_data": (3, TICKET)})
    assert p.session_status() == 2
    keeper = SessionKeeper(m.at)
    keeper.save(3, path)
    rig.power_cycle(m)
    assert p.session_status() == 0
    assert p.session_data(3) == ""
    keeper.restore(path)
    assert p.session_data(3) == TICKET
    assert p.session_status() == 2
    os.remove(path)


# -- every op code, one at a time --------------------------------------------------

# (setter/getter, values set and read back in turn); op codes 0, 1, 3-6, 10,
# 11, 14, 15, 16, with each end of their ranges and lengths
PLAIN = (
    ("validation_level", (0, 1, 2, 3)),                  # op 0
    ("tls_version", (0, 1, 2, 3)),                       # op 1
    ("ca_name", ("c" * 200, "rig_ca", "")),              # op 3
    ("server_hostname", (("h" * 63 + ".") * 3 + "h" * 61, "rig.example")),  # op 4: 253, a hostname's most
    ("client_cert_name", ("n" * 200, "rig_cc")),         # op 5
    ("client_key_name", ("k" * 200, "rig_pk")),          # op 6
    ("sni", (("s" * 63 + ".") * 2, "sni.example")),     # op 10: 128 chars, a hostname
    ("psk_from_rot", (True, False)),                     # op 11
    ("ztp", (0, 1, 2)),                                  # op 14
    ("alpn", ("a" * 255, "h2,http/1.1", "")),            # op 15
    ("database", (0, 1, 2)),                             # op 16
)


def test_every_plain_op_code_sets_and_reads_back():
    p = profile(1)
    try:
        for name, values in PLAIN:
            method = getattr(p, name)
            for value in values:
                method(value)
                assert method() == value, (name, value, method())
    finally:
        p.reset()


def test_psk_identity_reads_back_in_both_forms():
    p = profile(1)
    try:
        for identity in (("rig-identity", False), ("i" * 128, False), ("0001FF22", True),
                         ("A0" * 128, True)):
            p.psk_identity(*identity)
            assert p.psk_identity() == identity, identity
        # printable bytes given in hex are the same identity as that text
        p.psk_identity("41424344", True)
        assert p.psk_identity() in (("ABCD", False), ("41424344", True))
    finally:
        p.reset()
    assert p.psk_identity() == ("", False)


def test_write_only_secrets_are_taken_in_every_form():
    p = profile(1)
    try:
        p.psk("k" * 64)                 # ASCII, longest
        p.psk("00aBfF" * 21 + "00", True)  # hex, 128 digits
        p.psk("rig-psk")
        p.key_password("p" * 128)
        p.apply({"psk": ("0123", True), "key_password": "pw"})
        assert p.read_all()["psk_identity"] == ("", False)   # nothing else moved
    finally:
        p.reset()


def test_pinning_every_level():
    p = profile(1)
    try:
        for pin in (("rig_srv", 0), ("rig_srv", 1), ("p" * 200, 2)):
            p.pinning(*pin)
            assert p.pinning() == pin
    finally:
        p.reset()
    assert p.pinning() == ("", 0)


def test_session_status_type_and_ticket_data():
    p = profile(1)
    try:
        assert (p.session_status(), p.session_type(), p.session_data(3)) == (0, 1, "")
        p.session_status(1)
        p.session_type(1)
        assert (p.session_status(), p.session_type()) == (1, 1)
        p.session_data(3, TICKET)
        assert p.session_data(3) == TICKET
        assert p.session_status() == 2        # data configured
        p.session_data(3, "")                 # cleared
        assert (p.session_status(), p.session_data(3)) == (1, "")
        p.session_status(0)
        assert p.session_status() == 0
    finally:
        p.reset()


def test_cipher_forms_switch_and_lists_hold_each_suite_once():
    p = profile(1)
    try:
        p.cipher_suite_iana(0xC02F)
        p.add_cipher(0xC02B)                  # a list starts afresh
        assert p.ciphers() == ("list", [0xC02B])
        p.add_cipher(0xC02B)
        assert p.ciphers() == ("list", [0xC02B])
        p.cipher_list([0xC02F])
        assert p.ciphers() == ("list", [0xC02F])
        p.cipher_suite(0)
        assert p.ciphers() == ("legacy", 0)
        p.apply({"cipher_suite_iana": 0xC030})
        assert p.read_all()["cipher_suite_iana"] == 0xC030
    finally:
        p.reset()


def test_apply_without_reset_keeps_the_other_settings():
    p = profile(1)
    try:
        p.apply({"sni": "keep.example", "database": 2})
        p.apply({"alpn": "h2"})
        got = p.read_all()
        assert (got["sni"], got["database"], got["alpn"]) == ("keep.example", 2, "h2")
        p.apply({"alpn": "http/1.1"}, reset=True)
        got = p.read_all()
        assert (got["sni"], got["database"], got["alpn"]) == ("", 0, "http/1.1")
    finally:
        p.reset()


def test_the_test_form_lists_profiles_and_op_codes():
    lines = rig.module().at.command("+USECPRF=?")
    assert lines == ["+USECPRF: (0-4),(0-16)"], lines


def test_the_trace_never_shows_profile_secrets():
    from ubxsec.trace import Trace
    at = rig.module().at
    p = profile(1)
    lines = []
    at.trace = Trace(lines.append)
    try:
        p.key_password("pw-rig-secret")
        p.psk("psk-rig-secret")
        p.psk_identity("id-rig-secret")
        assert p.psk_identity() == ("id-rig-secret", False)
        p.session_status(1)
        p.session_data(3, TICKET)
        assert p.session_data(3) == TICKET
    finally:
        at.trace = None
        p.reset()
    assert len(lines) >= 12, lines
    for line in lines:
        for secret in ("pw-rig-secret", "psk-rig-secret", "id-rig-secret", TICKET[:20]):
            assert secret not in line, line
