"""tools/provision.py: declarative and idempotent, on the virtual rig."""

import json
import sys

import pytest

import harness

sys.path.insert(0, str(harness.ROOT / "tools"))
import provision  # noqa: E402

DATA = harness.TESTS_DEVICE / "data"
THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"


def _config(tmp_path, config):
    path = tmp_path / "provision.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def config(tmp_path):
    return _config(tmp_path, {
        "certificates": [
            {"file": str(DATA / "thawte.pem"), "type": "CA", "name": "ProvPem"},
            {"file": str(DATA / "thawte.der"), "type": "CA", "name": "ProvDer"},
        ],
        "profiles": {"3": {"validation_level": 2, "ca_name": "ProvPem", "sni": "server.test"}},
    })


def test_second_run_imports_nothing_and_says_so(rig, config):
    target = harness.Target(rig.connect)
    certs, profiles = provision.load_config(config)
    assert [c.md5 for c in certs] == [THAWTE_MD5, THAWTE_MD5]

    first = []
    assert provision.provision(target, "virtual", certs, profiles, out=first.append) == (2, 3)
    assert any(line.startswith("CA ProvPem") and "imported" in line for line in first)
    assert "2 certificate(s) imported, 0 already up to date" in first

    second = []
    assert provision.provision(target, "virtual", certs, profiles, out=second.append) == (0, 0)
    assert "nothing imported: all 2 certificate(s) already on the module with matching MD5" in second
    assert not any(" imported " in line or " set " in line for line in second)

    listing = harness.Target(rig.connect).exec(
        "import ubxsec\nfrom board import uart\nm = ubxsec.Module(uart())\n"
        "print([e.name for e in m.certs.list('CA')], m.profile(3).validation_level(), m.profile(3).sni())")
    assert "'ProvPem', 'ProvDer'" in listing and listing.strip().endswith("2 server.test")


def test_a_changed_certificate_is_imported_again(rig, config, tmp_path):
    target = harness.Target(rig.connect)
    certs, profiles = provision.load_config(config)
    provision.provision(target, "virtual", certs[:1], {}, out=lambda line: None)
    target.exec("import ubxsec\nfrom board import uart\nubxsec.Module(uart()).certs.remove('CA', 'ProvPem')")
    lines = []
    assert provision.provision(target, "virtual", certs[:1], {}, out=lines.append) == (1, 0)
    assert any("was absent" in line for line in lines)


THAWTE = str(DATA / "thawte.pem")


@pytest.mark.parametrize("config, message", [
    ({"certificates": [{"file": "x.pem", "type": "CA", "name": "n"}]},
     r"certificates\[0\] \(n\), file .*x\.pem: cannot read it \(No such file"),
    ({"certificates": [{"file": THAWTE, "type": "XX", "name": "n"}]}, "type 'XX' is not one of CA, CC, PK, SC$"),
    ({"certificates": [{"file": THAWTE, "type": "ca", "name": "n"}]},
     r"type 'ca' is not one of CA, CC, PK, SC \(upper case"),
    ({"certificates": [{"file": THAWTE, "type": "CA"}]}, r"certificates\[0\]: 'name' must be"),
    ({"certificates": [{"file": THAWTE, "type": "CA", "name": "a"},
                       {"file": THAWTE, "type": "CA", "name": "a"}]}, r"certificates\[1\]: CA 'a' is listed twice"),
    ({"certificates": [{"file": THAWTE, "type": "CA", "name": "a\"b"}]}, r"certificates\[0\] \(a\"b\).*name"),
    ({"certificates": [{"file": THAWTE, "type": "CA", "name": "n", "password": "pw"}]},
     r"certificates\[0\] \(n\), file .*thawte\.pem: .*password"),
    ({"profiles": {"7": {"validation_level": 1}}}, "profiles.7: profile ids are 0-4"),
    ({"profiles": {"3": {"validation_level": 7}}}, "profiles.3.validation_level: .*7"),
    ({"profiles": {"3": {"server_hostname": "www.example .com"}}},
     "profiles.3.server_hostname: 'www.example .com' is not a hostname"),
    ({"profiles": {"3": {"sni": "bad_host!"}}}, "profiles.3.sni: 'bad_host!' is not a hostname"),
    ({"profiles": {"3": {"tls_versoin": 3}}}, "profiles.3.tls_versoin: unknown key"),
    ({"profiles": {"3": {"add_cipher": [0x1234]}}}, "profiles.3.add_cipher: .*cipher"),
    ({"profiles": {"3": {"cipher_suite": 1, "add_cipher": [0xC02B]}}}, "profiles.3: one cipher form only"),
    ({"profiles": {"3": {"psk": "x" * 65}}}, r"profiles.3.psk: psk: bad value \(not shown\)"),
    ({"profile": {}}, "only \"certificates\" and \"profiles\""),
])
def test_bad_configs_are_refused_before_touching_the_board(tmp_path, config, message):
    with pytest.raises(provision.ConfigError, match=message):
        provision.load_config(_config(tmp_path, config))


