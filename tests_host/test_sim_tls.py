"""The TLS client behind +USECPRF profiles, driven through AT+UHTTP/+UHTTPC.

Every setting is checked as a pair against a real local HTTPS server: set
right, the GET ends with +UUHTTPCR: 0,1,1; set wrong, with 0 (and the reason
is the one expected). Handlers are called in-process.
"""

import queue
import ssl

import pytest

from ubxsim import build_device, http
from ubxsim.cme import CmeError
from ubxsim.command import SET, Prompt, parse_params

from https_server import HttpsServer
from pki import CLIENT_KEY_PASSWORD, TestPki

HOST = "server.test"
FAMILIES = ("filesystem", "usecmng", "usecprf", "http")


@pytest.fixture(scope="module")
def pki():
    return TestPki()


@pytest.fixture
def device():
    dev = build_device(None, families=FAMILIES)
    dev.http.timeout = 10
    dev.urcs = queue.Queue()
    dev.urc_sink = dev.urcs.put
    dev.urc_log = []
    yield dev
    for worker in dev.http.workers:
        worker.join(15)


@pytest.fixture
def serve(pki, tmp_path, device):
    """Start a test server for HOST; device resolves HOST to it."""
    servers = []

    def start(leaf=None, **options):
        chain = pki.write_server_files(str(tmp_path), leaf or pki.server, "srv%d" % len(servers))
        if "sni_chains" in options:
            options["sni_chains"] = {
                name: pki.write_server_files(str(tmp_path), cert, "sni-" + name)
                for name, cert in options["sni_chains"].items()}
        server = HttpsServer(chain, **options).start()
        servers.append(server)
        device.controls["hosts"](map={HOST: ["127.0.0.1", server.port]})
        return server

    yield start
    for server in servers:
        server.stop()


def at(device, line):
    """Run `AT+NAME=params` (set form) and return the response lines."""
    assert line.startswith("AT+") and "=" in line
    name, text = line[2:].split("=", 1)
    result = device.handlers[name.upper()](device, SET, parse_params(text))
    assert not isinstance(result, Prompt)
    return result


def import_credential(device, kind, name, der, password=None):
    params = [0, kind, name, len(der)] + ([password] if password else [])
    prompt = device.handlers["+USECMNG"](device, SET, params)
    assert isinstance(prompt, Prompt)
    prompt.on_data(der)


def next_urc(device, prefix="+UUHTTPCR:"):
    """The oldest URC with this prefix; other URCs stay for later calls."""
    while True:
        for i, line in enumerate(device.urc_log):
            if line.startswith(prefix):
                return device.urc_log.pop(i)
        device.urc_log.append(device.urcs.get(timeout=30))


def https_get(device, path="/", filename="https.resp"):
    """The spec's example step 5 on HTTP profile 0 and security profile 2."""
    at(device, 'AT+UHTTP=0,1,"%s"' % HOST)
    at(device, "AT+UHTTP=0,6,1,2")
    assert at(device, 'AT+UHTTPC=0,1,"%s","%s"' % (path, filename)) == []
    line = next_urc(device)
    assert line.startswith("+UUHTTPCR: 0,1,")
    return int(line.rsplit(",", 1)[1])


def reason(device):
    return device.http.last_error[0]


def trust(device, pki, level=1, ca=None):
    import_credential(device, 0, "TestRoot", (ca or pki.root).der)
    at(device, "AT+USECPRF=2,0,%d" % level)
    at(device, 'AT+USECPRF=2,3,"TestRoot"')


# ---------------------------------------------------------------- the spec's example

def test_example_get_succeeds_and_stores_the_response(device, pki, serve):
    server = serve()
    trust(device, pki)
    assert https_get(device) == 1
    stored = device.fs.read("https.resp")
    assert stored.startswith(b"HTTP/1.1 200 OK\r\n")
    assert stored.endswith(b"hello from the test server\n")
    assert server.wait(1)[0]["request"] == "GET / HTTP/1.1"


def test_wrong_ca_fails(device, pki, serve):
    serve()
    trust(device, pki, ca=pki.other_root)
    assert https_get(device) == 0
    assert "verification failed" in reason(device)
    assert "https.resp" not in device.fs.names()


