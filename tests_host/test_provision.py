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


def test_make_provision_on_a_port_without_board_keeps_board_py(rig, config, tmp_path):
    """The board names itself (no BOARD): on the virtual board's pty that is
    the virtual board, never a silent pico whose board.py breaks the import."""
    import os
    import subprocess
    target = harness.Target(rig.connect)
    harness.deploy(target, harness.compile_lib(target.mpy_info(), tmp_path / "mpy"), "virtual")
    before = target.exec("print(repr(open('board.py').read()))").strip()
    env = {k: v for k, v in os.environ.items() if k not in ("BOARD", "PORT")}
    proc = subprocess.run(["make", "--no-print-directory", "provision", "PORT=" + rig.connect,
                           "CONFIG=" + str(config)], cwd=str(harness.ROOT), env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 certificate(s) imported" in proc.stdout, proc.stdout
    assert target.exec("print(repr(open('board.py').read()))").strip() == before
    assert before == repr("from boards.virtual import uart\n")


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


def test_cipher_codes_may_be_hex_strings(tmp_path):
    # JSON has no 0x literal: "0xC02F" and 49199 are the same code
    _, profiles = provision.load_config(_config(tmp_path, {"profiles": {
        "3": {"cipher_list": ["0xC02F", 49195, "0x009c"]},
        "4": {"cipher_suite_iana": "0xC02B"}}}))
    assert profiles[3]["cipher_list"] == [0xC02F, 0xC02B, 0x009C]
    assert profiles[4]["cipher_suite_iana"] == 0xC02B


@pytest.mark.parametrize("settings, where, shown", [
    ({"add_cipher": ["C02F"]}, r"add_cipher\[0\]", '"C02F"'),
    ({"cipher_list": [49195, "0xC02G"]}, r"cipher_list\[1\]", '"0xC02G"'),
    ({"cipher_suite_iana": "0x1C02F"}, "cipher_suite_iana", '"0x1C02F"'),
    ({"remove_cipher": 1.5}, "remove_cipher", "1.5"),
])
def test_a_bad_cipher_code_names_the_accepted_forms(tmp_path, settings, where, shown):
    with pytest.raises(provision.ConfigError,
                       match=r"^profiles\.3\.%s: %s is not a cipher code: give a number \(49199\) "
                             r"or a hex string \(\"0xC02F\"\)$" % (where, shown)):
        provision.load_config(_config(tmp_path, {"profiles": {"3": settings}}))


# -- credentials that change: rotated, not overwritten -------------------------

def test_a_changed_provisioned_credential_is_rotated_tested_and_resumed(rig, tmp_path):
    import powercut
    from https_server import HttpsServer
    from pki import TestPki
    pki = TestPki()
    server = HttpsServer(pki.write_server_files(str(tmp_path), pki.server, "srv")).start()
    rig.sim.control("hosts", map={"server.test": ["127.0.0.1", server.port]})
    target = harness.Target(rig.connect)
    ca = tmp_path / "ca.pem"
    path = _config(tmp_path, {"certificates": [{"file": "ca.pem", "type": "CA", "name": "RotCA"}],
                              "profiles": {"2": {"validation_level": 1, "ca_name": "RotCA"}},
                              "check_url": "https://server.test/", "scratch_profile": 4})

    def run(data):
        ca.write_bytes(data)
        certs, profiles = provision.load_config(path)
        lines = []
        try:
            provision.provision(target, "virtual", certs, profiles, out=lines.append,
                                options=provision.options_of(path))
        except provision.ProvisionError as exc:
            lines.append("FAILED " + str(exc))
        return lines

    def row(lines, item):
        return [line.split(None, 2)[2] for line in lines if line.startswith(item + " ")]

    def board(code):
        return target.exec("import ubxsec\nfrom board import uart\nm = ubxsec.Module(uart())\n" + code)

    try:
        lines = run(pki.root.pem)
        assert row(lines, "CA RotCA")[0].startswith("imported"), lines
        # the root renewed (same key): the file changed, the credential is rotated
        renewed = powercut.renewed(pki.root)
        lines = run(renewed.pem)
        got = row(lines, "CA RotCA")
        assert got and got[0].startswith("rotated") and "RotCA -> p2-CA-g1" in got[0] \
            and "tested" in got[0], lines
        assert "1 credential(s) rotated, 0 rolled back" in lines, lines
        assert "ca_name" in "\n".join(lines) and "generation of" in "\n".join(lines), lines
        out = board("print([e.name for e in m.certs.list('CA') if e.name in ('RotCA', 'p2-CA-g1')],"
                    " m.profile(2).ca_name())")
        assert out.strip().endswith("['p2-CA-g1'] p2-CA-g1"), out
        lines = run(renewed.pem)   # nothing changed since
        assert row(lines, "CA RotCA")[0].startswith("unchanged") and "p2-CA-g1" in row(lines, "CA RotCA")[0]
        assert not [line for line in lines if " rotated " in line or " set " in line], lines
        # a root that does not sign the server's chain: the check fails, rolled back
        lines = run(pki.other_root.pem)
        got = row(lines, "CA RotCA")
        assert got and got[0].startswith("rolled back") and "keeps p2-CA-g1" in got[0], lines
        assert lines[-1].startswith("FAILED a rotation was rolled back"), lines
        # a run cut short: its journal is left open; the next run resumes it first
        (tmp_path / "new.pem").write_bytes(pki.root.pem)
        target.mpremote("resume", "cp", str(tmp_path / "new.pem"), ":" + target.layout().path("new.pem"))
        board("from ubxsec.rotate import Rotation\nRotation(m).begin(2, ca='new.pem')")
        lines = run(pki.root.pem)
        assert [line for line in lines if line.startswith("rotation journal") and " resumed "
                in line and line.endswith("left open: rolled back")], lines
        got = row(lines, "CA RotCA")
        assert got and got[0].startswith("rotated") and "p2-CA-g1 -> p2-CA-g2" in got[0], lines
    finally:
        server.stop()


def test_rotation_options_are_checked(tmp_path):
    base = {"certificates": [{"file": THAWTE, "type": "CA", "name": "n"}],
            "profiles": {"2": {"ca_name": "n"}}}
    for extra, message in (({"check_url": "https://x/"}, "go together"),
                           ({"check_url": "http://x/", "scratch_profile": 4}, "not an https"),
                           ({"check_url": "https://x/", "scratch_profile": 2}, "leaves alone")):
        with pytest.raises(provision.ConfigError, match=message):
            provision.load_config(_config(tmp_path, dict(base, **extra)))
