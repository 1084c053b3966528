"""`make doctor CONFIG=<file> [MODEL=<name>] [CHECK_URL=https://...]`: a
provisioning config checked on the host, before any byte reaches a module.

    python tools/doctor.py examples/provision.json
    python tools/doctor.py site.json --model sara-r410m
    python tools/doctor.py site.json --check-url https://server.example/ --profile 2

The config is the one tools/provision.py takes. Every problem is one line,
ERROR or WARN, naming the item and the fix; the exit status is 1 when there
is an error (0 with warnings only). Checks, in this order:

1. every file: readable; one PEM object per file (a chain PEM is refused by
   the module once its bytes were sent: split it); at most 8192 bytes (the
   spec's <data_size>); the PEM label fits the type;
2. every module model's limits (sim/ubxsim/models.py, the one table of the
   series' differences; MODEL=<name> checks that one only): name length,
   PEM all on one line, PEM lines over a model's limit; at most 10 user
   entries (the spec);
3. every client certificate and its key (paired by the profiles' client_cert_name
   and client_key_name, or the only CC and PK) hold the same public key;
4. every client certificate is issued by a CA of the config (else the
   missing intermediate is named);
5. expiry against today: expired or not yet valid is an error, within 30
   days a warning;
6. a profile naming a credential the config does not hold: a warning (fine
   if the module already holds it, or a pre-installed "ubx_" root);
7. with --check-url: a TLS connection from this host to the server, checked
   as the profile's module would (its CA, its host name): does the chain
   validate, does the name match.

`make provision` runs the same checks first (gate()) and stops on an error.
"""

import argparse
import base64
import datetime
import json
import re
import socket
import ssl
import sys
import urllib.parse
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sim"))

from ubxsim import models  # noqa: E402
from ubxsim.tls import hostname_matches  # noqa: E402

KINDS = ("CA", "CC", "PK", "SC")
USER_SLOTS = 10
SIZE_MAX = 8192
WARN_DAYS = 30
KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
REFS = (("ca_name", "CA"), ("client_cert_name", "CC"), ("client_key_name", "PK"),
        ("pinning", "SC"))
_PARTIAL_CHAIN = 0x80000
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


class Problem:
    def __init__(self, level, where, text, fix):
        self.level, self.where, self.text, self.fix = level, where, text, fix

    def __str__(self):
        return "%s %s: %s; fix: %s" % (self.level, self.where, self.text, self.fix)


class Item:
    """One certificates[] entry, read and decoded as far as it goes."""

    def __init__(self, index, entry, base):
        self.index = index
        self.kind = entry.get("type")
        self.name = entry.get("name") or ""
        self.password = entry.get("password")
        self.where = "certificates[%d] (%s %s)" % (index, self.kind, self.name)
        self.path = (base / str(entry.get("file", ""))).resolve()
        self.data = None
        self.pems = []      # [(label, der, text)]
        self.der = None
        self.cert = None
        self.key = None


def _models(name):
    if name is None:
        return list(models.MODELS.values())
    return [models.get(name)]


def _read(item, out):
    try:
        item.data = item.path.read_bytes()
    except OSError as exc:
        out.append(Problem("ERROR", item.where, "cannot read %s (%s)" % (
            item.path, exc.strerror or exc), "correct the file path (relative to the config)"))
        return
    data = item.data
    if len(data) > SIZE_MAX:
        out.append(Problem("ERROR", item.where, "%s is %d bytes, over the module's %d" % (
            item.path.name, len(data), SIZE_MAX),
            "store it as DER, or use a certificate with a shorter chain of extensions"))
    if not data.lstrip().startswith(b"-----BEGIN"):
        item.der = data
    else:
        for m in _PEM.finditer(data):
            try:
                der = base64.b64decode(re.sub(rb"\s+", b"", m.group(2)), validate=True)
            except ValueError:
                der = None
            item.pems.append((m.group(1).decode(), der, m.group(0)))
        if not item.pems or item.pems[0][1] is None:
            out.append(Problem("ERROR", item.where, "%s is not a PEM the module can read"
                               % item.path.name, "export it again as PEM or DER"))
            return
        if len(item.pems) > 1:
            out.append(Problem("ERROR", item.where, "%s holds %d PEM objects (%s): the module "
                               "stores one object per file and refuses the rest after its bytes "
                               "were sent" % (item.path.name, len(item.pems),
                                              ", ".join(p[0] for p in item.pems)),
                               "split it into one file per object; list an intermediate "
                               "as its own CA entry"))
        item.der = item.pems[0][1]
    label = item.pems[0][0] if item.pems else None
    if item.kind == "PK":
        item.key = _load_key(item, label, out)
    else:
        if label not in (None, "CERTIFICATE"):
            out.append(Problem("ERROR", item.where, "the PEM holds a %s, not a certificate"
                               % label, "give a certificate file for type %s" % item.kind))
            return
        try:
            item.cert = x509.load_der_x509_certificate(item.der)
        except ValueError:
            out.append(Problem("ERROR", item.where, "%s is not an X.509 certificate"
                               % item.path.name, "export the certificate again (PEM or DER)"))


