"""Every security profile setting as a pair, through the library on MicroPython.

Each test starts the simulator (sim_factory) and a local HTTPS server, then
runs one MicroPython unix-port process with the virtual board's UART class
(boards/unix/lib/vuart.py) opened on the simulator's pty. On that process the
library imports the test PKI's credentials (Module.certs), configures
security profile 2 (Module.profile(2).apply) and runs the GET with
ubxsec.http.Http. Configured right, the GET succeeds (+UUHTTPCR result 1);
configured wrong, it fails (result 0: HttpError), and the server's record of
the handshake says why.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from https_server import BODY, HttpsServer
from pki import CLIENT_KEY_PASSWORD, TestPki
import toolchain

ROOT = Path(__file__).resolve().parent.parent
# UBX_MICROPYTHON: another Python's run (make test-tls-pythons) borrows the project's
MICROPYTHON = Path(os.environ.get("UBX_MICROPYTHON") or Path(sys.executable).parent / "micropython")
MICROPYPATH = "%s:%s" % (ROOT / "lib", ROOT / "boards" / "unix" / "lib")
HOST = "server.test"
CA, CC, PK, SC = 0, 1, 2, 3
OK, FAILED = "ok", "HttpError"
ONLY_AES128_GCM = "ECDHE-ECDSA-AES128-GCM-SHA256"
PSK_KEY = "0123456789abcdef"

# The device side: a job (JSON) in, one "RESULT {...}" line out. Each phase
# that raises ends the job with the exception's class name and text.
DEVICE_JOB = r'''
import sys, json
from vuart import UART
import ubxsec
from ubxsec.errors import UbxError
from ubxsec.http import Http, status

job = json.load(open(sys.argv[1]))
out = {"gets": [], "error": None, "phase": None}
uart = UART(job["link"], rxbuf=1024)
m = ubxsec.Module(uart)
try:
    out["phase"] = "import"
    for kind, name, path, password in job["imports"]:
        m.certs.import_file(path, kind, name, password)
    out["phase"] = "profile"
    config = job["profile"]
    for key in ("pinning", "psk", "psk_identity"):
        if key in config:
            config[key] = tuple(config[key])
    m.profile(2).apply(config, reset=True)
    out["phase"] = "http"
    h = Http(m.at, 0)
    h.server(job["host"])
    h.secure(2)
    for _ in range(job["gets"]):
        try:
            h.get("/", "https.resp", 20000)
            out["gets"].append("ok")
        except UbxError as e:
            out["gets"].append(type(e).__name__)
    if job["read"]:
        out["phase"] = "read"
        data = h.read_file("https.resp")
        out["status"] = status(data)
        out["body"] = str(data[data.find(b"\r\n\r\n") + 4:], "latin-1")
    out["phase"] = None
except Exception as e:
    out["error"] = "%s: %s" % (type(e).__name__, e)
finally:
    m.close()
    uart.deinit()
print("RESULT " + json.dumps(out))
'''


@pytest.fixture(scope="module")
def pki():
    return TestPki()


class TlsRig:
    """A simulator, the HTTPS servers of one test, and the device job runner."""

    def __init__(self, sim, pki, workdir):
        self.sim = sim
        self.pki = pki
        self.workdir = workdir
        self.servers = []

    def serve(self, leaf=None, **options):
        """Start an HTTPS server with leaf's chain; HOST resolves to it."""
        pki, tag = self.pki, "srv%d" % len(self.servers)
        chain = pki.write_server_files(str(self.workdir), leaf or pki.server, tag)
        if "sni_chains" in options:
            options["sni_chains"] = {
                name: pki.write_server_files(str(self.workdir), cert, "%s-%s" % (tag, name))
                for name, cert in options["sni_chains"].items()}
        server = HttpsServer(chain, **options).start()
        self.servers.append(server)
        self.sim.control("hosts", map={HOST: ["127.0.0.1", server.port]})
        return server

    def file(self, name, data):
        path = self.workdir / name
        path.write_bytes(data)
        return str(path)

    def run(self, profile, imports=(), gets=1, read=False):
        """Run the device job; returns its result dict."""
        job = {"link": self.sim.link, "host": HOST, "profile": profile, "gets": gets,
               "read": read, "imports": [list(item) for item in imports]}
        job_path = self.file("job.json", json.dumps(job).encode())
        script = self.file("device_job.py", DEVICE_JOB.encode())
        env = dict(os.environ, MICROPYPATH=MICROPYPATH)
        proc = subprocess.run([str(MICROPYTHON), "-X", "heapsize=256K", script, job_path],
                              cwd=str(self.workdir), env=env, capture_output=True,
                              text=True, timeout=90)
        lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
        assert proc.returncode == 0 and lines, "device:\n%s%s\nsimulator:\n%s" % (
            proc.stdout, proc.stderr, self.sim.stderr())
        return json.loads(lines[-1][7:])

    def stop(self):
        for server in self.servers:
            server.stop()


