"""+USECMNG on the rig: Certs against the module (the simulator on the
virtual board, or a real module). Data files come from tests_device/data/,
deployed next to this file.

Every test works on names starting with "rig" (certificates, keys, module
files) and removes them again in a finally, so the demo's entries (ThawteCA)
and the pre-installed roots are left alone and a module that keeps its state
passes a second run (cleanup.py removes what an interrupted run left).
"""

from ubxsec.certs import CA, CC, KINDS, PK, SC, Entry
from ubxsec.errors import AtError, CmeError
import rig
from checks import raises, data_path, data_file

THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"  # from the spec's example
# listed as the date of notAfter + 1 s, or as notAfter on the series that do (rig.expiry)
THAWTE_EXPIRY = rig.expiry("2036/07/17", "2036/07/16 23:59:59")
CLIENT_EXPIRY = rig.expiry("2035/01/01", "2034/12/31 23:59:59")
THAWTE = Entry("CA", "rigThawte", "thawte Primary Root CA", THAWTE_EXPIRY)
MAX_USER_ENTRIES = 10  # the spec: up to 10 certificates or private keys


def certs():
    return rig.module().certs


def discard(kind, name):
    try:
        certs().remove(kind, name)
    except AtError:
        pass


def user_entries():
    return [e for e in certs().list() if e.name.startswith("rig")]


def test_import_thawte_by_byte_stream_then_list_and_md5():
    c = certs()
    try:
        assert c.import_bytes(data_file("thawte.pem"), CA, "rigThawte") == THAWTE_MD5
        assert c.md5(CA, "rigThawte") == THAWTE_MD5
        assert THAWTE in c.list()
        assert THAWTE in c.list(CA)
        # a key beside it: the PK filter keeps the key and leaves the CA out
        c.import_bytes(data_file("pk_ec.der"), PK, "rigKeyL")
        keys = c.list(PK)
        assert Entry("PK", "rigKeyL", None, None) in keys, keys
        assert THAWTE not in keys and all(e.kind == "PK" for e in keys), keys
    finally:
        discard(CA, "rigThawte")
        discard(PK, "rigKeyL")


def test_import_pem_and_der_files_from_flash():
    c = certs()
    lf = data_file("thawte.pem").replace(b"\r\n", b"\n")
    with open("rig_lf.pem", "wb") as f:
        f.write(b"\n" + lf + b"\n\n")  # whitespace around it is not sent
    try:
        assert c.import_file(data_path("thawte.pem"), CA, "rigThawte") == THAWTE_MD5
        assert c.import_file("rig_lf.pem", CA, "rigThawte") == THAWTE_MD5
        assert c.import_file(data_path("thawte.der"), SC, "rigServer") == THAWTE_MD5
        entries = user_entries()
        assert THAWTE in entries
        assert Entry("SC", "rigServer", None, None) in entries
        assert [e.name for e in entries].count("rigThawte") == 1  # overwritten, not added
    finally:
        import os
        os.remove("rig_lf.pem")
        discard(CA, "rigThawte")
        discard(SC, "rigServer")


def test_preinstalled_roots_are_listed_and_protected():
    c = certs()
    roots = [e for e in c.list(CA) if e.name.startswith("ubx_")]
    assert roots, "no pre-installed roots listed"
    for e in roots:
        assert len(e.expiry) == 19 and e.expiry[10] == " ", e
    names = [e.name for e in roots]
    assert "ubx_digicert_global_root_ca" in names
    raises(CmeError, c.remove, CA, "ubx_digicert_global_root_ca")
    assert len(c.md5(CA, "ubx_digicert_global_root_ca")) == 32


def test_remove_then_md5_is_not_found():
    c = certs()
    try:
        c.import_bytes(data_file("thawte.der"), CC, "rigClient")
        c.remove(CC, "rigClient")
        assert "rigClient" not in [e.name for e in c.list()]
        raises(CmeError, c.md5, CC, "rigClient")
        raises(CmeError, c.remove, CC, "rigClient")
    finally:
        discard(CC, "rigClient")