def _load_key(item, label, out):
    password = item.password.encode() if item.password else None
    try:
        if label is not None:
            if label not in KEY_LABELS:
                raise ValueError("a %s, not a private key" % label)
            return serialization.load_pem_private_key(item.pems[0][2], password)
        return serialization.load_der_private_key(item.der, password)
    except (ValueError, TypeError) as exc:
        out.append(Problem("ERROR", item.where, "cannot read the private key (%s)" % exc,
                           "check the file and its password (a password only with an "
                           "encrypted DER key)"))
        return None


def _model_limits(item, chosen, out):
    names = [m for m in chosen if len(item.name) > m.name_max]
    if names:
        out.append(Problem("ERROR", item.where, "the name is %d characters, over what %s take%s"
                           % (len(item.name), ", ".join("%s (%d)" % (m.name, m.name_max)
                                                        for m in names),
                              "s" if len(names) == 1 else ""),
                           "shorten it to %d characters or fewer%s"
                           % (min(m.name_max for m in names),
                              "" if len(chosen) == 1 else ", or name the module's model "
                              "with MODEL=")))
    for label, der, text in item.pems[:1]:
        body = text.strip()
        if b"\n" not in body and b"\r" not in body:
            refusing = [m.name for m in chosen if m.pem_one_line == "spec" or m.pem_line_max]
            if refusing:
                out.append(Problem("ERROR", item.where, "the PEM is all on one line, which %s "
                                   "refuse%s" % (", ".join(refusing),
                                                 "s" if len(refusing) == 1 else ""),
                                   "write it with a line break every 64 characters "
                                   "(openssl x509 -in one.pem -out fixed.pem)"))
            continue
        longest = max(len(line) for line in body.splitlines())
        refusing = [m.name for m in chosen if m.pem_line_max and longest > m.pem_line_max]
        if refusing:
            out.append(Problem("ERROR", item.where, "a PEM line is %d characters, which %s "
                               "refuse%s" % (longest, ", ".join(refusing),
                                             "s" if len(refusing) == 1 else ""),
                               "write it with lines of 64 characters"))


def _check_dates(item, today, out):
    cert = item.cert
    after = getattr(cert, "not_valid_after_utc", None) or \
        cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    before = getattr(cert, "not_valid_before_utc", None) or \
        cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    days = (after - today).days
    if after < today:
        out.append(Problem("ERROR", item.where, "expired on %s" % after.date(),
                           "import its successor under a new name and point the profiles at it"))
    elif before > today:
        out.append(Problem("ERROR", item.where, "not valid before %s" % before.date(),
                           "check the issuer's clock, or wait until then"))
    elif days <= WARN_DAYS:
        out.append(Problem("WARN", item.where, "expires on %s, in %d days" % (after.date(), days),
                           "renew it and provision the successor before then"))


def _issued_by(cert, ca):
    if cert.issuer != ca.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca)
        return True
    except (InvalidSignature, ValueError, TypeError):   # signature or key type mismatch
        return False


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def _pairs(items, profiles):
    """[(CC item, PK item, where)] to compare."""
    by = {(i.kind, i.name): i for i in items}
    pairs = []
    for pid, settings in sorted(profiles.items()):
        cc, pk = settings.get("client_cert_name"), settings.get("client_key_name")
        if (("CC", cc) in by) and (("PK", pk) in by):
            pairs.append((by[("CC", cc)], by[("PK", pk)], "profiles.%s" % pid))
    if not pairs:
        ccs = [i for i in items if i.kind == "CC"]
        pks = [i for i in items if i.kind == "PK"]
        if len(ccs) == 1 and len(pks) == 1:
            pairs.append((ccs[0], pks[0], "the only client certificate and key"))
    return pairs


def _cn(name):
    cns = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return cns[0].value if cns else name.rfc4514_string()


def check_url(url, profile_id, items, profiles, out, timeout=10):
    """Connect from this host as the profile would make the module connect."""
    parts = urllib.parse.urlsplit(url)
    where = "check_url %s" % url
    if parts.scheme != "https" or not parts.hostname:
        out.append(Problem("ERROR", where, "not an https URL", "give https://host[:port]/"))
        return
    settings = profiles.get(str(profile_id), {}) if profile_id is not None else {}
    cas = [i for i in items if i.kind == "CA" and i.cert is not None]
    ca_name = settings.get("ca_name")
    if ca_name:
        cas = [i for i in cas if i.name == ca_name]
    if not cas:
        out.append(Problem("ERROR", where, "no CA of the config to check the server with%s"
                           % (" (profile %s names %r)" % (profile_id, ca_name) if ca_name else ""),
                           "add the CA that issued the server's chain to the config"))
        return
    host = settings.get("server_hostname") or parts.hostname
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False   # as the module: the host name is checked below
    for item in cas:
        context.load_verify_locations(cadata=item.der)
    context.verify_flags |= _PARTIAL_CHAIN   # any configured CA is an anchor, as on the module
    names = ", ".join(repr(i.name) for i in cas)
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=settings.get("sni") or host) as tls:
                leaf = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
    except ssl.SSLCertVerificationError as exc:
        out.append(Problem("ERROR", where, "the server's chain does not validate against CA %s "
                           "(%s)" % (names, exc.verify_message),
                           "configure the CA that issued the server's chain (its root, or the "
                           "intermediate it sends)"))
        return
    except (OSError, ssl.SSLError) as exc:
        out.append(Problem("ERROR", where, "cannot connect from this host (%s)" % exc,
                           "check the URL, or that this host can reach the server"))
        return
    if not hostname_matches(leaf, host):
        out.append(Problem("ERROR", where, "the server's certificate (%s) is not for host %r"
                           % (_cn(leaf.subject), host),
                           "set server_hostname to a name the certificate holds, or fix the URL"))
        return
    out.append(Problem("OK", where, "the chain validates against CA %s and the certificate is "
                       "for host %r" % (names, host), "nothing to do"))