def test_level_0_accepts_an_untrusted_server(device, pki, serve):
    serve(leaf=pki.other)
    trust(device, pki, level=0)
    assert https_get(device) == 1


def test_level_1_rejects_an_untrusted_server(device, pki, serve):
    serve(leaf=pki.other)
    trust(device, pki, level=1)
    assert https_get(device) == 0


# ---------------------------------------------------------------- CA choice and database (op 3, op 16)

def test_no_ca_name_uses_every_imported_ca(device, pki, serve):
    serve()
    import_credential(device, 0, "Unrelated", pki.other_root.der)
    import_credential(device, 0, "TestRoot", pki.root.der)
    at(device, "AT+USECPRF=2,0,1")
    assert https_get(device) == 1


def test_no_ca_name_fails_without_a_matching_ca(device, pki, serve):
    serve()
    import_credential(device, 0, "Unrelated", pki.other_root.der)
    at(device, "AT+USECPRF=2,0,1")
    assert https_get(device) == 0


def test_user_database_selection_finds_the_imported_ca(device, pki, serve):
    serve()
    import_credential(device, 0, "TestRoot", pki.root.der)
    at(device, "AT+USECPRF=2,0,1")
    at(device, "AT+USECPRF=2,16,1")
    assert https_get(device) == 1


def test_preinstalled_database_selection_ignores_the_imported_ca(device, pki, serve):
    serve()
    trust(device, pki)
    at(device, "AT+USECPRF=2,16,2")
    assert https_get(device) == 0
    assert "not found in database 2" in reason(device)


def test_named_ca_that_does_not_exist_fails(device, pki, serve):
    serve()
    at(device, "AT+USECPRF=2,0,1")
    at(device, 'AT+USECPRF=2,3,"Missing"')
    assert https_get(device) == 0


# ---------------------------------------------------------------- levels 2 and 3 (op 0, op 4)

def test_hostname_mismatch_passes_level_1(device, pki, serve):
    serve(leaf=pki.wrong_host)
    trust(device, pki, level=1)
    at(device, 'AT+USECPRF=2,4,"%s"' % HOST)
    assert https_get(device) == 1


def test_hostname_mismatch_fails_level_2(device, pki, serve):
    serve(leaf=pki.wrong_host)
    trust(device, pki, level=2)
    at(device, 'AT+USECPRF=2,4,"%s"' % HOST)
    assert https_get(device) == 0
    assert "does not match host" in reason(device)


def test_level_2_checks_the_configured_hostname(device, pki, serve):
    serve(leaf=pki.wrong_host)
    trust(device, pki, level=2)
    at(device, 'AT+USECPRF=2,4,"wrong.test"')
    assert https_get(device) == 1


def test_level_2_without_hostname_checks_the_server_name(device, pki, serve):
    serve()
    trust(device, pki, level=2)
    assert https_get(device) == 1


def test_expired_certificate_passes_level_2(device, pki, serve):
    serve(leaf=pki.expired)
    trust(device, pki, level=2)
    at(device, 'AT+USECPRF=2,4,"expired.test"')
    assert https_get(device) == 1


def test_expired_certificate_fails_level_3(device, pki, serve):
    serve(leaf=pki.expired)
    device.controls["nitz"]()  # level 3 checks dates at the module's clock: set it
    trust(device, pki, level=3)
    at(device, 'AT+USECPRF=2,4,"expired.test"')
    assert https_get(device) == 0
    assert "expired" in reason(device)


def test_valid_certificate_passes_level_3(device, pki, serve):
    serve()
    device.controls["nitz"]()
    trust(device, pki, level=3)
    at(device, 'AT+USECPRF=2,4,"%s"' % HOST)
    assert https_get(device) == 1


# ---------------------------------------------------------------- mutual TLS (op 5, 6, 7)

def test_server_requiring_a_client_certificate_rejects_none(device, pki, serve):
    server = serve(require_client_cert=True, client_ca=pki.root.pem + pki.intermediate.pem)
    trust(device, pki)
    assert https_get(device) == 0
    assert server.wait(1)[0]["error"]


