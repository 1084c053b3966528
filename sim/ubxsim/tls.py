"""A real TLS client configured from a +USECPRF security profile.

The module's TLS stack checks what the profile asks for and nothing more, so
OpenSSL's own checks are narrowed to match:

- validation level 0 verifies nothing; 1 builds a chain to the trusted CAs
  with the validity dates ignored (X509_V_FLAG_NO_CHECK_TIME); 2 adds a host
  name check against op 4; 3 also checks the dates, at the module's clock
  (clock.py, handed in as `now`), never the host's: libssl is told that time
  (X509_VERIFY_PARAM_set_time through libssl.py); where libssl cannot be
  reached, the leaf's dates are checked against it after the handshake. Any
  configured CA is a trust anchor, root or not (X509_V_FLAG_PARTIAL_CHAIN),
  as on the module.
- the host name (op 4) and the SNI (op 10) are independent settings, so the
  host name is checked here after the handshake, not by OpenSSL; an empty SNI
  sends no server_name extension.
- with no CA name (op 3) every CA of the selected database (op 16) is trusted.
- level 2/3 with an empty op 4 checks the name the application connects to.
- pinning (op 12) is checked whenever a pinned certificate is named, at any
  validation level.
- TLS version 0 ("any") means TLS 1.2 only (spec note); 1.0 and 1.1 need
  OpenSSL security level 0.
- ZTP (op 14) sends the ZTP-provided client certificate (1: with the ZTP CA
  certificate after it) instead of ops 5/6; RoT PSK (op 11) answers with the
  root of trust's identity and key instead of ops 8/9 (rot.py). Without them
  the handshake fails rather than silently connecting without them.
- a suite the local OpenSSL lacks is not offered (logged once); a profile
  with nothing else fails with a reason naming the suites.

Every TlsFailure carries a cause, what the module's TLS stack saw, for the
HTTP client's error codes (http.py): "connect", "timeout", "unknown_ca",
"hostname", "expired", "not_yet_valid", "no_client_cert" (the server asked
for a certificate and the profile names none, noted through libssl.py),
"pin" or "handshake" (anything else).

PSK callbacks are native ssl API from Python 3.13; before that, and for
session export/import on every version, libssl is reached through libssl.py.
"""

import base64
import datetime
import os
import shutil
import socket
import ssl
import sys
import tempfile
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from . import ciphers
from . import libssl
from . import profile as prf
from .x509info import key_pem_label

# +USECMNG credential kinds
KIND_CA, KIND_CC, KIND_PK, KIND_SC = 0, 1, 2, 3

_VERSIONS = {
    0: (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2),
    1: (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1),
    2: (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1),
    3: (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2),
}

ZTP_CA_AND_CLIENT, ZTP_CLIENT = 1, 2
_X509_V_FLAG_PARTIAL_CHAIN = 0x80000
_X509_V_FLAG_NO_CHECK_TIME = 0x200000


# OpenSSL verify codes -> cause; any other refused chain is "handshake"
_VERIFY_CAUSES = {
    9: "not_yet_valid", 10: "expired",        # X509_V_ERR_CERT_NOT_YET_VALID, _HAS_EXPIRED
    2: "unknown_ca", 7: "unknown_ca",         # unable to get issuer, signature failure
    18: "unknown_ca", 19: "unknown_ca",       # self-signed leaf, self-signed in chain
    20: "unknown_ca", 21: "unknown_ca",       # issuer not found locally, leaf unverifiable
}
# a credential the profile names and the module lacks
_MISSING_CAUSES = {0: "unknown_ca", 1: "no_client_cert", 2: "no_client_cert"}


class TlsFailure(Exception):
    """The secure connection could not be set up or was rejected."""

    def __init__(self, reason, cause="handshake"):
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


# ---------------------------------------------------------------- PSK

def set_psk_client(context, identity, key):
    """Make `context` answer a server's PSK request with identity/key.

    Native on Python 3.13+ (identity must then be UTF-8, as the ssl API takes
    a str); otherwise, and for binary identities, through libssl.
    """
    if libssl.native_psk():
        try:
            text = identity.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            context.set_psk_client_callback(lambda _hint: (text, key))
            return
    try:
        libssl.bridge().set_psk_client(context, lambda _hint: (identity, key))
    except libssl.LibsslUnavailable as e:
        raise TlsFailure("PSK not available on this Python: %s" % e) from None


# ---------------------------------------------------------------- cipher names