def test_private_keys_pem_and_encrypted_der():
    c = certs()
    try:
        pem = data_file("ec_key.pem")
        got = c.import_bytes(pem, PK, "rigKey")
        assert got == c.der_md5(pem, PK) == c.md5(PK, "rigKey")
        enc = data_file("ec_key_enc.der")
        assert c.import_file(data_path("ec_key_enc.der"), PK, "rigKeyEnc",
                             password="rig-key-pw") == c.md5(PK, "rigKeyEnc")
        raises(CmeError, c.import_bytes, enc, PK, "rigKeyBad", password="wrong")
        assert Entry("PK", "rigKey", None, None) in user_entries()
        assert "rigKeyBad" not in [e.name for e in c.list()]
    finally:
        discard(PK, "rigKey")
        discard(PK, "rigKeyEnc")


def test_upload_and_import_from_module_file():
    c = certs()
    try:
        assert c.upload(data_path("thawte.pem"), "rig_thawte.pem") == 1516
        assert c.import_from_module_file("rig_thawte.pem", CA, "rigThawte",
                                         expect_md5=c.der_md5(data_path("thawte.pem"))) == THAWTE_MD5
        assert THAWTE in c.list(CA)
    finally:
        discard(CA, "rigThawte")
        rig.delete_module_file("rig_thawte.pem")   # a second upload would append to it


def test_bad_pem_found_mid_stream_is_an_error_and_stores_nothing():
    c = certs()
    good = data_file("thawte.pem")
    with open("rig_bad.pem", "wb") as f:
        f.write(good[:900] + b"*" + good[901:])
    try:
        exc = raises(ValueError, c.import_file, "rig_bad.pem", CA, "rigBad")
        assert "base64" in str(exc)
        assert "rigBad" not in [e.name for e in c.list()]
        # the engine is in sync afterwards
        assert c.import_bytes(good, CA, "rigThawte") == THAWTE_MD5
    finally:
        import os
        os.remove("rig_bad.pem")
        discard(CA, "rigThawte")


def test_eleventh_user_entry_is_refused():
    c = certs()
    der = data_file("thawte.der")
    added = []
    try:
        users = [e for e in c.list() if not e.name.startswith("ubx_")]
        free = MAX_USER_ENTRIES - len(users)
        for i in range(free):
            name = "rigFill%d" % i
            c.import_bytes(der, CA, name)
            added.append(name)
        exc = raises(AtError, c.import_bytes, der, CA, "rigOneTooMany")
        if rig.quirk("full_store_plain"):      # a bare ERROR before the prompt
            assert not isinstance(exc, CmeError) and str(exc).endswith(": ERROR"), exc
        else:
            assert isinstance(exc, CmeError) and (exc.code == 20 or exc.text == rig.text(20)), exc
        if added:  # overwriting an existing name still works when full
            assert c.import_bytes(der, CA, added[0]) == THAWTE_MD5
    finally:
        for name in added:
            discard(CA, name)


# -- every type in PEM and DER, every source -------------------------------------

# (data file, kind, internal name, source, listing entry)
CLIENT = Entry("CC", "rigCC", "rig client", CLIENT_EXPIRY)   # notAfter 2034/12/31 23:59:59
STREAMED = (
    ("cc_ec.pem", CC, "rigCC", "file", CLIENT),
    ("cc_ec.der", CC, "rigCC2", "bytearray", Entry("CC", "rigCC2", "rig client", CLIENT_EXPIRY)),
    ("sc_ec.pem", SC, "rigSC", "bytes", Entry("SC", "rigSC", None, None)),
    ("thawte.der", SC, "rigSC2", "memoryview", Entry("SC", "rigSC2", None, None)),
    ("pk_pkcs8.pem", PK, "rigPK8", "file", Entry("PK", "rigPK8", None, None)),
    ("pk_rsa.pem", PK, "rigPKrsa", "bytes", Entry("PK", "rigPKrsa", None, None)),
    ("pk_ec.der", PK, "rigPKder", "file", Entry("PK", "rigPKder", None, None)),
    ("thawte.pem", CA, "rigCA", "bytearray", Entry("CA", "rigCA", "thawte Primary Root CA", THAWTE_EXPIRY)),
)