def test_an_empty_certificate_file_is_named(tmp_path):
    (tmp_path / "empty.pem").write_bytes(b"\n")
    config = {"certificates": [{"file": "empty.pem", "type": "CA", "name": "E"}]}
    with pytest.raises(provision.ConfigError, match=r"certificates\[0\] \(E\), file .*empty\.pem: the file is empty"):
        provision.load_config(_config(tmp_path, config))


def test_a_board_failure_names_the_item_and_shows_what_was_applied(rig, tmp_path):
    # TLS 1.3 passes the library's checks (0-4), the module refuses it
    path = _config(tmp_path, {"certificates": [{"file": THAWTE, "type": "CA", "name": "ProvHalf"}],
                              "profiles": {"3": {"tls_version": 4}}})
    certs, profiles = provision.load_config(path)
    lines = []
    with pytest.raises(provision.ProvisionError) as info:
        provision.provision(harness.Target(rig.connect), "virtual", certs, profiles, out=lines.append)
    assert str(info.value).startswith("profile 3 (tls_version): CmeError"), str(info.value)
    assert "Traceback" not in str(info.value)
    assert lines[0] == "applied before the failure:"
    assert any(line.startswith("CA ProvHalf") and "imported" in line for line in lines), lines


def test_main_reports_a_bad_config_with_exit_status_2(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert provision.main([str(path), "--port", "/dev/null-no-board"]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_secrets_never_reach_the_output(rig, tmp_path):
    identity, psk = "provisioned-identity-42", "provisioned-psk-17"
    path = _config(tmp_path, {"profiles": {"3": {"psk_identity": identity, "psk": psk,
                                                 "key_password": "kp-secret-9"}}})
    certs, profiles = provision.load_config(path)
    target = harness.Target(rig.connect)
    lines = []
    provision.provision(target, "virtual", certs, profiles, out=lines.append)
    text = "\n".join(lines)
    assert "profile 3 psk_identity" in text  # the row is there, its values are not
    for secret in (identity, psk, "kp-secret-9"):
        assert secret not in text


def test_a_stored_encrypted_key_with_an_unchecked_password_is_not_unchanged(rig, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    der = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"right-pw-1"))
    (tmp_path / "key.der").write_bytes(der)
    target = harness.Target(rig.connect)

    def run(password):
        certs, _ = provision.load_config(_config(tmp_path, {"certificates": [
            {"file": str(tmp_path / "key.der"), "type": "PK", "name": "ProvKey", "password": password}]}))
        lines = []
        provision.provision(target, "virtual", certs, {}, out=lines.append)
        return [line for line in lines if line.startswith("PK ProvKey")]

    assert "imported" in run("right-pw-1")[0]
    row = run("wrong-pw-2")[0]   # the module never sees this one
    assert "unchanged" not in row and "unchecked" in row and "password was not checked" in row, row
    assert "wrong-pw-2" not in row

