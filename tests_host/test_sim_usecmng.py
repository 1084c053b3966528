"""+USECMNG in the simulator.

Most tests build a Device, register the command family and call the handler
the way the engine does; a `>` data phase is driven by calling the returned
Prompt's on_data with the bytes the host would send. The last section runs
the same commands over the wire, through a simulator on a pty.
"""

import base64
import datetime
import hashlib
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from fixtures_sim import AtClient, final_result, info_lines
from thawte import (THAWTE_COMMON_NAME, THAWTE_DER_MD5, THAWTE_EXPIRY, THAWTE_NAME, THAWTE_PEM,
                    THAWTE_PEM_SIZE)
from ubxsim import cme, roots, usecmng, x509info
from ubxsim.command import ACTION, READ, SET, TEST, Prompt
from ubxsim.device import Device

UTC = datetime.timezone.utc
PEM, DER = serialization.Encoding.PEM, serialization.Encoding.DER
PKCS8, TRADITIONAL = serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL
PLAIN = serialization.NoEncryption()
EC_PARAMETERS_P256 = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"


# --------------------------------------------------------------- helpers

class StandInFs:
    """The part of device.fs that op 1 uses."""

    def __init__(self, files=None):
        self.files = dict(files or {})

    def read(self, name):
        if name not in self.files:
            raise FileNotFoundError(name)
        return self.files[name]


@pytest.fixture
def device(tmp_path):
    dev = Device(str(tmp_path / "state"))
    usecmng.register(dev)
    return dev


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def cmd(dev, *params):
    return dev.handlers["+USECMNG"](dev, SET, list(params))


def import_data(dev, kind, name, data, password=None):
    """AT+USECMNG=0,... followed by the data phase; returns the final lines."""
    params = [0, kind, name, len(data)] + ([password] if password is not None else [])
    prompt = cmd(dev, *params)
    assert isinstance(prompt, Prompt)
    assert prompt.size == len(data)
    return prompt.on_data(data)


def listing(dev, *kind):
    return cmd(dev, 3, *kind)


def user_lines(dev):
    preinstalled = {r.name for r in roots.preinstalled()}
    return [line for line in listing(dev) if line.split(",")[1].strip('"') not in preinstalled]


def snapshot(dev):
    """Everything an import could change: the listing, the MD5s, the state file."""
    state = os.path.join(dev.credentials.path, usecmng.STATE_FILE)
    saved = open(state, "rb").read() if os.path.exists(state) else None
    md5s = [(e.kind, e.name, e.md5) for e in dev.credentials.entries()]
    return listing(dev), md5s, saved


def make_cert(key, cn="Test CA", not_after=datetime.datetime(2040, 1, 1, tzinfo=UTC), pad=0):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=UTC))
               .not_valid_after(not_after))
    if pad:  # an opaque private extension to reach an exact size
        oid = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1")
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, b"\0" * pad), critical=False)
    return builder.sign(key, hashes.SHA256())


def cert_der_of_size(key, size):
    # the random serial (and an ECDSA signature) change the length from one
    # signing to the next, and a pad that crosses a DER length boundary can
    # overshoot: keep re-signing until one lands exactly
    pad = size - len(make_cert(key).public_bytes(DER))
    for _ in range(200):
        der = make_cert(key, pad=pad).public_bytes(DER)
        if len(der) == size:
            return der
        pad += size - len(der)
    raise AssertionError("could not hit %d bytes" % size)


def md5(data):
    return hashlib.md5(data).hexdigest()


def thawte_der():
    return x509info.pem_decode(THAWTE_PEM)[1]


def expect_error(code, fn, *args):
    with pytest.raises(cme.CmeError) as info:
        fn(*args)
    assert info.value.code == code, info.value.detail
    return info.value


# ------------------------------------------------------- the spec's vector

def test_thawte_vector_imports_with_the_spec_md5(device):
    assert len(THAWTE_PEM) == THAWTE_PEM_SIZE and b"\r\n" in THAWTE_PEM
    lines = import_data(device, 0, THAWTE_NAME, THAWTE_PEM)
    assert lines == ['+USECMNG: 0,0,"ThawteCA","%s"' % THAWTE_DER_MD5]
    assert user_lines(device) == ['"CA","ThawteCA","%s","%s"' % (THAWTE_COMMON_NAME, THAWTE_EXPIRY)]
    assert cmd(device, 4, 0, "ThawteCA") == ['+USECMNG: 4,0,"ThawteCA","%s"' % THAWTE_DER_MD5]
    assert md5(device.credentials.get(0, "ThawteCA")) == THAWTE_DER_MD5


