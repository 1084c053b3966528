"""+USECMNG on the rig: Certs against the module (the simulator on the
virtual board, or a real module). Data files come from tests_device/data/,
deployed next to this file.

Every test works on names starting with "rig" and removes them again, so
the demo's entries (ThawteCA) and the pre-installed roots are left alone.
"""

from ubxsec.certs import CA, CC, PK, SC, Entry
from ubxsec.errors import AtError, CmeError
import rig

try:
    _HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
except NameError:
    _HERE = "."

THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"  # from the spec's example
THAWTE = Entry("CA", "rigThawte", "thawte Primary Root CA", "2036/07/17")
MAX_USER_ENTRIES = 10  # the spec: up to 10 certificates or private keys


def data_path(name):
    return _HERE + "/data/" + name


def data_file(name):
    with open(data_path(name), "rb") as f:
        return f.read()


def certs():
    return rig.module().certs


def discard(kind, name):
    try:
        certs().remove(kind, name)
    except AtError:
        pass


def user_entries():
    return [e for e in certs().list() if e.name.startswith("rig")]


def raises(exc_type, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc_type as exc:
        return exc
    raise AssertionError("%s not raised" % exc_type.__name__)


def test_import_thawte_by_byte_stream_then_list_and_md5():
    c = certs()
    try:
        assert c.import_bytes(data_file("thawte.pem"), CA, "rigThawte") == THAWTE_MD5
        assert c.md5(CA, "rigThawte") == THAWTE_MD5
        assert THAWTE in c.list()
        assert THAWTE in c.list(CA)
        assert all(e.kind == "PK" for e in c.list(PK))
    finally:
        discard(CA, "rigThawte")


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
    c.import_bytes(data_file("thawte.der"), CC, "rigClient")
    c.remove(CC, "rigClient")
    assert "rigClient" not in [e.name for e in c.list()]
    raises(CmeError, c.md5, CC, "rigClient")
    raises(CmeError, c.remove, CC, "rigClient")


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
        exc = raises(CmeError, c.import_bytes, der, CA, "rigOneTooMany")
        assert exc.code == 20 or exc.text == "memory full"
        if added:  # overwriting an existing name still works when full
            assert c.import_bytes(der, CA, added[0]) == THAWTE_MD5
    finally:
        for name in added:
            discard(CA, name)