def test_client_certificate_and_key_are_sent(device, pki, serve):
    server = serve(require_client_cert=True, client_ca=pki.root.pem + pki.intermediate.pem)
    trust(device, pki)
    import_credential(device, 1, "ClientCert", pki.client.der)
    import_credential(device, 2, "ClientKey", pki.client.key_der())
    at(device, 'AT+USECPRF=2,5,"ClientCert"')
    at(device, 'AT+USECPRF=2,6,"ClientKey"')
    assert https_get(device) == 1
    assert server.wait(1)[0]["client_subject"] == "ubx-client"


def test_client_key_in_sec1_structure_is_sent(device, pki, serve):
    # the store keeps a key's DER as imported: the TLS client must read SEC1 too
    from cryptography.hazmat.primitives import serialization
    server = serve(require_client_cert=True, client_ca=pki.root.pem + pki.intermediate.pem)
    trust(device, pki)
    sec1 = pki.client.key.private_bytes(serialization.Encoding.DER,
                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption())
    import_credential(device, 1, "ClientCert", pki.client.der)
    import_credential(device, 2, "ClientKey", sec1)
    at(device, 'AT+USECPRF=2,5,"ClientCert"')
    at(device, 'AT+USECPRF=2,6,"ClientKey"')
    assert https_get(device) == 1
    assert server.wait(1)[0]["client_subject"] == "ubx-client"


def _encrypted_key_profile(device, pki, password):
    trust(device, pki)
    import_credential(device, 1, "ClientCert", pki.client.der)
    import_credential(device, 2, "ClientKey", pki.client.key_der(CLIENT_KEY_PASSWORD),
                      password=CLIENT_KEY_PASSWORD)
    at(device, 'AT+USECPRF=2,5,"ClientCert"')
    at(device, 'AT+USECPRF=2,6,"ClientKey"')
    at(device, 'AT+USECPRF=2,7,"%s"' % password)


def test_encrypted_client_key_with_its_password(device, pki, serve):
    server = serve(require_client_cert=True, client_ca=pki.root.pem + pki.intermediate.pem)
    _encrypted_key_profile(device, pki, CLIENT_KEY_PASSWORD)
    assert https_get(device) == 1
    assert server.wait(1)[0]["client_subject"] == "ubx-client"


def test_encrypted_client_key_with_a_wrong_password(device, pki, serve):
    serve(require_client_cert=True, client_ca=pki.root.pem + pki.intermediate.pem)
    _encrypted_key_profile(device, pki, "not-the-password")
    assert https_get(device) == 0
    assert "client certificate/key rejected" in reason(device)


# ---------------------------------------------------------------- cipher suites (op 2)

ONLY_AES128_GCM = "ECDHE-ECDSA-AES128-GCM-SHA256"


@pytest.mark.parametrize("setting, expected", [
    ('99,"C0","2B"', 1), ('99,"C0","2C"', 0),   # one IANA suite
    ("30", 1), ("31", 0),                       # legacy numbers of the same suites
    ("0", 1),                                   # the default list holds C02B
])
def test_cipher_suite_the_server_offers_or_not(device, pki, serve, setting, expected):
    server = serve(ciphers=ONLY_AES128_GCM)
    trust(device, pki)
    at(device, "AT+USECPRF=2,2,%s" % setting)
    assert https_get(device) == expected
    record = server.wait(1)[0]
    assert record["cipher"] == (ONLY_AES128_GCM if expected else None)


def test_cipher_list_with_one_offered_suite(device, pki, serve):
    server = serve(ciphers=ONLY_AES128_GCM)
    trust(device, pki)
    at(device, 'AT+USECPRF=2,2,100,"C0","2C",0')
    at(device, 'AT+USECPRF=2,2,100,"C0","2B",0')
    assert https_get(device) == 1
    assert server.wait(1)[0]["cipher"] == ONLY_AES128_GCM


def test_cipher_list_without_an_offered_suite(device, pki, serve):
    serve(ciphers=ONLY_AES128_GCM)
    trust(device, pki)
    at(device, 'AT+USECPRF=2,2,100,"C0","2C",0')
    at(device, 'AT+USECPRF=2,2,100,"C0","23",0')
    assert https_get(device) == 0


# ---------------------------------------------------------------- TLS version (op 1)

TLS11 = (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1)