@pytest.mark.parametrize("variant", ["lf", "lf+newline", "crlf+newline"])
def test_pem_line_end_variants_store_the_same_der(device, variant):
    data = {
        "lf": THAWTE_PEM.replace(b"\r\n", b"\n"),
        "lf+newline": THAWTE_PEM.replace(b"\r\n", b"\n") + b"\n",
        "crlf+newline": THAWTE_PEM + b"\r\n",
    }[variant]
    assert import_data(device, 0, "T", data) == ['+USECMNG: 0,0,"T","%s"' % THAWTE_DER_MD5]


def test_der_import_stores_the_bytes_as_sent(device):
    der = thawte_der()
    assert import_data(device, 0, "T", der) == ['+USECMNG: 0,0,"T","%s"' % THAWTE_DER_MD5]
    assert device.credentials.get(0, "T") == der


def test_test_command_lists_ops_and_types(device):
    assert device.handlers["+USECMNG"](device, TEST, []) == ["+USECMNG: (0-4),(0-2)"]


@pytest.mark.parametrize("kind", [READ, ACTION])
def test_read_and_action_forms_are_refused(device, kind):
    expect_error(cme.NOT_SUPPORTED, device.handlers["+USECMNG"], device, kind, [])


# ------------------------------------------------------------- rejections

def _bad_pre_prompt():
    return [
        ("op 5", [5, 0, "X", 10], cme.INCORRECT_PARAMETERS),
        ("no op", [None], cme.INCORRECT_PARAMETERS),
        ("op as string", ["0", 0, "X", 10], cme.INCORRECT_PARAMETERS),
        ("type 4", [0, 4, "X", 10], cme.INCORRECT_PARAMETERS),
        ("type 5", [0, 5, "X", 10], cme.INCORRECT_PARAMETERS),
        ("type missing", [0, None, "X", 10], cme.INCORRECT_PARAMETERS),
        ("name empty", [0, 0, "", 10], cme.INCORRECT_PARAMETERS),
        ("name as number", [0, 0, 7, 10], cme.INCORRECT_PARAMETERS),
        ("name 31", [0, 0, "N" * 31, 10], cme.TEXT_TOO_LONG),
        ("name control char", [0, 0, "a\tb", 10], cme.INVALID_CHARS),
        ("size 0", [0, 0, "X", 0], cme.INCORRECT_PARAMETERS),
        ("size 8193", [0, 0, "X", 8193], cme.INCORRECT_PARAMETERS),
        ("size missing", [0, 0, "X"], cme.INCORRECT_PARAMETERS),
        ("size as string", [0, 0, "X", "10"], cme.INCORRECT_PARAMETERS),
        ("too many", [0, 2, "X", 10, "pw", 1], cme.INCORRECT_PARAMETERS),
        ("password for CA", [0, 0, "X", 10, "pw"], cme.INCORRECT_PARAMETERS),
        ("password for CC", [0, 1, "X", 10, "pw"], cme.INCORRECT_PARAMETERS),
        ("password for SC", [0, 3, "X", 10, "pw"], cme.INCORRECT_PARAMETERS),
        ("password 129", [0, 2, "X", 10, "p" * 129], cme.TEXT_TOO_LONG),
        ("pre-installed name", [0, 0, "ubx_digicert_global_root_ca", 10], cme.NOT_ALLOWED),
        ("remove without name", [2, 0], cme.INCORRECT_PARAMETERS),
        ("list type 4", [3, 4], cme.INCORRECT_PARAMETERS),
        ("list two types", [3, 0, 1], cme.INCORRECT_PARAMETERS),
        ("md5 type 9", [4, 9, "X"], cme.INCORRECT_PARAMETERS),
        ("file name 64", [1, 0, "X", "f" * 64], cme.TEXT_TOO_LONG),
    ]


@pytest.mark.parametrize("case", _bad_pre_prompt(), ids=lambda c: c[0])
def test_bad_parameters_fail_before_any_prompt(device, case):
    _, params, code = case
    import_data(device, 0, "Kept", THAWTE_PEM)
    before = snapshot(device)
    expect_error(code, cmd, device, *params)  # raises: no Prompt was returned
    assert snapshot(device) == before


