"""Decode and check the certificates and private keys +USECMNG imports.

Everything here is pure: bytes in, a Credential (or InvalidCredential) out.

- PEM is parsed strictly: one block, `-----BEGIN <label>-----` first, the
  matching END line last, base64 lines in between, LF or CRLF line ends, the
  line break after END optional. Nothing before BEGIN or after END, no
  blank lines, no RFC 1421 headers (Proc-Type, DEK-Info), no second block
  (so `EC PARAMETERS` followed by the key is refused).
- DER is one complete TLV (a SEQUENCE): truncated data or trailing bytes are
  refused before `cryptography` sees it.
- The stored form is always the DER bytes as received (PEM: the decoded
  base64 body), so the MD5 the module reports is the MD5 of those bytes.
"""

import base64
import binascii
import datetime
import hashlib
import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

CERT_LABELS = ("CERTIFICATE",)
# PEM label -> the structure its body must have (plain keys only: encrypted
# keys are accepted in DER form only)
KEY_LABELS = {
    "RSA PRIVATE KEY": "pkcs1",
    "EC PRIVATE KEY": "sec1",
    "PRIVATE KEY": "pkcs8",
}

_TAG_INTEGER, _TAG_OCTET_STRING, _TAG_SEQUENCE = 0x02, 0x04, 0x30
_PEM_BEGIN, _PEM_END, _PEM_DASHES = "-----BEGIN ", "-----END ", "-----"


class InvalidCredential(ValueError):
    """The data is not an acceptable certificate or key; the text says why."""


@dataclass(frozen=True)
class Credential:
    der: bytes
    common_name: str = ""      # certificates only
    not_after: datetime.datetime | None = None  # certificates only (UTC)
    encrypted: bool = False    # keys only: an EncryptedPrivateKeyInfo

    @property
    def md5(self):
        return md5_hex(self.der)


def md5_hex(der):
    return hashlib.md5(der).hexdigest()


# --- DER structure -------------------------------------------------------