@pytest.fixture
def tls(sim_factory, pki, tmp_path):
    toolchain.require(MICROPYTHON)
    rig = TlsRig(sim_factory(), pki, tmp_path)
    rig.sim.control("nitz")  # network time: level 3 checks dates at the module's clock
    yield rig
    rig.stop()


def trusted(tls, ca=None, **profile):
    """Imports (ca or the test root) as "TestRoot"; the profile trusts it."""
    der = (ca or tls.pki.root).der
    imports = [(CA, "TestRoot", tls.file("ca.der", der), None)]
    settings = {"validation_level": 1, "ca_name": "TestRoot"}
    settings.update(profile)
    return settings, imports


def get(tls, gets=1, ca=None, extra_imports=(), **profile):
    settings, imports = trusted(tls, ca, **profile)
    out = tls.run(settings, imports + list(extra_imports), gets=gets)
    assert out["error"] is None, out
    return out["gets"][0] if gets == 1 else out["gets"]


# ---------------------------------------------------------------- CA (op 3) and level 1

@pytest.mark.parametrize("ca_name, expected", [("TestRoot", OK), ("OtherRoot", FAILED)])
def test_trusted_ca(tls, ca_name, expected):
    # both roots are on the module: only the profile's CA name decides
    server = tls.serve()
    other = (CA, "OtherRoot", tls.file("other.der", tls.pki.other_root.der), None)
    assert get(tls, extra_imports=[other], ca_name=ca_name) == expected
    record = server.wait(1)[0]
    assert (record["error"] is None) == (expected == OK)


@pytest.mark.parametrize("level, expected", [(0, OK), (1, FAILED)])
def test_untrusted_server_passes_only_level_0(tls, level, expected):
    tls.serve(leaf=tls.pki.other)
    assert get(tls, validation_level=level) == expected


@pytest.mark.parametrize("database, expected", [(1, OK), (2, FAILED)])
def test_database_selection(tls, database, expected):
    tls.serve()
    assert get(tls, database=database) == expected


@pytest.mark.parametrize("database, expected", [(1, OK), (2, FAILED)])
def test_database_without_a_ca_name_decides_in_the_handshake(tls, database, expected):
    # every CA of the database is trusted: the pre-installed roots do not know
    # the server, and it hears so from the client's alert
    server = tls.serve()
    settings, imports = trusted(tls, database=database)
    del settings["ca_name"]
    out = tls.run(settings, imports)
    assert out["error"] is None, out
    assert out["gets"] == [expected]
    record = server.wait(1)[0]
    assert (record["error"] is None) if expected == OK else ("UNKNOWN_CA" in record["error"])


@pytest.mark.parametrize("anchor, expected", [("intermediate", OK), ("other_root", FAILED)])
def test_a_ca_that_is_not_a_root_is_a_trust_anchor(tls, anchor, expected):
    tls.serve()
    assert get(tls, ca=getattr(tls.pki, anchor)) == expected


# ---------------------------------------------------------------- host name (op 4), dates (level 3)

@pytest.mark.parametrize("level, expected", [(1, OK), (2, FAILED)])
def test_host_name_mismatch_matters_from_level_2(tls, level, expected):
    tls.serve(leaf=tls.pki.wrong_host)
    assert get(tls, validation_level=level, server_hostname=HOST) == expected


@pytest.mark.parametrize("level, expected", [(1, OK), (3, FAILED)])
def test_expired_certificate_is_rejected_at_level_3(tls, level, expected):
    tls.serve(leaf=tls.pki.expired)
    assert get(tls, validation_level=level, server_hostname="expired.test") == expected


