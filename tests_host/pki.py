"""A throw-away test PKI, generated when the tests run.

    root CA ── intermediate CA ─┬─ server.test            (valid, SAN server.test)
                                ├─ server.test reissued   (same key, new serial)
                                ├─ wrong.test             (valid, other host)
                                ├─ expired.test           (notAfter in the past)
                                └─ client "ubx-client"    (clientAuth)
    other root CA ── other.test (a chain the profile does not trust)

EC P-256 keys keep generation fast. Every certificate is available as DER and
PEM; write_* helpers put chains and keys on disk for the test HTTPS server.
"""

import datetime
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = datetime.timedelta(days=1)
CLIENT_KEY_PASSWORD = "client-key-pass"


@dataclass
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_der(self, password=None):
        """PKCS#8 DER, encrypted when a password is given."""
        algo = (serialization.BestAvailableEncryption(password.encode()) if password
                else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.DER,
                                      serialization.PrivateFormat.PKCS8, algo)

    def key_pem(self):
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(subject_cn, issuer, *, ca=False, hosts=(), client=False, key=None,
           not_before=None, not_after=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject_cn))
               .issuer_name(issuer.cert.subject if issuer else _name(subject_cn))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - DAY)
               .not_valid_after(not_after or now + 365 * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if client:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


class TestPki:
    """Every certificate the TLS tests need, made fresh per test session."""

    __test__ = False  # not a pytest test class

    def __init__(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        self.root = _issue("ubxsim Test Root CA", None, ca=True)
        self.intermediate = _issue("ubxsim Test Intermediate CA", self.root, ca=True)
        self.server = _issue("server.test", self.intermediate, hosts=("server.test",))
        self.server_reissued = _issue("server.test", self.intermediate,
                                      hosts=("server.test",), key=self.server.key)
        self.wrong_host = _issue("wrong.test", self.intermediate, hosts=("wrong.test",))
        self.expired = _issue("expired.test", self.intermediate, hosts=("expired.test",),
                              not_before=now - 30 * DAY, not_after=now - 2 * DAY)
        self.client = _issue("ubx-client", self.intermediate, client=True)
        self.other_root = _issue("ubxsim Other Root CA", None, ca=True)
        self.other = _issue("other.test", self.other_root, hosts=("server.test",))

    def chain_pem(self, leaf):
        """Leaf then the intermediate that issued it: what a server sends."""
        issuer = self.other_root if leaf is self.other else self.intermediate
        return leaf.pem + issuer.pem

    def write_server_files(self, directory, leaf, name):
        """(chain path, key path) for ssl.SSLContext.load_cert_chain."""
        chain = os.path.join(directory, name + "-chain.pem")
        key = os.path.join(directory, name + "-key.pem")
        write_bytes(chain, self.chain_pem(leaf))
        write_bytes(key, leaf.key_pem())
        return chain, key


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path