def test_password_of_128_characters_reaches_the_prompt(device):
    assert isinstance(cmd(device, 0, 2, "K", 10, "p" * 128), Prompt)


def _bad_certificate_data():
    der = thawte_der()
    pem_lf = THAWTE_PEM.replace(b"\r\n", b"\n")
    body = pem_lf.split(b"\n")
    return [
        ("garbage", b"hello, this is not a certificate"),
        ("truncated DER", der[:-1]),
        ("DER half", der[: len(der) // 2]),
        ("DER trailing junk", der + b"\0"),
        ("DER two copies", der + der),
        ("PEM trailing junk", pem_lf + b"\nextra"),
        ("PEM two trailing newlines", pem_lf + b"\n\n"),
        ("PEM two certificates", pem_lf + b"\n" + pem_lf),
        ("PEM leading blank", b"\n" + pem_lf),
        ("PEM bad base64", pem_lf.replace(b"MIIE", b"M!IE", 1)),
        ("PEM base64 cut", b"\n".join(body[:5] + body[-1:])),
        ("PEM no END", b"\n".join(body[:-1])),
        ("PEM END mismatch", pem_lf.replace(b"END CERTIFICATE", b"END X509 CRL")),
        ("PEM wrong label", pem_lf.replace(b"CERTIFICATE", b"X509 CRL")),
        ("PEM header", pem_lf.replace(b"-----\n", b"-----\nComment: hi\n\n", 1)),
        ("PEM blank body line", pem_lf.replace(b"-----\n", b"-----\n\n", 1)),
        ("PEM empty body", b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
        ("non-ASCII PEM", pem_lf.replace(b"MIIE", b"MI\xc3\xa9", 1)),
        ("DER not a sequence", b"\x04\x03abc"),
        ("one zero byte", b"\0"),
    ]


@pytest.mark.parametrize("case", _bad_certificate_data(), ids=lambda c: c[0])
@pytest.mark.parametrize("kind", [0, 1, 3])
def test_bad_certificate_data_is_refused_and_nothing_changes(device, case, kind):
    _, data = case
    import_data(device, 0, "Kept", THAWTE_PEM)
    before = snapshot(device)
    expect_error(cme.INCORRECT_PARAMETERS, import_data, device, kind, "New", data)
    # an overwrite attempt with bad data leaves the old entry as it was
    expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 0, "Kept", data)
    assert snapshot(device) == before


def test_data_of_the_wrong_length_is_refused(device):
    prompt = cmd(device, 0, 0, "T", len(THAWTE_PEM))
    expect_error(cme.INCORRECT_PARAMETERS, prompt.on_data, THAWTE_PEM[:-1])
    assert user_lines(device) == []


def test_key_under_a_certificate_type_is_refused(device, ec_key):
    before = snapshot(device)
    key_pem = ec_key.private_bytes(PEM, PKCS8, PLAIN)
    for kind in (0, 1, 3):
        expect_error(cme.INCORRECT_PARAMETERS, import_data, device, kind, "K", key_pem)
    assert snapshot(device) == before


def test_certificate_under_the_key_type_is_refused(device):
    before = snapshot(device)
    expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "K", THAWTE_PEM)
    expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "K", thawte_der())
    assert snapshot(device) == before


def test_common_name_with_a_quote_is_refused(device, ec_key):
    before = snapshot(device)
    der = make_cert(ec_key, cn='say "hi"').public_bytes(DER)
    expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 0, "Q", der)
    assert snapshot(device) == before


# ------------------------------------------------------------ the limits

def test_ten_user_entries_then_memory_full(device, ec_key):
    der = make_cert(ec_key).public_bytes(DER)
    for i in range(10):
        import_data(device, i % 2, "E%d" % i, der)
    assert len(user_lines(device)) == 10
    before = snapshot(device)
    expect_error(cme.MEMORY_FULL, cmd, device, 0, 0, "E10", len(der))  # before the prompt
    expect_error(cme.MEMORY_FULL, cmd, device, 1, 0, "E10", "file")
    assert snapshot(device) == before
    # overwriting an existing name is still allowed, and keeps its place
    assert import_data(device, 0, "E3", THAWTE_PEM)[0].endswith('"%s"' % THAWTE_DER_MD5)
    lines = user_lines(device)
    assert len(lines) == 10 and lines[3].startswith('"CA","E3","thawte Primary Root CA"')


