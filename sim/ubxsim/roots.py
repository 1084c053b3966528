"""The module's pre-installed trusted root certificates (the spec's table).

Each root is listed as a "CA" entry under its internal name, with the
table's common name and "YYYY/MM/DD hh:mm:ss" expiry. The certificate bytes:

- taken from the `certifi` bundle when it holds a certificate with that
  subject common name and exactly that notAfter (with certifi 2026.x: the
  DigiCert Global Root G2, Trusted Root G4, TLS ECC P384 Root G5 and TLS
  RSA4096 Root G5);
- otherwise a stand-in: a self-signed certificate with that common name and
  notAfter, generated deterministically (same bytes, hence same MD5, on
  every run) from a P-256 key derived from the internal name and signed
  with deterministic ECDSA (with certifi 2026.x: DigiCert Global Root CA,
  Baltimore CyberTrust Root and T-Mobile USA Enterprise Root CA, which the
  bundle no longer carries, and Starfield Services Root Certificate
  Authority - G2, which certifi holds only with a 2037 notAfter).
  standin_private_key(name) gives a stand-in's key, so tests can issue
  server certificates that chain to it.

The set is built once per process, on first use.
"""

import datetime
import functools
import hashlib
import warnings
from dataclasses import dataclass

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from . import x509info

# (internal name, common name, expiration date as the spec's table shows it)
TABLE = (
    ("ubx_digicert_global_root_ca", "DigiCert Global Root CA", "2031/11/10 00:00:00"),
    ("ubx_digicert_global_root_g2", "DigiCert Global Root G2", "2038/01/15 12:00:00"),
    ("ubx_digicert_trusted_root_g4", "DigiCert Trusted Root G4", "2038/01/15 12:00:00"),
    ("ubx_digicert_eccp384_root_g5", "DigiCert TLS ECC P384 Root G5", "2046/01/14 23:59:59"),
    ("ubx_digicert_rsa4096_root_g5", "DigiCert TLS RSA4096 Root G5", "2046/01/14 23:59:59"),
    ("ubx_baltimore_cybertrust_root", "Baltimore CyberTrust Root", "2025/05/12 23:59:00"),
    ("ubx_tmo_usa_enterprise_root_ca", "T-Mobile USA Enterprise Root CA", "2040/11/03 20:28:54"),
    ("ubx_starfield_service_root_ca_g2",
     "Starfield Services Root Certificate Authority - G2", "2034/06/28 17:39:16"),
)

SOURCE_CERTIFI, SOURCE_STANDIN = "certifi", "stand-in"
_STANDIN_NOT_BEFORE = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
_STANDIN_SEED = b"ubxsim pre-installed root stand-in\0"


@dataclass(frozen=True)
class Root:
    name: str          # internal name (up to 60 characters)
    common_name: str
    expiry: str        # as listed: "YYYY/MM/DD hh:mm:ss"
    der: bytes
    source: str        # SOURCE_CERTIFI or SOURCE_STANDIN

    @property
    def md5(self):
        return x509info.md5_hex(self.der)


@functools.lru_cache(maxsize=None)
def preinstalled():
    """All pre-installed roots, in the table's order."""
    bundle = _certifi_index()
    roots = []
    for name, cn, expiry in TABLE:
        der = bundle.get((cn, expiry))
        source = SOURCE_CERTIFI
        if der is None:
            der, source = _standin_certificate(name, cn, expiry), SOURCE_STANDIN
        roots.append(Root(name, cn, expiry, der, source))
    return tuple(roots)


def by_name():
    return {root.name: root for root in preinstalled()}


def standin_private_key(name):
    """The deterministic key behind a stand-in root (any table name)."""
    curve = ec.SECP256R1()
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    digest = hashlib.sha256(_STANDIN_SEED + name.encode()).digest()
    return ec.derive_private_key(int.from_bytes(digest, "big") % (order - 1) + 1, curve)


def _certifi_index():
    """(common name, table expiry) -> DER for every certificate in certifi."""
    with open(certifi.where(), "rb") as f:
        pem = f.read()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        certs = x509.load_pem_x509_certificates(pem)
        index = {}
        for cert in certs:
            key = (x509info.common_name(cert), x509info.table_expiry(cert.not_valid_after_utc))
            index.setdefault(key, cert.public_bytes(Encoding.DER))
    return index


def _standin_certificate(name, cn, expiry):
    key = standin_private_key(name)
    not_after = datetime.datetime.strptime(expiry, "%Y/%m/%d %H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    subject = x509.Name([
        x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "ubxsim stand-in"),
        x509.NameAttribute(x509.NameOID.COMMON_NAME, cn),
    ])
    serial = int.from_bytes(hashlib.sha256(_STANDIN_SEED + name.encode()).digest()[:16], "big") >> 1
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(serial or 1)
        .not_valid_before(_STANDIN_NOT_BEFORE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    cert = builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    return cert.public_bytes(Encoding.DER)