_openssl_names = None


def openssl_cipher_names():
    """IANA code -> OpenSSL cipher name, for every suite this libssl knows."""
    global _openssl_names
    if _openssl_names is None:
        probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        probe.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
        _openssl_names = {c["id"] & 0xFFFF: c["name"] for c in probe.get_ciphers()}
    return _openssl_names


def suites_of(profile):
    """The IANA codes a profile proposes."""
    if profile.cipher_mode == prf.CIPHER_LEGACY:
        if not ciphers.legacy_supported(profile.legacy_cs):
            raise TlsFailure("unsupported legacy cipher suite %d" % profile.legacy_cs)
        return list(ciphers.suites_for_legacy(profile.legacy_cs))
    return list(profile.iana_suites)


def unavailable_suites():
    """Applicable suites (IANA codes, spec order) the local OpenSSL cannot offer."""
    names = openssl_cipher_names()
    return [code for code in ciphers.APPLICABILITY if code not in names]


_reported_missing = set()


def _describe(codes):
    return ", ".join("0x%04X %s" % (c, ciphers.SUITES[c].name) for c in codes)


def cipher_string(codes):
    """The OpenSSL cipher string for IANA codes; TlsFailure when none is usable."""
    names = openssl_cipher_names()
    missing = [c for c in codes if c not in names]
    known = [names[c] for c in codes if c in names]
    if not known:
        raise TlsFailure("cipher suite %s not available: the simulator's OpenSSL (%s) "
                         "lacks it (see README)" % (_describe(missing), ssl.OPENSSL_VERSION))
    if missing and tuple(missing) not in _reported_missing:
        _reported_missing.add(tuple(missing))  # once per process: not on every request
        print("ubxsim: not offered, the local OpenSSL lacks them: %s" % _describe(missing),
              file=sys.stderr, flush=True)
    return ":".join(known)


# ---------------------------------------------------------------- credentials

def _pem(der, label):
    body = base64.encodebytes(der).decode("ascii")
    return "-----BEGIN %s-----\n%s-----END %s-----\n" % (label, body, label)


def _credential(credentials, kind, name, db):
    der = credentials.get(kind, name, db=db)
    if der is None:
        raise TlsFailure("credential %d %r not found in database %d" % (kind, name, db),
                         _MISSING_CAUSES.get(kind, "handshake"))
    return der


def trusted_cas(credentials, profile):
    """DER of the trust anchors: the named CA, or every CA of the database."""
    if profile.ca_name:
        return [_credential(credentials, KIND_CA, profile.ca_name, profile.database)]
    cas = list(credentials.all(KIND_CA, db=profile.database))
    if not cas:
        raise TlsFailure("no trusted CA in database %d" % profile.database, "unknown_ca")
    return cas


def _load_identity(context, chain_ders, key, password):
    """Client certificate chain (leaf first) and its key (stored DER)."""
    # the label tells OpenSSL which structure the stored DER has (PKCS1, SEC1, PKCS8)
    label = key_pem_label(key)
    password = password if label == "ENCRYPTED PRIVATE KEY" else None
    key_pem = _pem(key, label)
    # load_cert_chain only reads files: a private directory that lives for one call
    workdir = tempfile.mkdtemp(prefix="ubxsim-tls-")
    try:
        cert_path = os.path.join(workdir, "cert.pem")
        key_path = os.path.join(workdir, "key.pem")
        with open(cert_path, "w") as f:
            f.write("".join(_pem(der, "CERTIFICATE") for der in chain_ders))
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key_pem)
        try:
            context.load_cert_chain(cert_path, key_path, password=password or "")
        except ssl.SSLError as e:
            raise TlsFailure("client certificate/key rejected: %s" % e.reason) from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _load_client_identity(context, credentials, profile):
    cert = _credential(credentials, KIND_CC, profile.client_cert_name, profile.database)
    key = _credential(credentials, KIND_PK, profile.client_key_name, profile.database)
    _load_identity(context, [cert], key, profile.key_password)


def _load_ztp_identity(context, rot, profile):
    """Op 14: the ZTP credentials replace ops 5/6; level 1 sends the CA too."""
    ztp = rot.ztp_credentials() if rot is not None else None
    if ztp is None:
        raise TlsFailure("ZTP (op 14) is on but this module holds no ZTP-provided "
                         "credentials (simulator: control verb ztp)")
    if profile.ztp == ZTP_CA_AND_CLIENT and not ztp.get("ca"):
        raise TlsFailure("ZTP (op 14) 1 needs a ZTP-provided CA certificate")
    chain = [ztp["cert"]] + ([ztp["ca"]] if profile.ztp == ZTP_CA_AND_CLIENT else [])
    _load_identity(context, chain, ztp["key"], ztp.get("password", ""))