def test_store_filled_during_the_data_phase_refuses_the_pending_import(device, ec_key):
    der = make_cert(ec_key).public_bytes(DER)
    for i in range(9):
        import_data(device, 0, "E%d" % i, der)
    pending = cmd(device, 0, 0, "Late", len(der))
    import_data(device, 0, "E9", der)
    before = snapshot(device)
    expect_error(cme.MEMORY_FULL, pending.on_data, der)
    assert snapshot(device) == before


def test_name_of_30_characters_is_accepted_31_refused(device):
    name30 = "n" * 30
    assert import_data(device, 0, name30, THAWTE_PEM) == [
        '+USECMNG: 0,0,"%s","%s"' % (name30, THAWTE_DER_MD5)]
    expect_error(cme.TEXT_TOO_LONG, cmd, device, 0, 0, name30 + "n", 10)
    assert [line.split(",")[1] for line in user_lines(device)] == ['"%s"' % name30]


def test_size_8192_is_imported_8193_refused(device, ec_key):
    der = cert_der_of_size(ec_key, 8192)
    assert import_data(device, 0, "Big", der) == ['+USECMNG: 0,0,"Big","%s"' % md5(der)]
    expect_error(cme.INCORRECT_PARAMETERS, cmd, device, 0, 0, "Bigger", 8193)


def test_same_name_and_type_overwrites(device, ec_key):
    import_data(device, 0, "First", THAWTE_PEM)
    import_data(device, 0, "Mine", THAWTE_PEM)
    other = make_cert(ec_key, cn="Other CA").public_bytes(DER)
    assert import_data(device, 0, "Mine", other) == ['+USECMNG: 0,0,"Mine","%s"' % md5(other)]
    lines = user_lines(device)
    assert len(lines) == 2 and lines[1] == '"CA","Mine","Other CA","2040/01/01"'
    assert cmd(device, 4, 0, "Mine") == ['+USECMNG: 4,0,"Mine","%s"' % md5(other)]


def test_a_name_is_unique_across_types(device, ec_key):
    import_data(device, 0, "Shared", THAWTE_PEM)
    key_der = ec_key.private_bytes(DER, PKCS8, PLAIN)
    import_data(device, 2, "Shared", key_der)
    assert user_lines(device) == ['"PK","Shared"']
    expect_error(cme.NOT_FOUND, cmd, device, 4, 0, "Shared")
    assert device.credentials.get(0, "Shared") is None
    assert device.credentials.get(2, "Shared") == key_der


# ------------------------------------------------------ listing and expiry

def test_listing_shows_each_type_in_its_form_and_filters(device, ec_key):
    cc = make_cert(ec_key, cn="Client One",
                   not_after=datetime.datetime(2030, 1, 1, 0, 0, 0, tzinfo=UTC))
    sc = make_cert(ec_key, cn="Server One")
    import_data(device, 0, "CA1", THAWTE_PEM)
    import_data(device, 1, "CC1", cc.public_bytes(PEM))
    import_data(device, 2, "PK1", ec_key.private_bytes(PEM, TRADITIONAL, PLAIN))
    import_data(device, 3, "SC1", sc.public_bytes(DER))
    assert user_lines(device) == [
        '"CA","CA1","thawte Primary Root CA","2036/07/17"',
        '"CC","CC1","Client One","2030/01/01"',
        '"PK","PK1"',
        '"SC","SC1"',
    ]
    assert listing(device, 1) == ['"CC","CC1","Client One","2030/01/01"']
    assert listing(device, 2) == ['"PK","PK1"']
    assert listing(device, 3) == ['"SC","SC1"']
    ca_lines = listing(device, 0)
    assert ca_lines[0] == '"CA","CA1","thawte Primary Root CA","2036/07/17"'
    assert len(ca_lines) == 1 + len(roots.TABLE)
    assert listing(device, None) == listing(device)


@pytest.mark.parametrize("not_after, shown", [
    (datetime.datetime(2031, 3, 4, 23, 59, 59, tzinfo=UTC), "2031/03/05"),
    (datetime.datetime(2031, 3, 4, 0, 0, 0, tzinfo=UTC), "2031/03/04"),
    (datetime.datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC), "2032/01/01"),
])
def test_expiry_is_the_date_of_not_after_plus_one_second(device, ec_key, not_after, shown):
    import_data(device, 1, "C", make_cert(ec_key, cn="X", not_after=not_after).public_bytes(DER))
    assert listing(device, 1) == ['"CC","C","X","%s"' % shown]


