"""Text the wire's latin-1 cannot carry: it goes out as UTF-8 and never stops the engine."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fixtures_sim import final_result

EURO_CN = "Root \u20ac CA"


@pytest.fixture(scope="module")
def euro_ca_der():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, EURO_CN)])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7)
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def test_utf8_common_name_is_listed_as_utf8(at, euro_ca_der):
    assert at.send_prompt('AT+USECMNG=0,0,"Euro",%d' % len(euro_ca_der)).endswith(b">")
    assert final_result(at.send_data(euro_ca_der)) == "OK"
    for _ in range(2):  # the stored entry keeps every later listing working
        raw = at.send("AT+USECMNG=3,0")
        assert final_result(raw) == "OK"
        assert b'"CA","Euro","' + EURO_CN.encode("utf-8") + b'","2033/12/29"' in raw
    assert final_result(at.send("AT")) == "OK"


def test_urc_outside_latin1_keeps_the_simulator_alive(sim, at):
    at.send("ATE0")
    sim.control("urc", line="+UUTEST: \u2713")
    assert at.read_until(rb"\r\n\+UUTEST: [^\r]*\r\n") == b"\r\n+UUTEST: \xe2\x9c\x93\r\n"
    assert final_result(at.send("AT")) == "OK"
    assert sim.proc.poll() is None