def _import(c, fname, kind, name, how, password=None):
    if how == "file":
        return c.import_file(data_path(fname), kind, name, password)
    data = data_file(fname)
    if how == "bytearray":
        data = bytearray(data)
    elif how == "memoryview":
        data = memoryview(bytearray(data))
    return c.import_bytes(data, kind, name, password)


def test_every_type_streams_in_pem_and_der_from_every_source():
    c = certs()
    try:
        for fname, kind, name, how, entry in STREAMED:
            want = c.der_md5(data_path(fname), kind)
            assert len(want) == 32
            assert _import(c, fname, kind, name, how) == want, fname
            assert c.md5(kind, name) == want
            assert c.md5(KINDS[kind], name) == want       # kinds by name too
        listed = user_entries()
        for entry in [s[4] for s in STREAMED]:
            assert entry in listed, (entry, listed)
        assert len(listed) == len(STREAMED)
    finally:
        for _, kind, name, _, _ in STREAMED:
            discard(kind, name)
    assert user_entries() == []


def test_list_filters_by_type_and_parses_every_line():
    c = certs()
    try:
        for fname, kind, name, how, _ in STREAMED:
            _import(c, fname, kind, name, how)
        everything = c.list()
        by_type = []
        for kind in (CA, CC, PK, SC):
            some = c.list(kind)
            assert some and all(e.kind == KINDS[kind] for e in some), (kind, some)
            assert c.list(KINDS[kind]) == some
            by_type += some
        assert sorted(by_type) == sorted(everything)
        for e in everything:
            if e.kind in ("CA", "CC"):
                assert e.common_name and e.expiry[4] == e.expiry[7] == "/", e
            else:
                assert (e.common_name, e.expiry) == (None, None), e
        assert CLIENT in c.list(CC)
    finally:
        for _, kind, name, _, _ in STREAMED:
            discard(kind, name)


def test_encrypted_key_from_a_module_file_with_its_password():
    c = certs()
    try:
        assert c.upload(data_file("ec_key_enc.der"), "rig_key.der") == 247
        want = c.der_md5(data_path("ec_key_enc.der"), PK)
        assert c.import_from_module_file("rig_key.der", PK, "rigKeyFile", password="rig-key-pw",
                                         expect_md5=want) == want
        assert c.md5(PK, "rigKeyFile") == want
        raises(CmeError, c.import_from_module_file, "rig_key.der", PK, "rigKeyFile2",
               password="wrong")
        assert "rigKeyFile2" not in [e.name for e in c.list()]
    finally:
        discard(PK, "rigKeyFile")
        discard(PK, "rigKeyFile2")
        rig.delete_module_file("rig_key.der")


def test_the_test_form_lists_the_op_codes():
    lines = rig.module().at.command("+USECMNG=?")
    assert len(lines) == 1 and lines[0].startswith("+USECMNG: (0-4),"), lines


def test_the_trace_never_shows_a_key_or_its_password():
    from ubxsec.trace import Trace
    at = rig.module().at
    lines = []
    at.trace = Trace(lines.append)
    try:
        certs().import_file(data_path("ec_key_enc.der"), PK, "rigKeyT", password="rig-key-pw")
        certs().import_bytes(data_file("pk_pkcs8.pem"), PK, "rigKeyT2")
    finally:
        at.trace = None
        discard(PK, "rigKeyT")
        discard(PK, "rigKeyT2")
    pem_sent = len(data_file("pk_pkcs8.pem").strip())   # whitespace around the PEM stays home
    assert "=> [247 bytes]" in lines and "=> [%d bytes]" % pem_sent in lines, lines
    body = data_file("pk_pkcs8.pem").split(b"\n")[1].decode()
    for line in lines:
        assert "rig-key-pw" not in line and body[:20] not in line, line