def test_empty_store_lists_only_the_preinstalled_roots(device):
    assert user_lines(device) == []
    assert len(listing(device)) == len(roots.TABLE)


# ----------------------------------------------------------------- removal

def test_remove_needs_the_right_type_and_an_existing_name(device):
    import_data(device, 0, "T", THAWTE_PEM)
    expect_error(cme.NOT_FOUND, cmd, device, 2, 1, "T")
    assert len(user_lines(device)) == 1
    assert cmd(device, 2, 0, "T") == []
    assert user_lines(device) == []
    expect_error(cme.NOT_FOUND, cmd, device, 2, 0, "T")
    expect_error(cme.NOT_FOUND, cmd, device, 4, 0, "T")
    assert device.credentials.get(0, "T") is None


def test_removal_frees_a_slot(device, ec_key):
    der = make_cert(ec_key).public_bytes(DER)
    for i in range(10):
        import_data(device, 0, "E%d" % i, der)
    cmd(device, 2, 0, "E0")
    import_data(device, 0, "New", der)
    assert user_lines(device)[-1].startswith('"CA","New"')


# ----------------------------------------------------- pre-installed roots

def test_preinstalled_roots_are_listed_as_the_table_says(device):
    expected = ['"CA","%s","%s","%s"' % row for row in roots.TABLE]
    assert listing(device) == expected


@pytest.mark.parametrize("root", roots.preinstalled(), ids=lambda r: r.name)
def test_preinstalled_root_certificate_matches_its_table_row(root):
    cert = x509info.load_certificate(root.der)
    assert x509info.common_name(cert) == root.common_name
    assert x509info.table_expiry(cert.not_valid_after_utc) == root.expiry
    assert len(root.name) <= 60


def test_standin_roots_are_deterministic():
    for root in roots.preinstalled():
        if root.source == roots.SOURCE_STANDIN:
            again = roots._standin_certificate(root.name, root.common_name, root.expiry)
            assert again == root.der
            cert = x509.load_der_x509_certificate(root.der)
            cert.verify_directly_issued_by(cert)
            assert cert.public_key() == roots.standin_private_key(root.name).public_key()


def test_preinstalled_roots_cannot_be_removed_or_replaced(device):
    before = snapshot(device)
    for name, _, _ in roots.TABLE:
        expect_error(cme.NOT_ALLOWED, cmd, device, 2, 0, name)
    expect_error(cme.NOT_ALLOWED, cmd, device, 0, 0, "ubx_digicert_global_root_g2", 100)
    expect_error(cme.NOT_ALLOWED, cmd, device, 0, 2, "ubx_baltimore_cybertrust_root", 100)
    device.fs = StandInFs({"t.pem": THAWTE_PEM})
    expect_error(cme.NOT_ALLOWED, cmd, device, 1, 0, "ubx_digicert_global_root_ca", "t.pem")
    assert snapshot(device) == before


def test_preinstalled_md5_and_lookup(device):
    for root in roots.preinstalled():
        assert cmd(device, 4, 0, root.name) == ['+USECMNG: 4,0,"%s","%s"' % (root.name, md5(root.der))]
        assert device.credentials.get(0, root.name) == root.der
        assert device.credentials.get(0, root.name, db=usecmng.DB_PREINSTALLED) == root.der
        assert device.credentials.get(0, root.name, db=usecmng.DB_USER) is None
        expect_error(cme.NOT_FOUND, cmd, device, 4, 1, root.name)


def test_preinstalled_roots_do_not_count_against_ten(device, ec_key):
    der = make_cert(ec_key).public_bytes(DER)
    for i in range(10):
        import_data(device, 0, "E%d" % i, der)
    assert len(listing(device, 0)) == 10 + len(roots.TABLE)
    assert device.credentials.user_count() == 10


def test_database_selection(device):
    import_data(device, 0, "T", THAWTE_PEM)
    store = device.credentials
    assert store.get(0, "T", db=usecmng.DB_USER) == thawte_der()
    assert store.get(0, "T", db=usecmng.DB_PREINSTALLED) is None
    assert store.all(0, db=usecmng.DB_USER) == [thawte_der()]
    assert store.all(0, db=usecmng.DB_PREINSTALLED) == [r.der for r in roots.preinstalled()]
    assert len(store.all(0)) == 1 + len(roots.TABLE)


# --------------------------------------------------------- private keys