def test_valid_certificate_passes_level_3(tls):
    tls.serve()
    assert get(tls, validation_level=3, server_hostname=HOST) == OK


# ---------------------------------------------------------------- client certificate (op 5, 6, 7)

def _client_server(tls):
    pki = tls.pki
    return tls.serve(require_client_cert=True, client_ca=pki.root.pem + pki.intermediate.pem)


@pytest.mark.parametrize("with_identity, expected", [(True, OK), (False, FAILED)])
def test_server_requiring_a_client_certificate(tls, with_identity, expected):
    server = _client_server(tls)
    pki = tls.pki
    imports, profile = [], {}
    if with_identity:
        imports = [(CC, "ClientCert", tls.file("cc.der", pki.client.der), None),
                   (PK, "ClientKey", tls.file("pk.der", pki.client.key_der()), None)]
        profile = {"client_cert_name": "ClientCert", "client_key_name": "ClientKey"}
    assert get(tls, extra_imports=imports, **profile) == expected
    record = server.wait(1)[0]
    assert record["client_subject"] == ("ubx-client" if with_identity else None)


@pytest.mark.parametrize("password, expected", [(CLIENT_KEY_PASSWORD, OK), ("not-it", FAILED)])
def test_client_key_password(tls, password, expected):
    server = _client_server(tls)
    pki = tls.pki
    imports = [(CC, "ClientCert", tls.file("cc.der", pki.client.der), None),
               (PK, "ClientKey", tls.file("pk.der", pki.client.key_der(CLIENT_KEY_PASSWORD)),
                CLIENT_KEY_PASSWORD)]
    assert get(tls, extra_imports=imports, client_cert_name="ClientCert",
               client_key_name="ClientKey", key_password=password) == expected
    if expected == OK:
        assert server.wait(1)[0]["client_subject"] == "ubx-client"


# ---------------------------------------------------------------- cipher suites (op 2), TLS version (op 1)

@pytest.mark.parametrize("suite, expected", [(0xC02B, OK), (0xC02C, FAILED)])
def test_cipher_the_server_offers_or_not(tls, suite, expected):
    server = tls.serve(ciphers=ONLY_AES128_GCM)
    assert get(tls, cipher_suite_iana=suite) == expected
    assert server.wait(1)[0]["cipher"] == (ONLY_AES128_GCM if expected == OK else None)


@pytest.mark.parametrize("version, expected", [(3, OK), (2, FAILED)])
def test_tls_version_the_server_speaks_or_not(tls, version, expected):
    server = tls.serve()   # TLS 1.2 only
    assert get(tls, tls_version=version) == expected
    assert server.wait(1)[0]["version"] == ("TLSv1.2" if expected == OK else None)


@pytest.mark.parametrize("version, expected", [(2, OK), (3, FAILED)])
def test_tls_1_2_profile_never_falls_back_to_1_1(tls, version, expected):
    # a PSK suite: OpenSSL allows it at TLS 1.1 (ECDSA suites it refuses there)
    import ssl
    tls11 = (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1)
    server = tls.serve(versions=tls11, ciphers="PSK-AES128-CBC-SHA",
                       psk={b"ubx-device": PSK_KEY.encode()})
    out = tls.run({"validation_level": 0, "tls_version": version, "cipher_suite_iana": 0x008C,
                   "psk": [PSK_KEY], "psk_identity": ["ubx-device"]})
    assert out["error"] is None, out
    assert out["gets"] == [expected]
    assert server.wait(1)[0]["version"] == ("TLSv1.1" if expected == OK else None)


def test_tls_1_3_is_refused_by_the_module(tls):
    server = tls.serve()
    settings, imports = trusted(tls, tls_version=4)
    out = tls.run(settings, imports)
    assert out["phase"] == "profile"
    assert out["error"].startswith("CmeError")
    assert out["gets"] == [] and server.handshakes == []


# ---------------------------------------------------------------- SNI (op 10), ALPN (op 15)