def read_tlv(data, offset=0):
    """Return (tag, value_start, value_end) of the DER TLV at offset."""
    n = len(data)
    if offset + 2 > n:
        raise InvalidCredential("truncated DER header")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise InvalidCredential("multi-byte DER tags are not used here")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise InvalidCredential("bad DER length")
        if pos + count > n:
            raise InvalidCredential("truncated DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise InvalidCredential("non-minimal DER length")
        pos += count
    if pos + length > n:
        raise InvalidCredential("truncated DER value")
    return tag, pos, pos + length


def check_single_sequence(der):
    """The whole of `der` must be one SEQUENCE, with nothing after it."""
    tag, _, end = read_tlv(der)
    if tag != _TAG_SEQUENCE:
        raise InvalidCredential("DER does not start with a SEQUENCE")
    if end != len(der):
        raise InvalidCredential("%d bytes after the DER structure" % (len(der) - end))


def key_structure(der):
    """Tell the private key containers apart by their first two fields.

    pkcs8-encrypted: SEQUENCE { AlgorithmIdentifier, OCTET STRING }
    pkcs8:           SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING }
    sec1:            SEQUENCE { INTEGER 1, OCTET STRING, ... }
    pkcs1:           SEQUENCE { INTEGER 0, INTEGER n, ... }
    """
    check_single_sequence(der)
    _, start, end = read_tlv(der)
    tag0, _, end0 = read_tlv(der, start)
    if tag0 == _TAG_SEQUENCE:
        return "pkcs8-encrypted"
    if tag0 != _TAG_INTEGER or end0 >= end:
        raise InvalidCredential("not a private key structure")
    tag1 = read_tlv(der, end0)[0]
    if tag1 == _TAG_SEQUENCE:
        return "pkcs8"
    if tag1 == _TAG_OCTET_STRING:
        return "sec1"
    if tag1 == _TAG_INTEGER:
        return "pkcs1"
    raise InvalidCredential("not a private key structure")


# --- PEM -----------------------------------------------------------------

def is_pem(data):
    return data.startswith(_PEM_BEGIN.encode())


def pem_decode(data):
    """Return (label, der) of a PEM text holding exactly one block."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidCredential("PEM holds non-ASCII bytes") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the line break after END is optional
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if len(lines) < 3:
        raise InvalidCredential("PEM too short")
    label = _pem_label(lines[0], _PEM_BEGIN)
    if label == "EC PARAMETERS":
        raise InvalidCredential("PEM with an EC PARAMETERS block")
    if _pem_label(lines[-1], _PEM_END) != label:
        raise InvalidCredential("PEM END line does not match BEGIN")
    body = lines[1:-1]
    for line in body:
        if line.startswith("-----"):
            raise InvalidCredential("more than one PEM block")
        if ":" in line:
            raise InvalidCredential("PEM extension headers are not supported")
        if line == "":
            raise InvalidCredential("blank line inside PEM")
    try:
        der = base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCredential("PEM body is not valid base64") from None
    if not der:
        raise InvalidCredential("empty PEM body")
    return label, der


def pem_unfold_one_line(data):
    """A PEM written on one line (BEGIN line, base64 body and END line with no
    line break between them) as the usual three lines; anything else as is.
    Series that store such a PEM (models.py) read it this way."""
    text = bytes(data).rstrip(b"\r\n")
    if not text.startswith(_PEM_BEGIN.encode()) or b"\n" in text:
        return data
    head_end = text.find(_PEM_DASHES.encode(), len(_PEM_BEGIN))
    tail = text.rfind(_PEM_END.encode())
    if head_end < 0 or tail <= head_end:
        return data
    head_end += len(_PEM_DASHES)
    return text[:head_end] + b"\n" + text[head_end:tail] + b"\n" + text[tail:] + b"\n"


def _pem_label(line, prefix):
    if not (line.startswith(prefix) and line.endswith(_PEM_DASHES)):
        raise InvalidCredential("malformed PEM boundary line")
    label = line[len(prefix):-len(_PEM_DASHES)]
    if not label or label.strip() != label:
        raise InvalidCredential("malformed PEM label")
    return label


# --- certificates --------------------------------------------------------

def decode_certificate(data):
    """PEM or DER bytes of one X.509 certificate -> Credential."""
    if is_pem(data):
        label, der = pem_decode(data)
        if label not in CERT_LABELS:
            raise InvalidCredential("PEM label %r is not a certificate" % label)
    else:
        der = bytes(data)
    check_single_sequence(der)
    cert = load_certificate(der)
    return Credential(der=der, common_name=common_name(cert), not_after=cert.not_valid_after_utc)


def load_certificate(der):
    """Parse DER into an x509.Certificate, touching the fields the module uses."""
    try:
        with warnings.catch_warnings():
            # old roots with a non-positive serial still parse, with a warning
            warnings.simplefilter("ignore")
            cert = x509.load_der_x509_certificate(der)
            cert.subject, cert.issuer, cert.not_valid_after_utc, cert.public_key()
    except Exception as exc:
        raise InvalidCredential("not an X.509 certificate: %s" % exc) from None
    name = common_name(cert)
    if any(ch == '"' or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        # a listing line could not show it unambiguously
        raise InvalidCredential("common name holds a quote or control character")
    return cert


def common_name(cert):
    """The subject's (first) common name, or "" if it has none."""
    attrs = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if not attrs:
        return ""
    value = attrs[0].value
    return value if isinstance(value, str) else value.decode("latin-1")


def listed_expiry(not_after):
    """How a user certificate's expiry is listed: the UTC date of notAfter+1s.

    A certificate valid "until 23:59:59" expires at the next midnight, and
    that date is what the module shows (thawte: 2036-07-16 23:59:59 ->
    "2036/07/17").
    """
    return (not_after + datetime.timedelta(seconds=1)).strftime("%Y/%m/%d")


def table_expiry(not_after):
    """The pre-installed roots' form: "YYYY/MM/DD hh:mm:ss" of notAfter."""
    return not_after.strftime("%Y/%m/%d %H:%M:%S")


# --- private keys --------------------------------------------------------

def decode_private_key(data, password=None):
    """PEM or DER bytes of one RSA or EC private key -> Credential.

    Plain keys: PKCS#1 RSA, SEC1 EC or PKCS#8, in PEM or DER. Encrypted keys
    (a PKCS#8 EncryptedPrivateKeyInfo, which is also how an encrypted
    PKCS#1 RSA key travels in DER) only in DER, and only with the right
    password. A password given for a plain key is refused.
    """
    if is_pem(data):
        label, der = pem_decode(data)
        if label == "ENCRYPTED PRIVATE KEY":
            raise InvalidCredential("encrypted keys are accepted in DER form only")
        expected = KEY_LABELS.get(label)
        if expected is None:
            raise InvalidCredential("PEM label %r is not a private key" % label)
        if key_structure(der) != expected:
            raise InvalidCredential("PEM body does not match its label %r" % label)
    else:
        der = bytes(data)
    structure = key_structure(der)
    encrypted = structure == "pkcs8-encrypted"
    if encrypted and not password:
        raise InvalidCredential("encrypted key without a password")
    if not encrypted and password:
        raise InvalidCredential("password given for a key that is not encrypted")
    load_private_key(der, password)
    return Credential(der=der, encrypted=encrypted)


def load_private_key(der, password=None):
    """Decrypt/parse a stored key; only RSA and EC keys are usable."""
    secret = password.encode("utf-8") if password else None
    try:
        key = serialization.load_der_private_key(der, secret)
    except (TypeError, ValueError) as exc:
        raise InvalidCredential("key does not load: %s" % exc) from None
    except Exception as exc:  # unsupported algorithms surface as other types
        raise InvalidCredential("key does not load: %s" % exc) from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise InvalidCredential("only RSA and EC private keys are supported")
    return key


def key_pem_label(der):
    """The PEM label that tells OpenSSL how to read a stored key's DER."""
    return _STRUCTURE_LABELS[key_structure(der)]


_STRUCTURE_LABELS = {structure: label for label, structure in KEY_LABELS.items()}
_STRUCTURE_LABELS["pkcs8-encrypted"] = "ENCRYPTED PRIVATE KEY"


def meets_connection_key_size(public_key):
    """The spec's minimum key sizes for a TLS connection: RSA 1024, ECDSA 192."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return public_key.key_size >= 1024
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return public_key.curve.key_size >= 192
    return False