def _plain_key_encodings(key):
    pkcs8_pem = key.private_bytes(PEM, PKCS8, PLAIN)
    return {
        "traditional PEM": key.private_bytes(PEM, TRADITIONAL, PLAIN),
        "traditional PEM CRLF": key.private_bytes(PEM, TRADITIONAL, PLAIN).replace(b"\n", b"\r\n"),
        "traditional DER": key.private_bytes(DER, TRADITIONAL, PLAIN),
        "PKCS8 PEM": pkcs8_pem,
        "PKCS8 PEM no newline": pkcs8_pem.rstrip(b"\n"),
        "PKCS8 DER": key.private_bytes(DER, PKCS8, PLAIN),
    }


@pytest.mark.parametrize("which", ["rsa", "ec"])
def test_plain_keys_in_every_container_are_stored_as_der(device, request, which):
    key = request.getfixturevalue(which + "_key")
    for label, data in _plain_key_encodings(key).items():
        stored = data if not data.startswith(b"-----") else x509info.pem_decode(data)[1]
        lines = import_data(device, 2, "K", data)
        assert lines == ['+USECMNG: 0,2,"K","%s"' % md5(stored)], label
        assert device.credentials.get(2, "K") == stored
        assert device.credentials.key_password_ok("K")
        assert device.credentials.private_key("K").private_numbers() == key.private_numbers()
        rewrapped = "-----BEGIN %s-----\n%s-----END %s-----\n" % (
            x509info.key_pem_label(stored), base64.encodebytes(stored).decode(),
            x509info.key_pem_label(stored))
        assert serialization.load_pem_private_key(rewrapped.encode(), None).private_numbers() \
            == key.private_numbers(), label
    assert user_lines(device) == ['"PK","K"']


@pytest.mark.parametrize("which", ["rsa", "ec"])
def test_encrypted_der_key_needs_the_right_password(device, request, which):
    # for RSA this is the DER form an encrypted PKCS#1 key travels in
    key = request.getfixturevalue(which + "_key")
    der = key.private_bytes(DER, PKCS8, serialization.BestAvailableEncryption(b"s3cret"))
    before = snapshot(device)
    expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "K", der)
    expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "K", der, "")
    expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "K", der, "wrong")
    assert snapshot(device) == before
    assert import_data(device, 2, "K", der, "s3cret") == ['+USECMNG: 0,2,"K","%s"' % md5(der)]
    store = device.credentials
    assert store.get(2, "K") == der
    assert store.entry(2, "K").encrypted
    assert store.key_password_ok("K", "s3cret")
    assert not store.key_password_ok("K", "wrong")
    assert not store.key_password_ok("K")
    assert store.private_key("K", "s3cret").private_numbers() == key.private_numbers()


def test_encrypted_keys_in_pem_are_refused(device, rsa_key, ec_key):
    secret = serialization.BestAvailableEncryption(b"s3cret")
    before = snapshot(device)
    for data in (rsa_key.private_bytes(PEM, TRADITIONAL, secret),   # Proc-Type/DEK-Info
                 ec_key.private_bytes(PEM, TRADITIONAL, secret),
                 ec_key.private_bytes(PEM, PKCS8, secret)):          # ENCRYPTED PRIVATE KEY
        expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "K", data, "s3cret")
        expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "K", data)
    assert snapshot(device) == before


def test_password_for_a_plain_key_is_refused(device, ec_key):
    before = snapshot(device)
    expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "K",
                 ec_key.private_bytes(DER, PKCS8, PLAIN), "pw")
    assert snapshot(device) == before


def test_ec_parameters_block_is_refused(device, ec_key):
    key_pem = ec_key.private_bytes(PEM, TRADITIONAL, PLAIN)
    before = snapshot(device)
    for data in (EC_PARAMETERS_P256 + key_pem, key_pem + EC_PARAMETERS_P256, EC_PARAMETERS_P256):
        expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "K", data)
    assert snapshot(device) == before
    assert import_data(device, 2, "K", key_pem)  # the same key alone is fine


def test_bad_key_data_is_refused(device, ec_key, rsa_key):
    ec_pkcs8 = ec_key.private_bytes(PEM, PKCS8, PLAIN)
    rsa_der = rsa_key.private_bytes(DER, TRADITIONAL, PLAIN)
    cases = [
        b"not a key at all",
        rsa_der[:-3],
        rsa_der + b"\0\0",
        ec_pkcs8.replace(b"PRIVATE KEY", b"RSA PRIVATE KEY"),  # label and body disagree
        ec_pkcs8.replace(b"-----\n", b"-----\nProc-Type: 4,ENCRYPTED\n\n", 1),
        ec_pkcs8 + b"junk",
        ec_key.public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        ec_key.public_key().public_bytes(DER, serialization.PublicFormat.SubjectPublicKeyInfo),
    ]
    import_data(device, 2, "Kept", ec_pkcs8)
    before = snapshot(device)
    for data in cases:
        expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "New", data)
        expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "Kept", data)
    assert snapshot(device) == before