@pytest.mark.parametrize("sni, expected", [(HOST, OK), ("other.test", FAILED)])
def test_sni_selects_the_server_certificate(tls, sni, expected):
    # without the right SNI the server answers with a chain the profile does not trust
    server = tls.serve(leaf=tls.pki.other, sni_chains={HOST: tls.pki.server})
    assert get(tls, sni=sni) == expected
    record = server.wait(1)[0]
    # the server records the SNI of completed handshakes only
    assert record["sni"] == (HOST if expected == OK else None)
    assert (record["error"] is None) == (expected == OK)


@pytest.mark.parametrize("alpn, expected", [("http/1.1", OK), ("h2", FAILED)])
def test_alpn_negotiated(tls, alpn, expected):
    server = tls.serve(alpn=["x-ubx", "http/1.1"], require_alpn=True)
    assert get(tls, alpn=alpn) == expected
    assert server.wait(1)[0]["alpn"] == ("http/1.1" if expected == OK else None)


# ---------------------------------------------------------------- pinning (op 12)

@pytest.mark.parametrize("pinned, expected", [("server", OK), ("wrong_host", FAILED)])
def test_pinned_server_certificate(tls, pinned, expected):
    tls.serve()
    pin = (SC, "Pinned", tls.file("pin.der", getattr(tls.pki, pinned).der), None)
    assert get(tls, extra_imports=[pin], pinning=["Pinned", 2]) == expected


# ---------------------------------------------------------------- PSK (op 8, 9)

@pytest.mark.parametrize("key, expected", [(PSK_KEY, OK), ("another-key-1234", FAILED)])
def test_pre_shared_key(tls, key, expected):
    server = tls.serve(psk={b"ubx-device": PSK_KEY.encode()}, ciphers="PSK-AES128-GCM-SHA256")
    out = tls.run({"validation_level": 0, "cipher_suite_iana": 0x00A8, "psk": [key],
                   "psk_identity": ["ubx-device"]})
    assert out["error"] is None, out
    assert out["gets"] == [expected]
    assert server.wait(1)[0]["psk_identity"] == b"ubx-device"


# ---------------------------------------------------------------- RoT PSK (op 11), ZTP (op 14)

@pytest.mark.parametrize("from_rot, expected", [(True, OK), (False, FAILED)])
def test_psk_from_the_root_of_trust(tls, from_rot, expected):
    rot = tls.sim.control("rot_psk")
    server = tls.serve(psk={rot["identity"].encode(): bytes.fromhex(rot["key"])},
                       ciphers="PSK-AES128-GCM-SHA256")
    out = tls.run({"validation_level": 0, "cipher_suite_iana": 0x00A8, "psk": [PSK_KEY],
                   "psk_identity": ["ubx-device"], "psk_from_rot": from_rot})
    assert out["error"] is None, out
    assert out["gets"] == [expected]
    seen = server.wait(1)[0]["psk_identity"]
    assert seen == (rot["identity"].encode() if from_rot else b"ubx-device")


@pytest.mark.parametrize("ztp, expected", [(1, OK), (2, FAILED)])
def test_ztp_credentials(tls, ztp, expected):
    # the server trusts the root only: level 1 sends the ZTP CA (the
    # intermediate) after the client certificate, level 2 does not
    pki = tls.pki
    server = tls.serve(require_client_cert=True, client_ca=pki.root.pem)
    tls.sim.control("ztp", cert=pki.client.der.hex(), key=pki.client.key_der().hex(),
                    ca=pki.intermediate.der.hex())
    assert get(tls, ztp=ztp) == expected
    assert server.wait(1)[0]["client_subject"] == ("ubx-client" if expected == OK else None)


# ---------------------------------------------------------------- session resumption (op 13)

@pytest.mark.parametrize("status, resumed", [(1, True), (0, False)])
def test_session_resumed_only_when_enabled(tls, status, resumed):
    server = tls.serve()
    assert get(tls, gets=2, session_status=status) == [OK, OK]
    assert [h["resumed"] for h in server.wait(2)] == [False, resumed]


# ---------------------------------------------------------------- the response, read back

def test_response_read_back_through_the_library(tls):
    server = tls.serve()
    settings, imports = trusted(tls)
    out = tls.run(settings, imports, read=True)
    assert out["error"] is None, out
    assert out["gets"] == [OK]
    assert out["status"] == 200
    assert out["body"] == BODY.decode()
    assert server.wait(1)[0]["request"] == "GET / HTTP/1.1"
