"""tools/doctor.py (make doctor): each problem it must catch, one line with
its fix and exit status 1; a good config passes; make provision stops on it."""

import datetime
import json
import subprocess
import sys

import pytest

import harness
from https_server import HttpsServer
from pki import DAY, TestPki, _issue, write_bytes

sys.path.insert(0, str(harness.ROOT / "tools"))
import doctor  # noqa: E402
import provision  # noqa: E402


@pytest.fixture(scope="module")
def pki():
    return TestPki()


@pytest.fixture
def files(pki, tmp_path):
    """Name -> path of the PKI's files, written into tmp_path."""
    now = datetime.datetime.now(datetime.timezone.utc)
    soon = _issue("soon.test", pki.intermediate, not_after=now + 10 * DAY)
    data = {
        "root.pem": pki.root.pem, "intermediate.pem": pki.intermediate.pem,
        "client.pem": pki.client.pem, "client-key.pem": pki.client.key_pem(),
        "client-key.der": pki.client.key_der("pw"), "other-key.pem": pki.server.key_pem(),
        "expired.pem": pki.expired.pem, "soon.pem": soon.pem,
        "chain.pem": pki.client.pem + pki.intermediate.pem,
        "oneline.pem": b"".join(pki.root.pem.split(b"\n")) + b"\n",
    }
    return {name: write_bytes(str(tmp_path / name), body) for name, body in data.items()}


def good(files):
    return {"certificates": [
        {"file": files["root.pem"], "type": "CA", "name": "Root"},
        {"file": files["intermediate.pem"], "type": "CA", "name": "Inter"},
        {"file": files["client.pem"], "type": "CC", "name": "Client"},
        {"file": files["client-key.der"], "type": "PK", "name": "ClientKey", "password": "pw"},
    ], "profiles": {"2": {"validation_level": 3, "ca_name": "Root", "server_hostname": "server.test",
                          "client_cert_name": "Client", "client_key_name": "ClientKey"}}}