# ---------------------------------------------------------------- context

def build_context(profile, credentials, rot=None, now=None):
    """An ssl.SSLContext for a profile; raises TlsFailure on bad settings.

    rot gives what the module's root of trust holds: rot.psk() -> (identity,
    key) for op 11, rot.ztp_credentials() for op 14 (see rot.py). now is the
    module's clock (aware datetime), which validation level 3 needs.
    """
    if profile.tls_version not in _VERSIONS:
        raise TlsFailure("TLS version %d not supported" % profile.tls_version)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # checked in check_peer() against op 4
    low, high = _VERSIONS[profile.tls_version]
    seclevel = "" if low >= ssl.TLSVersion.TLSv1_2 else ":@SECLEVEL=0"
    try:
        context.set_ciphers(cipher_string(suites_of(profile)) + seclevel)
    except ssl.SSLError:
        raise TlsFailure("cipher suites not usable") from None
    with warnings.catch_warnings():  # TLS 1.0/1.1 are wanted here
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version, context.maximum_version = low, high

    if profile.validation == 0:
        context.verify_mode = ssl.CERT_NONE
    else:
        context.verify_mode = ssl.CERT_REQUIRED
        for der in trusted_cas(credentials, profile):
            try:
                context.load_verify_locations(cadata=der)
            except ssl.SSLError:
                raise TlsFailure("trusted CA is not a certificate") from None
        flags = int(context.verify_flags) | _X509_V_FLAG_PARTIAL_CHAIN
        if profile.validation < 3:
            flags |= _X509_V_FLAG_NO_CHECK_TIME
        context.verify_flags = flags
        if profile.validation >= 3:
            _dates_at(context, now)   # after the flags: setting them drops the time

    if profile.ztp:
        _load_ztp_identity(context, rot, profile)
    elif profile.client_cert_name or profile.client_key_name:
        _load_client_identity(context, credentials, profile)
    else:
        try:  # to tell "no client certificate" from other handshake failures
            context._ubx_cert_asked = libssl.bridge().note_client_cert_request(context)
        except libssl.LibsslUnavailable:
            pass
    if profile.psk_rot:
        if rot is None:
            raise TlsFailure("RoT-generated PSK (op 11) is on but there is no root of trust")
        set_psk_client(context, *rot.psk())
    elif profile.psk and profile.psk_identity:
        set_psk_client(context, profile.psk_identity, profile.psk)
    if profile.alpn:
        context.set_alpn_protocols([profile.alpn])
    return context


def _dates_at(context, now):
    """Level 3: certificate dates checked at the module's time, not the host's."""
    if now is None:
        raise TlsFailure("validation level 3 needs the module's clock")
    try:
        libssl.bridge().set_verify_time(context, now.timestamp())
    except libssl.LibsslUnavailable:
        # the leaf's dates only, after the handshake (check_peer)
        context.verify_flags = int(context.verify_flags) | _X509_V_FLAG_NO_CHECK_TIME
        context._ubx_leaf_dates_at = now


def _leaf_dates(cert, now):
    after = getattr(cert, "not_valid_after_utc", None)
    before = getattr(cert, "not_valid_before_utc", None)
    if after is None:  # cryptography before 42: naive UTC
        after = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
        before = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    if now > after:
        raise TlsFailure("server certificate expired at the module's time %s" % now, "expired")
    if now < before:
        raise TlsFailure("server certificate not yet valid at the module's time %s" % now,
                         "not_yet_valid")


# ---------------------------------------------------------------- checks after the handshake

def hostname_matches(cert, hostname):
    """RFC 6125 style: SAN DNS names (left-most wildcard), else the CN."""
    hostname = hostname.lower().rstrip(".")
    try:
        names = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = [a.value for a in cert.subject.get_attributes_for_oid(
            x509.NameOID.COMMON_NAME)]
    for name in names:
        name = name.lower().rstrip(".")
        if name == hostname:
            return True
        if name.startswith("*.") and "." in hostname:
            if hostname.split(".", 1)[1] == name[2:]:
                return True
    return False