@pytest.mark.parametrize("version, expected", [(2, 1), (3, 0), (0, 0), (1, 0)])
def test_tls_1_1_server(device, pki, serve, version, expected):
    server = serve(versions=TLS11, ciphers="ECDHE-ECDSA-AES128-SHA")
    trust(device, pki)
    at(device, "AT+USECPRF=2,1,%d" % version)
    at(device, "AT+USECPRF=2,2,21")  # 0xC009, usable below TLS 1.2
    assert https_get(device) == expected
    assert server.wait(1)[0]["version"] == ("TLSv1.1" if expected else None)


@pytest.mark.parametrize("version, expected", [(0, 1), (3, 1), (2, 0)])
def test_tls_1_2_server(device, pki, serve, version, expected):
    server = serve()
    trust(device, pki)
    at(device, "AT+USECPRF=2,1,%d" % version)
    assert https_get(device) == expected
    assert server.wait(1)[0]["version"] == ("TLSv1.2" if expected else None)


# ---------------------------------------------------------------- SNI (op 10)

def test_sni_selects_the_right_certificate(device, pki, serve):
    server = serve(leaf=pki.wrong_host, sni_chains={HOST: pki.server})
    trust(device, pki, level=2)
    at(device, 'AT+USECPRF=2,4,"%s"' % HOST)
    at(device, 'AT+USECPRF=2,10,"%s"' % HOST)
    assert https_get(device) == 1
    assert server.wait(1)[0]["sni"] == HOST


def test_no_sni_gets_the_default_certificate(device, pki, serve):
    server = serve(leaf=pki.wrong_host, sni_chains={HOST: pki.server})
    trust(device, pki, level=2)
    at(device, 'AT+USECPRF=2,4,"%s"' % HOST)
    assert https_get(device) == 0
    assert server.wait(1)[0]["sni"] is None


# ---------------------------------------------------------------- ALPN (op 15)

@pytest.mark.parametrize("alpn, expected", [("http/1.1", 1), ("h2", 0), (None, 0)])
def test_alpn_negotiation(device, pki, serve, alpn, expected):
    server = serve(alpn=["x-ubx", "http/1.1"], require_alpn=True)
    trust(device, pki)
    if alpn:
        at(device, 'AT+USECPRF=2,15,"%s"' % alpn)
    assert https_get(device) == expected
    assert server.wait(1)[0]["alpn"] == ("http/1.1" if expected else None)


# ---------------------------------------------------------------- pinning (op 12)

@pytest.mark.parametrize("pinned, level, expected", [
    ("server", 2, 1), ("wrong_host", 2, 0),
    ("server_reissued", 0, 1), ("server_reissued", 1, 1), ("server_reissued", 2, 0),
    ("wrong_host", 0, 0), ("wrong_host", 1, 0),
])
def test_server_certificate_pinning(device, pki, serve, pinned, level, expected):
    serve()
    trust(device, pki)
    import_credential(device, 3, "Pinned", getattr(pki, pinned).der)
    at(device, 'AT+USECPRF=2,12,"Pinned",%d' % level)
    assert https_get(device) == expected
    if not expected:
        assert "pinned" in reason(device)


def test_pinning_applies_at_level_0(device, pki, serve):
    serve()
    trust(device, pki, level=0)
    import_credential(device, 3, "Pinned", pki.wrong_host.der)
    at(device, 'AT+USECPRF=2,12,"Pinned",2')
    assert https_get(device) == 0


# ---------------------------------------------------------------- session resumption (op 13)

def test_session_resumed_on_second_get(device, pki, serve):
    server = serve()
    trust(device, pki)
    at(device, "AT+USECPRF=2,13,0,1")
    assert https_get(device) == 1
    assert next_urc(device, "+UUSECPRF:") == "+UUSECPRF: 2,13,0,2"
    assert at(device, "AT+USECPRF=2,13,0") == ["+USECPRF: 2,13,0,2"]
    assert https_get(device) == 1
    first, second = server.wait(2)
    assert (first["resumed"], second["resumed"]) == (False, True)


def test_no_resumption_when_disabled(device, pki, serve):
    server = serve()
    trust(device, pki)
    assert https_get(device) == 1
    assert https_get(device) == 1
    assert [h["resumed"] for h in server.wait(2)] == [False, False]
    assert device.urcs.empty() and device.urc_log == []