def test_unsupported_key_algorithm_is_refused(device):
    from cryptography.hazmat.primitives.asymmetric import ed25519
    der = ed25519.Ed25519PrivateKey.generate().private_bytes(DER, PKCS8, PLAIN)
    expect_error(cme.INCORRECT_PARAMETERS, import_data, device, 2, "K", der)
    assert user_lines(device) == []


# ------------------------------------------------------------ persistence

def test_entries_survive_a_new_store_on_the_same_directory(device, ec_key):
    enc = ec_key.private_bytes(DER, PKCS8, serialization.BestAvailableEncryption(b"pw"))
    import_data(device, 0, "T", THAWTE_PEM)
    import_data(device, 1, "C", make_cert(ec_key, cn="Client").public_bytes(PEM))
    import_data(device, 2, "K", enc, "pw")
    import_data(device, 3, "S", make_cert(ec_key, cn="Server").public_bytes(DER))
    cmd(device, 2, 3, "S")
    reopened = usecmng.CredentialStore(device.credentials.path)
    old = [(e.kind, e.name, e.der, e.common_name, e.expiry, e.encrypted)
           for e in device.credentials.entries()]
    new = [(e.kind, e.name, e.der, e.common_name, e.expiry, e.encrypted) for e in reopened.entries()]
    assert new == old and len(new) == 3 + len(roots.TABLE)
    assert reopened.key_password_ok("K", "pw")
    leftovers = [f for f in os.listdir(device.credentials.path) if f != usecmng.STATE_FILE]
    assert leftovers == []


def test_a_restarted_device_keeps_its_credentials(tmp_path):
    first = Device(str(tmp_path))
    usecmng.register(first)
    import_data(first, 0, "T", THAWTE_PEM)
    first.restart()
    assert cmd(first, 4, 0, "T") == ['+USECMNG: 4,0,"T","%s"' % THAWTE_DER_MD5]
    second = Device(str(tmp_path))
    usecmng.register(second)
    assert user_lines(second) == ['"CA","T","%s","%s"' % (THAWTE_COMMON_NAME, THAWTE_EXPIRY)]


def test_in_memory_store_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dev = Device(None)
    usecmng.register(dev)
    assert dev.credentials.path is None
    import_data(dev, 0, "T", THAWTE_PEM)
    assert cmd(dev, 4, 0, "T") == ['+USECMNG: 4,0,"T","%s"' % THAWTE_DER_MD5]
    assert os.listdir(tmp_path) == []


def test_failed_save_changes_nothing(device, monkeypatch):
    import_data(device, 0, "Kept", THAWTE_PEM)
    before = snapshot(device)

    def refuse(self, entries):
        raise OSError("disk full")

    monkeypatch.setattr(usecmng.CredentialStore, "_save", refuse)
    expect_error(cme.MEMORY_FAILURE, import_data, device, 0, "New", THAWTE_PEM)
    expect_error(cme.MEMORY_FAILURE, cmd, device, 2, 0, "Kept")
    assert snapshot(device) == before


# ------------------------------------------------------- op 1: from the FS

def test_import_from_a_file(device, ec_key):
    key_der = ec_key.private_bytes(DER, PKCS8, serialization.BestAvailableEncryption(b"pw"))
    device.fs = StandInFs({"thawte.pem": THAWTE_PEM, "key.der": key_der})
    assert cmd(device, 1, 0, "T", "thawte.pem") == ['+USECMNG: 1,0,"T","%s"' % THAWTE_DER_MD5]
    assert cmd(device, 1, 2, "K", "key.der", "pw") == ['+USECMNG: 1,2,"K","%s"' % md5(key_der)]
    assert user_lines(device) == ['"CA","T","thawte Primary Root CA","2036/07/17"', '"PK","K"']


