"""Certificates of an exact size for the import benchmarks (host side).

make_der(size) -> DER bytes of exactly `size` bytes; make_pem(size) -> PEM
text whose size as the module sees it (the library trims whitespace around
the block) is exactly `size`. Both are real self-signed X.509 certificates
(RSA-2048, so the signature length never varies), padded to size with a
non-critical private extension. write_set(dir, sizes) writes them and
returns their descriptions, with the MD5 of the DER the module will report.
"""

import base64
import datetime
import hashlib
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

_PAD_OID = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1.1")
_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"
_KEY = None


def _key():
    global _KEY
    if _KEY is None:
        _KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEY


def _cert(pad_len, cn_len):
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "B" * cn_len)])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(name).issuer_name(name)
               .public_key(key.public_key())
               .serial_number(1000 + pad_len)
               .not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    if pad_len:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(_PAD_OID, b"\x04" + _der_len(pad_len) + b"\xa5" * pad_len),
            critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _der_len(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def make_der(size):
    """A certificate of exactly `size` DER bytes."""
    base = len(_cert(0, 8))
    if size < base + 8:
        raise ValueError("smallest benchmark certificate is %d bytes" % (base + 8))
    for cn_len in range(8, 12):
        # the padding's own length bytes jump at 128/256/65536: step around them
        guess = size - base
        for pad in range(max(1, guess - 64), guess + 1):
            der = _cert(pad, cn_len)
            if len(der) == size:
                return der
            if len(der) > size:
                break
    raise ValueError("no padding gives a %d-byte certificate" % size)


def _pem_size(der_len, lines_crlf=0):
    b64 = 4 * ((der_len + 2) // 3)
    nlines = (b64 + 63) // 64
    # BEGIN line + LF, body lines + LF each, END line without a final break
    return len(_BEGIN) + 1 + b64 + nlines + len(_END) + lines_crlf


def make_pem(size):
    """A PEM certificate of exactly `size` bytes (LF lines, some CRLF to fit)."""
    der_len = 8
    while _pem_size(der_len + 1) <= size:
        der_len += 1
    der = make_der(der_len)
    body = base64.b64encode(der)
    lines = [_BEGIN] + [body[i:i + 64] for i in range(0, len(body), 64)]
    extra = size - _pem_size(der_len)
    if extra > len(lines):
        raise ValueError("cannot fit a PEM to %d bytes" % size)
    ends = [b"\r\n" if i < extra else b"\n" for i in range(len(lines))]
    pem = b"".join(line + end for line, end in zip(lines, ends)) + _END
    assert len(pem) == size, (len(pem), size)
    return pem, der


def write_set(directory, sizes):
    """Write cert_<size>.der/.pem for each size; returns [{path, format, size, md5}].
    Reuses the files of an earlier run when the index says they fit."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    index = directory / "index.json"
    if index.exists():
        known = json.loads(index.read_text())
        if all(Path(e["path"]).exists() for e in known) and \
                sorted({e["size"] for e in known}) == sorted(set(sizes)):
            return known
    out = []
    for size in sizes:
        der = make_der(size)
        pem, pem_der = make_pem(size)
        for fmt, data, stored in (("der", der, der), ("pem", pem, pem_der)):
            path = directory / ("cert_%d.%s" % (size, fmt))
            path.write_bytes(data)
            out.append({"path": str(path), "format": fmt, "size": size,
                        "md5": hashlib.md5(stored).hexdigest()})
    index.write_text(json.dumps(out, indent=1))
    return out