# ---------------------------------------------------------------- PSK (op 8, op 9)

PSK_KEY = b"0123456789abcdef"


@pytest.mark.parametrize("key, expected", [(PSK_KEY, 1), (b"another-key-1234", 0)])
def test_pre_shared_key(device, pki, serve, key, expected):
    server = serve(psk={b"ubx-device": PSK_KEY}, ciphers="PSK-AES128-GCM-SHA256")
    at(device, "AT+USECPRF=2,0,0")
    at(device, 'AT+USECPRF=2,2,99,"00","A8"')
    at(device, 'AT+USECPRF=2,8,"%s"' % key.decode())
    at(device, 'AT+USECPRF=2,9,"ubx-device"')
    assert https_get(device) == expected
    record = server.wait(1)[0]
    assert record["psk_identity"] == b"ubx-device"
    assert record["cipher"] == ("PSK-AES128-GCM-SHA256" if expected else None)


# ---------------------------------------------------------------- ZTP (op 14), RoT PSK (op 11)

def _ztp_server(serve, pki):
    # the server trusts the root only: the client must send the intermediate too
    return serve(require_client_cert=True, client_ca=pki.root.pem)


def _provision_ztp(device, pki, ca=True):
    device.controls["ztp"](cert=pki.client.der.hex(), key=pki.client.key_der().hex(),
                           ca=pki.intermediate.der.hex() if ca else None)


@pytest.mark.parametrize("ztp, expected", [(1, 1), (2, 0), (0, 0)])
def test_ztp_credentials_sent_as_the_level_says(device, pki, serve, ztp, expected):
    server = _ztp_server(serve, pki)
    trust(device, pki)
    _provision_ztp(device, pki)
    at(device, "AT+USECPRF=2,14,%d" % ztp)
    assert https_get(device) == expected
    record = server.wait(1)[0]
    assert record["client_subject"] == ("ubx-client" if expected else None)
    assert (record["error"] is None) == bool(expected)


def test_ztp_replaces_the_client_certificate_ops(device, pki, serve):
    server = _ztp_server(serve, pki)
    trust(device, pki)
    _provision_ztp(device, pki)
    at(device, 'AT+USECPRF=2,5,"NoSuchCert"')   # would fail if they were read
    at(device, 'AT+USECPRF=2,6,"NoSuchKey"')
    at(device, "AT+USECPRF=2,14,1")
    assert https_get(device) == 1
    assert server.wait(1)[0]["client_subject"] == "ubx-client"


def test_ztp_without_provisioned_credentials_fails(device, pki, serve):
    server = _ztp_server(serve, pki)
    trust(device, pki)
    at(device, "AT+USECPRF=2,14,2")
    assert https_get(device) == 0
    assert "no ZTP-provided credentials" in reason(device)
    assert server.handshakes == []


def _rot_psk_server(device, serve):
    rot = device.controls["rot_psk"]()
    identity, key = rot["identity"].encode(), bytes.fromhex(rot["key"])
    assert identity != b"ubx-device"
    return serve(psk={identity: key}, ciphers="PSK-AES128-GCM-SHA256"), identity


@pytest.mark.parametrize("rot_on, expected", [(1, 1), (0, 0)])
def test_rot_generated_psk(device, serve, rot_on, expected):
    # ops 8/9 hold a PSK the server does not know: only the RoT's one passes
    server, identity = _rot_psk_server(device, serve)
    at(device, "AT+USECPRF=2,0,0")
    at(device, 'AT+USECPRF=2,2,99,"00","A8"')
    at(device, 'AT+USECPRF=2,8,"%s"' % PSK_KEY.decode())
    at(device, 'AT+USECPRF=2,9,"ubx-device"')
    at(device, "AT+USECPRF=2,11,%d" % rot_on)
    assert https_get(device) == expected
    record = server.wait(1)[0]
    assert record["psk_identity"] == (identity if rot_on else b"ubx-device")
    assert record["cipher"] == ("PSK-AES128-GCM-SHA256" if expected else None)