def check(config_path, model=None, today=None, url=None, profile_id=None):
    """Every Problem of the config (ERROR, WARN; OK lines from check_url)."""
    out = []
    path = Path(config_path)
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return [Problem("ERROR", str(path), "cannot read the config (%s)" % exc,
                        "give a JSON file as tools/provision.py takes it")]
    if not isinstance(config, dict):
        return [Problem("ERROR", str(path), "the config is not a JSON object",
                        "{\"certificates\": [...], \"profiles\": {...}}")]
    chosen = _models(model)
    today = today or datetime.datetime.now(datetime.timezone.utc)
    entries = config.get("certificates") or []
    profiles = config.get("profiles") or {}
    items = []
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or entry.get("type") not in KINDS:
            out.append(Problem("ERROR", "certificates[%d]" % index, "not an entry with a type "
                               "of %s" % ", ".join(KINDS), "see tools/provision.py"))
            continue
        item = Item(index, entry, path.parent)
        items.append(item)
        _read(item, out)
        _model_limits(item, chosen, out)
        if item.cert is not None:
            _check_dates(item, today, out)
    if len(items) > USER_SLOTS:
        out.append(Problem("ERROR", "certificates", "%d entries: a module holds %d user "
                           "entries" % (len(items), USER_SLOTS),
                           "leave out what no profile uses, or provision in two steps"))
    for cc, pk, source in _pairs(items, profiles):
        if cc.cert is not None and pk.key is not None and \
                _spki(cc.cert.public_key()) != _spki(pk.key.public_key()):
            out.append(Problem("ERROR", cc.where, "its key %r (%s) does not match it: the "
                               "certificate holds another public key" % (pk.name, source),
                               "pair it with the key it was issued for, or reissue it for "
                               "this key"))
    cas = [i.cert for i in items if i.kind == "CA" and i.cert is not None]
    for item in items:
        if item.kind == "CC" and item.cert is not None and \
                not any(_issued_by(item.cert, ca) for ca in cas):
            out.append(Problem("ERROR", item.where, "issued by %r, which is not a CA of the "
                               "config" % _cn(item.cert.issuer),
                               "add the missing intermediate %r (and the CA above it) as a "
                               "CA entry" % _cn(item.cert.issuer)))
    held = {(i.kind, i.name) for i in items}
    for pid, settings in sorted(profiles.items()) if isinstance(profiles, dict) else ():
        for key, kind in REFS:
            value = settings.get(key) if isinstance(settings, dict) else None
            name = value[0] if isinstance(value, list) and value else value
            if isinstance(name, str) and name and (kind, name) not in held \
                    and not name.startswith("ubx_"):
                out.append(Problem("WARN", "profiles.%s.%s" % (pid, key), "%s %r is not in this "
                                   "config" % (kind, name), "fine only if the module already "
                                   "holds it; else add it to certificates"))
    if url:
        check_url(url, profile_id, items, profiles, out)
    return out


def gate(config_path, model=None, out=print):
    """Print every problem; True when one is an error (make provision stops)."""
    problems = check(config_path, model)
    for problem in problems:
        out("doctor: %s" % problem)
    return any(p.level == "ERROR" for p in problems)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", default=str(ROOT / "examples" / "provision.json"))
    parser.add_argument("--model", default=None, choices=sorted(models.MODELS),
                        help="the module's model (default: every model's limits)")
    parser.add_argument("--check-url", default=None, help="connect to this https URL from here")
    parser.add_argument("--profile", default=None,
                        help="profile whose CA and host name --check-url uses (default: none "
                             "named: every CA of the config, the URL's host)")
    args = parser.parse_args(argv)
    problems = check(args.config, args.model, url=args.check_url, profile_id=args.profile)
    for problem in problems:
        print(problem)
    errors = sum(p.level == "ERROR" for p in problems)
    warnings = sum(p.level == "WARN" for p in problems)
    scope = args.model or "every model (%s)" % ", ".join(models.MODELS)
    if errors or warnings:
        print("doctor: %d error(s), %d warning(s) in %s, checked for %s"
              % (errors, warnings, args.config, scope))
    else:
        print("doctor: no problems in %s, checked for %s" % (args.config, scope))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