def run(tmp_path, config, *args):
    path = tmp_path / "site.json"
    path.write_text(json.dumps(config))
    proc = subprocess.run([sys.executable, str(harness.ROOT / "tools" / "doctor.py"), str(path)]
                          + list(args), capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout.splitlines()


def errors(lines):
    return [line for line in lines if line.startswith("ERROR ")]


def test_a_good_config_passes(files, tmp_path):
    code, lines = run(tmp_path, good(files))
    assert code == 0, lines
    assert lines == ["doctor: no problems in %s, checked for every model (%s)"
                     % (tmp_path / "site.json", ", ".join(doctor.models.MODELS))]


def test_a_key_that_does_not_match_its_certificate(files, tmp_path):
    config = good(files)
    config["certificates"][3] = {"file": files["other-key.pem"], "type": "PK", "name": "ClientKey"}
    code, lines = run(tmp_path, config)
    assert code == 1
    assert errors(lines) == [
        "ERROR certificates[2] (CC Client): its key 'ClientKey' (profiles.2) does not match "
        "it: the certificate holds another public key; fix: pair it with the key it was "
        "issued for, or reissue it for this key"], lines


def test_a_missing_intermediate_is_named(files, tmp_path):
    config = good(files)
    del config["certificates"][1]
    code, lines = run(tmp_path, config)
    assert code == 1
    assert errors(lines) == [
        "ERROR certificates[1] (CC Client): issued by 'ubxsim Test Intermediate CA', which is "
        "not a CA of the config; fix: add the missing intermediate 'ubxsim Test Intermediate "
        "CA' (and the CA above it) as a CA entry"], lines


def test_an_expired_certificate(files, tmp_path):
    config = good(files)
    config["certificates"].append({"file": files["expired.pem"], "type": "CA", "name": "Old"})
    code, lines = run(tmp_path, config)
    assert code == 1
    (line,) = errors(lines)
    assert line.startswith("ERROR certificates[4] (CA Old): expired on 20") and \
        line.endswith("; fix: import its successor under a new name and point the profiles at it")


def test_expiring_within_30_days_is_a_warning(files, tmp_path):
    config = good(files)
    config["certificates"].append({"file": files["soon.pem"], "type": "SC", "name": "Soon"})
    code, lines = run(tmp_path, config)
    assert code == 0
    assert [l for l in lines if l.startswith("WARN ")][0].startswith(
        "WARN certificates[4] (SC Soon): expires on ")
    assert lines[-1].startswith("doctor: 0 error(s), 1 warning(s)")


def test_a_name_too_long_for_a_model(files, tmp_path):
    config = good(files)
    config["certificates"][0]["name"] = "R" * 45
    config["profiles"]["2"]["ca_name"] = "R" * 45
    code, lines = run(tmp_path, config)
    assert code == 1
    assert errors(lines) == [
        "ERROR certificates[0] (CA %s): the name is 45 characters, over what spec (30) takes; "
        "fix: shorten it to 30 characters or fewer, or name the module's model with MODEL="
        % ("R" * 45)], lines
    assert run(tmp_path, config, "--model", "sara-r5")[0] == 0
    config["certificates"][0]["name"] = config["profiles"]["2"]["ca_name"] = "R" * 65
    code, lines = run(tmp_path, config, "--model", "sara-r410m")
    assert code == 1 and "over what sara-r410m (64) takes; fix: shorten it to 64 " \
        "characters or fewer" in errors(lines)[0]


def test_a_chain_pem(files, tmp_path):
    config = good(files)
    config["certificates"][2]["file"] = files["chain.pem"]
    code, lines = run(tmp_path, config)
    assert code == 1
    assert errors(lines) == [
        "ERROR certificates[2] (CC Client): chain.pem holds 2 PEM objects (CERTIFICATE, "
        "CERTIFICATE): the module stores one object per file and refuses the rest after its "
        "bytes were sent; fix: split it into one file per object; list an intermediate as its "
        "own CA entry"], lines


def test_a_one_line_pem_for_the_models_that_refuse_it(files, tmp_path):
    config = good(files)
    config["certificates"][0]["file"] = files["oneline.pem"]
    code, lines = run(tmp_path, config)
    assert code == 1
    assert errors(lines)[0].startswith("ERROR certificates[0] (CA Root): the PEM is all on one "
                                       "line, which spec, lena-r8 refuse; fix: write it with")
    assert run(tmp_path, config, "--model", "sara-r410m")[0] == 0


def test_too_large_and_too_many(files, tmp_path):
    big = tmp_path / "big.der"
    big.write_bytes(b"\x30" * 8193)
    config = {"certificates": [{"file": str(big), "type": "CA", "name": "Big"}] + [
        {"file": files["root.pem"], "type": "CA", "name": "R%d" % i} for i in range(10)]}
    code, lines = run(tmp_path, config)
    assert code == 1
    assert "ERROR certificates[0] (CA Big): big.der is 8193 bytes, over the module's 8192" in \
        errors(lines)[0]
    assert any(l.startswith("ERROR certificates: 11 entries: a module holds 10 user entries")
               for l in lines), lines


def test_a_profile_naming_what_the_config_lacks_is_a_warning(files, tmp_path):
    config = good(files)
    config["profiles"]["3"] = {"ca_name": "Elsewhere"}
    config["profiles"]["4"] = {"ca_name": "ubx_digicert_global_root_g2"}
    code, lines = run(tmp_path, config)
    assert code == 0
    assert [l for l in lines if l.startswith("WARN")] == [
        "WARN profiles.3.ca_name: CA 'Elsewhere' is not in this config; fix: fine only if the "
        "module already holds it; else add it to certificates"]


@pytest.fixture
def server(pki, tmp_path):
    srv = HttpsServer(pki.write_server_files(str(tmp_path), pki.server, "srv")).start()
    yield "https://127.0.0.1:%d/" % srv.port
    srv.stop()


def test_check_url_validates_chain_and_host_name(files, tmp_path, server):
    code, lines = run(tmp_path, good(files), "--check-url", server, "--profile", "2")
    assert code == 0, lines
    assert "OK check_url %s: the chain validates against CA 'Root' and the certificate is for " \
           "host 'server.test'; fix: nothing to do" % server in lines


def test_check_url_with_the_wrong_ca_or_host_name(files, tmp_path, server, pki):
    config = good(files)
    config["certificates"].append({"file": write_bytes(str(tmp_path / "o.pem"), pki.other_root.pem),
                                   "type": "CA", "name": "Other"})
    config["profiles"]["2"]["ca_name"] = "Other"
    code, lines = run(tmp_path, config, "--check-url", server, "--profile", "2")
    assert code == 1
    assert "the server's chain does not validate against CA 'Other'" in errors(lines)[0]
    config = good(files)
    config["profiles"]["2"]["server_hostname"] = "wrong.test"
    code, lines = run(tmp_path, config, "--check-url", server, "--profile", "2")
    assert code == 1
    assert errors(lines) == [
        "ERROR check_url %s: the server's certificate (server.test) is not for host "
        "'wrong.test'; fix: set server_hostname to a name the certificate holds, or fix the URL"
        % server]


def test_make_doctor_exit_status(files, tmp_path):
    config = good(files)
    del config["certificates"][1]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    proc = subprocess.run(["make", "-s", "doctor", "CONFIG=%s" % path, "MODEL=spec"],
                          cwd=str(harness.ROOT), capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "missing intermediate" in proc.stdout, proc.stdout
    ok = subprocess.run(["make", "-s", "doctor", "CONFIG=examples/provision.json"],
                        cwd=str(harness.ROOT), capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and "doctor: no problems" in ok.stdout, ok.stdout + ok.stderr


def test_provision_stops_on_a_doctor_error_before_the_board(files, tmp_path, capsys):
    config = good(files)
    config["certificates"].append({"file": files["expired.pem"], "type": "CA", "name": "Old"})
    path = tmp_path / "site.json"
    path.write_text(json.dumps(config))
    # the port is no board: an attempt to reach it would fail with status 1
    assert provision.main([str(path), "--port", "/dev/null-no-board"]) == 2
    captured = capsys.readouterr()
    assert "doctor: ERROR certificates[4] (CA Old): expired on" in captured.out
    assert "provision: bad config: make doctor found the errors above" in captured.err