def test_rot_psk_is_stable_for_a_state_directory(tmp_path):
    from ubxsim import rot
    first = build_device(str(tmp_path), families=FAMILIES).controls["rot_psk"]()
    again = build_device(str(tmp_path), families=FAMILIES).controls["rot_psk"]()
    other = build_device(None, families=FAMILIES).controls["rot_psk"]()
    assert first == again and first != other
    assert rot.SEED_FILE in __import__("os").listdir(tmp_path / "rot")


# ---------------------------------------------------------------- minimum TLS version (op 1)

TLS11_PSK = "PSK-AES128-CBC-SHA"   # allowed by OpenSSL at TLS 1.1, unlike ECDSA suites


@pytest.mark.parametrize("version, expected", [(2, 1), (3, 0), (0, 0)])
def test_tls_1_1_only_psk_server(device, serve, version, expected):
    # a TLS 1.2 profile must not fall back to a server that only speaks 1.1
    server = serve(versions=TLS11, ciphers=TLS11_PSK, psk={b"ubx-device": PSK_KEY})
    at(device, "AT+USECPRF=2,0,0")
    at(device, "AT+USECPRF=2,1,%d" % version)
    at(device, "AT+USECPRF=2,2,6")   # 0x008C TLS_PSK_WITH_AES_128_CBC_SHA
    at(device, 'AT+USECPRF=2,8,"%s"' % PSK_KEY.decode())
    at(device, 'AT+USECPRF=2,9,"ubx-device"')
    assert https_get(device) == expected
    record = server.wait(1)[0]
    assert record["version"] == ("TLSv1.1" if expected else None)
    assert record["cipher"] == (TLS11_PSK if expected else None)


# ---------------------------------------------------------------- a CA that is not a root (op 3)

@pytest.mark.parametrize("anchor, expected", [("intermediate", 1), ("other_root", 0)])
def test_intermediate_ca_is_a_trust_anchor(device, pki, serve, anchor, expected):
    # the server's chain ends at the intermediate; the root is nowhere on the module
    serve()
    trust(device, pki, ca=getattr(pki, anchor))
    assert https_get(device) == expected


# ---------------------------------------------------------------- database (op 16) in a handshake

@pytest.mark.parametrize("database, expected", [(0, 1), (1, 1), (2, 0)])
def test_database_decides_the_trusted_cas(device, pki, serve, database, expected):
    # no CA name: every CA of the database is trusted; the pre-installed roots
    # do not know the test server, which learns it from the client's alert
    server = serve()
    import_credential(device, 0, "TestRoot", pki.root.der)
    at(device, "AT+USECPRF=2,0,1")
    at(device, "AT+USECPRF=2,16,%d" % database)
    assert https_get(device) == expected
    record = server.wait(1)[0]
    if expected:
        assert record["error"] is None
    else:
        assert "UNKNOWN_CA" in record["error"]


# ---------------------------------------------------------------- suites the local OpenSSL lacks

@pytest.mark.parametrize("setting, name", [
    ("5", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"), ("8", "TLS_PSK_WITH_3DES_EDE_CBC_SHA"),
    ('99,"C0","2D"', "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"),
])
def test_suite_the_simulator_lacks_is_refused_by_name(device, pki, serve, setting, name):
    from ubxsim import tls
    assert any(ciphers_name(code) == name for code in tls.unavailable_suites())
    server = serve()
    trust(device, pki)
    at(device, "AT+USECPRF=2,2,%s" % setting)
    assert https_get(device) == 0
    assert name in reason(device) and "not available" in reason(device)
    assert server.handshakes == []


def test_a_list_offers_the_suites_it_can(device, pki, serve):
    server = serve(ciphers=ONLY_AES128_GCM)
    trust(device, pki)
    at(device, 'AT+USECPRF=2,2,100,"C0","2D",0')   # lacking: not offered
    at(device, 'AT+USECPRF=2,2,100,"C0","2B",0')
    assert https_get(device) == 1
    assert server.wait(1)[0]["cipher"] == ONLY_AES128_GCM


def test_readme_lists_every_suite_the_simulator_lacks():
    from pathlib import Path
    from ubxsim import tls
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("Cipher suites the simulator cannot offer"):]
    lacking = tls.unavailable_suites()
    assert lacking, "this OpenSSL offers every applicable suite: update the README"
    for code in lacking:
        assert "0x%04X %s" % (code, ciphers_name(code)) in section


