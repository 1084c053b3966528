"""+USECPRF on the rig: SecurityProfile and SessionKeeper against the module
(the simulator on the virtual board, or a real module).

Each test resets the profile it uses first; profile 0 is left alone (the
demo uses it).
"""

import os
import time

from ubxsec.errors import AtError, AtTimeout
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
        "ca_name": "ca_iname", "server_hostname": "server_hostname",
        "client_cert_name": "cc_iname", "client_key_name": "pk_iname",
        "key_password": "xxxxx", "psk": ("00aBfF", True),
        "psk_identity": ("0001FF22", True), "sni": "server_sni",
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
    _power_cycle(m)
    assert p.session_status() == 0
    assert p.session_data(3) == ""
    keeper.restore(path)
    assert p.session_data(3) == TICKET
    assert p.session_status() == 2
    os.remove(path)


def _power_cycle(m):
    """AT+CFUN=16 (module reset), then wait until it answers AT again."""
    m.at.command("+CFUN=16")
    for _ in range(25):
        time.sleep_ms(200)
        try:
            m.at.command("", 500)
            break
        except AtTimeout:
            pass  # still booting: the engine resynchronises
    else:
        raise AssertionError("the module did not come back")
    m.at.command("E0")        # a restart turns echo on and +CME codes off
    m.at.command("+CMEE=2")