def test_file_import_rejections_change_nothing(device, ec_key):
    big = cert_der_of_size(ec_key, 8193)
    device.fs = StandInFs({"big.der": big, "empty": b"", "junk": b"junk", "ok.pem": THAWTE_PEM,
                           "f" * 63: THAWTE_PEM})
    before = snapshot(device)
    expect_error(cme.NOT_FOUND, cmd, device, 1, 0, "T", "missing.pem")
    expect_error(cme.INCORRECT_PARAMETERS, cmd, device, 1, 0, "T", "big.der")
    expect_error(cme.INCORRECT_PARAMETERS, cmd, device, 1, 0, "T", "empty")
    expect_error(cme.INCORRECT_PARAMETERS, cmd, device, 1, 0, "T", "junk")
    expect_error(cme.INCORRECT_PARAMETERS, cmd, device, 1, 0, "T", "ok.pem", "pw")
    expect_error(cme.INCORRECT_PARAMETERS, cmd, device, 1, 0, "T", "")
    assert snapshot(device) == before
    assert cmd(device, 1, 0, "T", "f" * 63)  # a 63-character file name is fine


# ------------------------------------------------------------ on the wire

def test_wire_thawte_import_through_the_prompt_then_list(at):
    raw = at.send_prompt('AT+USECMNG=0,0,"ThawteCA",%d' % THAWTE_PEM_SIZE)
    assert raw.endswith(b">") and b"OK" not in raw and b"ERROR" not in raw
    raw = at.send_data(THAWTE_PEM)
    assert final_result(raw) == "OK"
    assert info_lines(raw) == ['+USECMNG: 0,0,"ThawteCA","%s"' % THAWTE_DER_MD5]
    raw = at.send("AT+USECMNG=3")
    assert final_result(raw) == "OK"
    lines = info_lines(raw)
    assert lines[0] == '"CA","ThawteCA","thawte Primary Root CA","2036/07/17"'
    assert lines[1:] == ['"CA","%s","%s","%s"' % row for row in roots.TABLE]
    raw = at.send('AT+USECMNG=4,0,"ThawteCA"')
    assert info_lines(raw) == ['+USECMNG: 4,0,"ThawteCA","%s"' % THAWTE_DER_MD5]
    assert info_lines(at.send("AT+USECMNG=?")) == ["+USECMNG: (0-4),(0-2)"]


def test_wire_bad_parameters_get_no_prompt(at):
    at.send("AT+CMEE=2")
    raw = at.send('AT+USECMNG=0,0,"X",8193')
    assert b">" not in raw
    assert final_result(raw) == "+CME ERROR: incorrect parameters"
    raw = at.send('AT+USECMNG=0,0,"%s",10' % ("n" * 31))
    assert b">" not in raw and final_result(raw).startswith("+CME ERROR:")


def test_wire_bad_data_is_refused_and_not_listed(at):
    at.send("AT+CMEE=1")
    data = THAWTE_PEM.replace(b"MIIE", b"M!IE", 1)
    assert at.send_prompt('AT+USECMNG=0,0,"Bad",%d' % len(data)).endswith(b">")
    assert final_result(at.send_data(data)) == "+CME ERROR: %d" % cme.INCORRECT_PARAMETERS
    raw = at.send("AT+USECMNG=3,0")
    assert not any('"Bad"' in line for line in info_lines(raw))


def test_wire_import_from_a_downloaded_file(at):
    assert at.send_prompt('AT+UDWNFILE="thawte.pem",%d' % THAWTE_PEM_SIZE).endswith(b">")
    assert final_result(at.send_data(THAWTE_PEM)) == "OK"
    raw = at.send('AT+USECMNG=1,0,"FromFile","thawte.pem"')
    assert final_result(raw) == "OK"
    assert info_lines(raw) == ['+USECMNG: 1,0,"FromFile","%s"' % THAWTE_DER_MD5]


def test_wire_credentials_survive_a_simulator_restart(sim_factory, tmp_path):
    state = tmp_path / "module-state"
    first = sim_factory(state=state)
    client = AtClient(first.link)
    try:
        assert client.send_prompt('AT+USECMNG=0,0,"Kept",%d' % THAWTE_PEM_SIZE).endswith(b">")
        assert final_result(client.send_data(THAWTE_PEM)) == "OK"
    finally:
        client.close()
    first.stop()
    second = sim_factory(state=state)
    client = AtClient(second.link)
    try:
        raw = client.send('AT+USECMNG=4,0,"Kept"')
        assert info_lines(raw) == ['+USECMNG: 4,0,"Kept","%s"' % THAWTE_DER_MD5]
    finally:
        client.close()