def ciphers_name(code):
    from ubxsim import ciphers
    return ciphers.SUITES[code].name


# ---------------------------------------------------------------- stored session vs later changes (op 13)

def _resumable(device, pki, serve, **server_options):
    """A first GET that stores a session; returns the server."""
    server = serve(**server_options)
    at(device, "AT+USECPRF=2,13,0,1")
    assert https_get(device) == 1
    assert next_urc(device, "+UUSECPRF:") == "+UUSECPRF: 2,13,0,2"
    return server


@pytest.mark.parametrize("change", [
    "AT+USECPRF=2,0,1",            # level 0 -> 1 against an untrusted server
    'AT+USECPRF=2,3,"TestRoot"',   # trust a CA that did not sign it
    "AT+USECPRF=2,16,2",           # pre-installed roots only
])
def test_stored_session_does_not_outlive_a_trust_change(device, pki, serve, change):
    import_credential(device, 0, "TestRoot", pki.root.der)
    at(device, "AT+USECPRF=2,0,0")
    server = _resumable(device, pki, serve, leaf=pki.other)
    at(device, change)
    if "2,0,1" not in change:
        at(device, "AT+USECPRF=2,0,1")
    assert https_get(device) == 0
    assert "verification failed" in reason(device)
    assert [h["resumed"] for h in server.wait(2)] == [False, None]


def test_stored_session_does_not_outlive_a_client_certificate_change(device, pki, serve):
    trust(device, pki)
    import_credential(device, 1, "ClientCert", pki.client.der)
    import_credential(device, 2, "ClientKey", pki.client.key_der())
    at(device, 'AT+USECPRF=2,5,"ClientCert"')
    at(device, 'AT+USECPRF=2,6,"ClientKey"')
    server = _resumable(device, pki, serve, require_client_cert=True,
                        client_ca=pki.root.pem + pki.intermediate.pem)
    at(device, 'AT+USECPRF=2,5,""')
    at(device, 'AT+USECPRF=2,6,""')
    assert https_get(device) == 0
    first, second = server.wait(2)
    assert first["client_subject"] == "ubx-client" and second["error"]


def test_same_settings_set_again_keep_the_session(device, pki, serve):
    trust(device, pki)
    server = _resumable(device, pki, serve)
    trust_again = ["AT+USECPRF=2,0,1", 'AT+USECPRF=2,3,"TestRoot"']
    for line in trust_again:
        at(device, line)
    assert https_get(device) == 1
    assert [h["resumed"] for h in server.wait(2)] == [False, True]


def test_full_handshake_after_a_change_stores_a_new_session(device, pki, serve):
    trust(device, pki)
    server = _resumable(device, pki, serve)
    at(device, 'AT+USECPRF=2,4,"%s"' % HOST)   # a harmless change
    assert https_get(device) == 1
    assert next_urc(device, "+UUSECPRF:") == "+UUSECPRF: 2,13,0,2"
    assert https_get(device) == 1
    assert [h["resumed"] for h in server.wait(3)] == [False, False, True]


def test_session_data_that_cannot_be_imported_fails_the_request(device, pki, serve):
    import base64
    server = serve()
    trust(device, pki)
    at(device, "AT+USECPRF=2,13,0,1")
    junk = base64.b64encode(b"not an OpenSSL session").decode()
    at(device, 'AT+USECPRF=2,13,3,"%s",%d' % (junk, len(junk)))
    assert https_get(device) == 0
    assert "session data (op 13) not usable" in reason(device)
    assert server.wait(1)[0]["version"] is None   # connected, never shook hands


# ---------------------------------------------------------------- +UHTTP / +UHTTPC themselves

def test_uhttp_read_back_and_port_follows_the_secure_option(device):
    at(device, 'AT+UHTTP=1,1,"%s"' % HOST)
    assert at(device, "AT+UHTTP=1,1") == ['+UHTTP: 1,1,"%s"' % HOST]
    assert at(device, "AT+UHTTP=1,5") == ["+UHTTP: 1,5,80"]
    at(device, "AT+UHTTP=1,6,1,2")
    assert at(device, "AT+UHTTP=1,6") == ["+UHTTP: 1,6,1,2"]
    assert at(device, "AT+UHTTP=1,5") == ["+UHTTP: 1,5,443"]
    at(device, "AT+UHTTP=1")
    assert at(device, "AT+UHTTP=1,1") == ['+UHTTP: 1,1,""']