def _public_key_info(cert):
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _public_key_fields(cert):
    key = cert.public_key()
    numbers = getattr(key, "public_numbers", None)
    return numbers() if numbers else key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def pin_matches(received, pinned, level):
    """Op 12: 0 key fields compared, 1 key bytes compared, 2 whole certificate."""
    if level == 0:
        return _public_key_fields(received) == _public_key_fields(pinned)
    if level == 1:
        return _public_key_info(received) == _public_key_info(pinned)
    return received.public_bytes(serialization.Encoding.DER) == \
        pinned.public_bytes(serialization.Encoding.DER)


def check_peer(sslsock, profile, credentials, server_name):
    """The checks OpenSSL was told not to do; raises TlsFailure."""
    leaf_der = sslsock.getpeercert(binary_form=True)
    leaf_dates_at = getattr(sslsock.context, "_ubx_leaf_dates_at", None)
    if leaf_dates_at is not None and leaf_der is not None:
        _leaf_dates(x509.load_der_x509_certificate(leaf_der), leaf_dates_at)
    if profile.validation >= 2:
        expected = profile.hostname or server_name
        if leaf_der is None or not hostname_matches(
                x509.load_der_x509_certificate(leaf_der), expected):
            raise TlsFailure("server certificate does not match host %r" % expected, "hostname")
    if profile.pin_name:
        pinned = x509.load_der_x509_certificate(
            _credential(credentials, KIND_SC, profile.pin_name, profile.database))
        if leaf_der is None or not pin_matches(
                x509.load_der_x509_certificate(leaf_der), pinned, profile.pin_level):
            raise TlsFailure("server certificate does not match the pinned one", "pin")


# ---------------------------------------------------------------- connection

def connect(address, profile, credentials, server_name, timeout, session=None, rot=None,
            now=None):
    """Open a TCP connection to address and run the TLS handshake.

    server_name is the host name the application asked for (used for the
    level 2/3 check when op 4 is empty). session is DER session data to
    offer for resumption, or None. now is the module's clock (level 3).
    Returns the connected SSLSocket.
    """
    context = build_context(profile, credentials, rot, now)
    try:
        raw = socket.create_connection(address, timeout=timeout)
    except OSError as e:
        raise TlsFailure("cannot connect to %s:%d: %s" % (address[0], address[1], e),
                         "timeout" if isinstance(e, TimeoutError) else "connect") from None
    sock = None
    try:
        # wrap_socket detaches raw: from then on only sock can close the connection
        sock = context.wrap_socket(raw, server_hostname=profile.sni or None,
                                   do_handshake_on_connect=False)
        if session:
            _offer_session(sock, session)
        sock.do_handshake()
        check_peer(sock, profile, credentials, server_name)
        connected, sock = sock, None
        return connected
    except ssl.SSLCertVerificationError as e:
        raise TlsFailure("certificate verification failed: %s" % e.verify_message,
                         _VERIFY_CAUSES.get(e.verify_code, "handshake")) from None
    except TimeoutError:
        raise TlsFailure("handshake failed: the server did not answer in time", "timeout") from None
    except (ssl.SSLError, OSError) as e:
        asked = getattr(context, "_ubx_cert_asked", None)
        raise TlsFailure("handshake failed: %s" % (getattr(e, "reason", None) or e),
                         "no_client_cert" if asked else "handshake") from None
    finally:
        if sock is not None:
            sock.close()  # a failed check or handshake: the connection is done
        raw.close()       # a no-op once detached


def _offer_session(sock, der):
    """A stored session that cannot be offered fails the request: quietly
    falling back to a full handshake would hide that op 13 did nothing."""
    try:
        libssl.bridge().import_session(sock, der)
    except libssl.LibsslUnavailable as e:
        raise TlsFailure("session resumption not available on this Python: %s" % e) from None
    except ValueError as e:
        raise TlsFailure("stored session data (op 13) not usable: %s" % e) from None


def session_data(sock):
    """(session_id, master_secret, ticket) after a full handshake.

    ticket is the DER session data to resume from (OpenSSL's SSL_SESSION
    form, which carries the server's ticket), or None when the server issued
    no ticket.
    """
    try:
        master, der = libssl.bridge().export_session(sock)
    except libssl.LibsslUnavailable as e:
        print("ubxsim: session not exported: %s" % e, file=sys.stderr, flush=True)
        return b"", b"", None
    session = sock.session
    if session is None:
        return b"", master, None
    return session.id, master, (der if session.has_ticket else None)