@pytest.mark.parametrize("line", [
    "AT+UHTTP=4,1,\"x\"", "AT+UHTTP=0,5,0", "AT+UHTTP=0,6,2", "AT+UHTTP=0,6,1,5",
    "AT+UHTTPC=0,1,\"/\",\"f\"",            # no server configured
    "AT+UHTTPC=0,9,\"/\",\"f\"",
])
def test_bad_http_commands_are_errors(device, line):
    with pytest.raises(CmeError):
        at(device, line)


def test_unreachable_server_gives_result_0(device, pki):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        device.controls["hosts"](map={HOST: ["127.0.0.1", port]})
        trust(device, pki)
        assert https_get(device) == 0
    assert "cannot connect" in reason(device)


def test_hosts_control_verb_maps_and_unmaps(device):
    assert device.controls["hosts"](map={"a.test": ["127.0.0.1", 1234]}) == \
        {"a.test": ["127.0.0.1", 1234]}
    hp = http.HttpProfile(server_name="a.test", port=443)
    assert http.resolve(device, hp) == ("127.0.0.1", 1234)
    device.controls["hosts"](map={"a.test": None})
    assert http.resolve(device, hp) == ("a.test", 443)


# ---------------------------------------------------------------- on the wire (simulator on a pty)

def test_example_over_the_wire(sim, at, pki, tmp_path):
    """Steps 1-5 of the +USECMNG example, against the local server, on the pty."""
    from fixtures_sim import final_result, info_lines

    chain = pki.write_server_files(str(tmp_path), pki.server, "wire")
    with HttpsServer(chain) as server:
        sim.control("hosts", map={HOST: ["127.0.0.1", server.port]})
        pem = pki.root.pem
        assert at.send_prompt('AT+USECMNG=0,0,"TestRoot",%d' % len(pem)).endswith(b">")
        assert final_result(at.send_data(pem)) == "OK"
        for line in ("AT+USECPRF=2,0,1", 'AT+USECPRF=2,3,"TestRoot"',
                     'AT+UHTTP=0,1,"%s"' % HOST, "AT+UHTTP=0,6,1,2",
                     'AT+UHTTPC=0,1,"/","https.resp"'):
            assert final_result(at.send(line)) == "OK", line
        assert b"+UUHTTPCR: 0,1,1\r\n" in at.read_until(rb"\+UUHTTPCR: [^\r]*\r\n", 30)
        raw = at.send('AT+URDFILE="https.resp"')
        assert final_result(raw) == "OK"
        assert b"HTTP/1.1 200 OK" in raw and b"hello from the test server" in raw
        assert server.wait(1)[0]["request"] == "GET / HTTP/1.1"
        assert info_lines(at.send("AT+UHTTP=0,6")) == ["+UHTTP: 0,6,1,2"]


def test_wrong_ca_over_the_wire(sim, at, pki, tmp_path):
    from fixtures_sim import final_result

    chain = pki.write_server_files(str(tmp_path), pki.other, "wire-other")
    with HttpsServer(chain) as server:
        sim.control("hosts", map={HOST: ["127.0.0.1", server.port]})
        pem = pki.root.pem
        at.send_prompt('AT+USECMNG=0,0,"TestRoot",%d' % len(pem))
        assert final_result(at.send_data(pem)) == "OK"
        for line in ("AT+USECPRF=2,0,1", 'AT+USECPRF=2,3,"TestRoot"',
                     'AT+UHTTP=0,1,"%s"' % HOST, "AT+UHTTP=0,6,1,2",
                     'AT+UHTTPC=0,1,"/","https.resp"'):
            assert final_result(at.send(line)) == "OK", line
        assert b"+UUHTTPCR: 0,1,0\r\n" in at.read_until(rb"\+UUHTTPCR: [^\r]*\r\n", 30)
        assert server.wait(1)[0]["error"]
