"""+USECMNG: the certificate and private key manager.

AT syntax (responses follow the spec's Syntax section):

    AT+USECMNG=0,<type>,"<name>",<data_size>[,"<password>"]   > data
        -> +USECMNG: 0,<type>,"<name>","<md5>"
    AT+USECMNG=1,<type>,"<name>","<filename>"[,"<password>"]
        -> +USECMNG: 1,<type>,"<name>","<md5>"
    AT+USECMNG=2,<type>,"<name>"                      remove
    AT+USECMNG=3[,<type>]                             list, one bare line each:
        "CA","<name>","<common name>","<YYYY/MM/DD>"  (CA and CC)
        "PK","<name>"  /  "SC","<name>"
    AT+USECMNG=4,<type>,"<name>"  -> +USECMNG: 4,<type>,"<name>","<md5>"
    AT+USECMNG=?                  -> +USECMNG: (0-4),(0-2)

Modelling decisions:
- Types 0 (CA), 1 (CC), 2 (PK), 3 (SC) are accepted; 4 and 5 are refused.
- An internal name is unique across all types (the spec: "Unique identifier
  of an imported certificate or private key. If an existing name is used
  the data will be overridden"): importing under a name that exists with
  another type replaces that entry. Remove and MD5 need the right type.
- At most 10 user entries. A new name when 10 exist is refused (memory
  full); overwriting an existing name is allowed when full.
- Pre-installed roots (roots.py) are type 0 entries outside the 10; their
  names cannot be imported over or removed (operation not allowed). They
  are listed after the user entries, with the table's expiry form.
- User entries are listed in the order their names were first imported.
- The expiry of a user CA/CC is the UTC date of notAfter + 1 s; SC and PK
  lines carry no common name or date (the spec gives those for trusted
  root and client certificates only).
- A <password> is only for type 2; given for another type it is an error.
  An empty password counts as omitted.
- Op 0 checks every parameter (and that a new name fits) before the `>`
  prompt; the data is checked again as a whole after it, and stored only if
  everything passes.

Series differ from this (models.py: name length, MD5 letter case, one-line
PEM, first use of the file system, the answers for a missing MD5 and a full
store, the expiry's form); the handlers ask device.model.

Error codes (+CME ERROR): 50 incorrect parameters (bad op/type/size/data,
wrong or missing password), 24 text too long (name, filename, password),
25 invalid characters, 20 memory full, 3 operation not allowed
(pre-installed root), 22 not found, 23 memory failure (state not saved),
4 operation not supported (the read/action forms).

CredentialStore API (used by the TLS code through device.credentials):

    store.get(kind, name, db=0) -> DER bytes or None
        kind: 0 CA, 1 CC, 2 PK, 3 SC; db: 0 all, 1 user only,
        2 pre-installed only (the +USECPRF op 16 values)
    store.entry(kind, name, db=0) -> Entry or None (Entry.der, .md5,
        .common_name, .not_after, .encrypted, .preinstalled, .listed())
    store.entries(kind=None, db=0) -> [Entry], in listing order
    store.all(kind, db=0) -> [DER bytes] of every entry of that type
    store.certificate(kind, name, db=0) -> cryptography x509.Certificate or None
    store.private_key(name, password="", db=0) -> cryptography key or None
        (None also when the password does not open the key)
    store.key_password_ok(name, password="", db=0) -> bool: True when the
        key exists and opens with exactly this password ("" for a plain key)
    store.put(kind, name, credential), store.remove(kind, name) -> the
        handler's writes; both raise CmeError and change nothing on failure.

Persistence: with a state directory, user entries live in
`<state>/credentials.json` (written atomically: temp file, fsync, rename)
and are loaded when the store is built; with None they live in memory.
Either way they survive a module restart, as imported credentials do.
"""

import base64
import json
import os
import sys
import tempfile
from dataclasses import dataclass

from . import roots, x509info
from .models import model_error
from .cme import (CmeError, INCORRECT_PARAMETERS, INVALID_CHARS, MEMORY_FAILURE, MEMORY_FULL,
                  NOT_ALLOWED, NOT_FOUND, NOT_SUPPORTED, TEXT_TOO_LONG)
from .command import SET, TEST, Prompt, quote

NAME = "+USECMNG"
TYPE_CODES = {0: "CA", 1: "CC", 2: "PK", 3: "SC"}
CA, CC, PK, SC = 0, 1, 2, 3
DB_ALL, DB_USER, DB_PREINSTALLED = 0, 1, 2

MAX_USER_ENTRIES = 10
MAX_PREINSTALLED_NAME = 60
MAX_DATA_SIZE = 8192
MAX_FILENAME = 63
MAX_FILE_SIZE = 8192
MAX_PASSWORD = 128

STATE_FILE = "credentials.json"


@dataclass(frozen=True)
class Entry:
    kind: int
    name: str
    der: bytes
    common_name: str = ""
    expiry: str = ""           # as listed
    not_after: object = None   # datetime (UTC) for certificates
    encrypted: bool = False
    preinstalled: bool = False

    @property
    def md5(self):
        return x509info.md5_hex(self.der)

    def listed(self, expiry_form="date"):
        """This entry's line in the AT+USECMNG=3 listing; a user
        certificate's expiry in the model's form (models.Model.expiry)."""
        fields = [quote(TYPE_CODES[self.kind]), quote(self.name)]
        if self.kind in (CA, CC):
            expiry = self.expiry
            if expiry_form == "datetime" and not self.preinstalled and self.not_after:
                expiry = x509info.table_expiry(self.not_after)
            fields += [quote(self.common_name), quote(expiry)]
        return ",".join(fields)


def user_entry(kind, name, credential):
    expiry = x509info.listed_expiry(credential.not_after) if credential.not_after else ""
    return Entry(kind, name, credential.der, credential.common_name, expiry,
                 credential.not_after, credential.encrypted)


def decode(kind, data, password=None, one_line=False):
    """Validate import data for a type; return a Credential or raise
    InvalidCredential. one_line: a PEM without line breaks is taken too."""
    if one_line:
        data = x509info.pem_unfold_one_line(data)
    if kind == PK:
        return x509info.decode_private_key(data, password)
    return x509info.decode_certificate(data)


class CredentialStore:
    def __init__(self, path=None):
        self.path = path
        self._user = {}   # name -> Entry; dict order is listing order
        self._preinstalled = {
            r.name: Entry(CA, r.name, r.der, r.common_name, r.expiry, None, False, True)
            for r in roots.preinstalled()
        }
        if path is not None:
            self._load()

    # --- reads ---------------------------------------------------------

    def entry(self, kind, name, db=DB_ALL):
        found = None
        if db in (DB_ALL, DB_USER):
            found = self._user.get(name)
        if found is None and db in (DB_ALL, DB_PREINSTALLED):
            found = self._preinstalled.get(name)
        return found if found is not None and found.kind == kind else None

    def get(self, kind, name, db=DB_ALL):
        found = self.entry(kind, name, db)
        return None if found is None else found.der

    def entries(self, kind=None, db=DB_ALL):
        pools = []
        if db in (DB_ALL, DB_USER):
            pools.append(self._user.values())
        if db in (DB_ALL, DB_PREINSTALLED):
            pools.append(self._preinstalled.values())
        return [e for pool in pools for e in pool if kind is None or e.kind == kind]

    def all(self, kind, db=DB_ALL):
        """DER of every entry of a type in a database, in listing order."""
        return [e.der for e in self.entries(kind, db)]

    def user_count(self):
        return len(self._user)

    def is_preinstalled(self, name):
        return name in self._preinstalled

    def certificate(self, kind, name, db=DB_ALL):
        der = self.get(kind, name, db)
        return None if der is None or kind == PK else x509info.load_certificate(der)

    def private_key(self, name, password="", db=DB_ALL):
        found = self.entry(PK, name, db)
        if found is None or bool(password) != found.encrypted:
            return None
        try:
            return x509info.load_private_key(found.der, password or None)
        except x509info.InvalidCredential:
            return None

    def key_password_ok(self, name, password="", db=DB_ALL):
        return self.private_key(name, password, db) is not None

    # --- writes --------------------------------------------------------

    def check_writable(self, name):
        """Raise unless an import under `name` could be stored now."""
        if name in self._preinstalled:
            raise CmeError(NOT_ALLOWED, "pre-installed root %r cannot be changed" % name)
        if name not in self._user and len(self._user) >= MAX_USER_ENTRIES:
            raise CmeError(MEMORY_FULL, "%d user entries already" % MAX_USER_ENTRIES)

    def put(self, kind, name, credential):
        self.check_writable(name)
        updated = dict(self._user)
        updated[name] = user_entry(kind, name, credential)  # an existing name keeps its slot
        self._commit(updated)
        return updated[name]

    def remove(self, kind, name):
        if name in self._preinstalled:
            raise CmeError(NOT_ALLOWED, "pre-installed root %r cannot be removed" % name)
        found = self._user.get(name)
        if found is None or found.kind != kind:
            raise CmeError(NOT_FOUND, "no type %d entry %r" % (kind, name))
        updated = dict(self._user)
        del updated[name]
        self._commit(updated)

    # --- persistence ---------------------------------------------------

    def _commit(self, updated):
        if self.path is not None:
            try:
                self._save(updated)
            except OSError as exc:
                raise CmeError(MEMORY_FAILURE, "state not saved: %s" % exc) from None
        self._user = updated

    def _save(self, entries):
        doc = {"version": 1, "entries": [
            {"type": e.kind, "name": e.name, "der": base64.b64encode(e.der).decode("ascii")}
            for e in entries.values()]}
        fd, tmp = tempfile.mkstemp(prefix=".credentials-", dir=self.path)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(doc, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, os.path.join(self.path, STATE_FILE))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _load(self):
        """Read the user entries back; a corrupt file is lost NVM: no user entries."""
        path = os.path.join(self.path, STATE_FILE)
        if not os.path.exists(path):
            return
        try:
            self._user = self._read(path)
        except (OSError, ValueError, KeyError, TypeError, x509info.InvalidCredential) as exc:
            print("ubxsim: %s unreadable (%s): no user credentials" % (path, exc),
                  file=sys.stderr, flush=True)
            self._user = {}

    @staticmethod
    def _read(path):
        with open(path) as f:
            doc = json.load(f)
        entries = {}
        for item in doc["entries"]:
            kind, name = item["type"], item["name"]
            if kind not in TYPE_CODES or not isinstance(name, str):
                raise ValueError("bad entry %r" % (name,))
            der = base64.b64decode(item["der"])
            if kind == PK:
                # the password is not kept: only the structure is known here
                credential = x509info.Credential(
                    der=der, encrypted=x509info.key_structure(der) == "pkcs8-encrypted")
            else:
                credential = x509info.decode_certificate(der)
            entries[name] = user_entry(kind, name, credential)
        return entries


# --- the AT handler -------------------------------------------------------

def register(device):
    device.credentials = CredentialStore(device.state_path("credentials"))
    device.register(NAME, handle)


def handle(device, kind, params):
    if kind == TEST:
        return ["+USECMNG: (0-4),(0-2)"]
    if kind != SET:
        raise CmeError(NOT_SUPPORTED, "+USECMNG has set and test forms only")
    op = params[0] if params else None
    operation = _OPERATIONS.get(op) if isinstance(op, int) else None
    if operation is None:
        raise CmeError(INCORRECT_PARAMETERS, "bad op code %r" % (op,))
    return operation(device.credentials, device, params[1:])


def _import_stream(store, device, args):
    model = device.model
    _arity(args, 3, 4)
    kind, name = _type(args[0]), _import_name(model, args[1])
    size = args[2]
    if not isinstance(size, int) or not 1 <= size <= MAX_DATA_SIZE:
        raise CmeError(INCORRECT_PARAMETERS, "data size %r not in 1..%d" % (size, MAX_DATA_SIZE))
    password = _password(kind, args[3] if len(args) > 3 else None)
    fs = getattr(device, "fs", None)
    if model.fs_first_use is not None and fs is not None and not fs.used:
        raise model_error(model.fs_first_use, "file system never used")
    try:
        store.check_writable(name)
    except CmeError as exc:
        if exc.code == MEMORY_FULL:
            raise model.refusal("full_store", MEMORY_FULL, exc.detail) from None
        raise

    def on_data(data):
        if len(data) != size:
            raise CmeError(INCORRECT_PARAMETERS, "got %d of %d bytes" % (len(data), size))
        entry = _store(store, model, kind, name, bytes(data), password)
        _stored(device, 0, kind, name, entry)
        return ["+USECMNG: 0,%d,%s,%s" % (kind, quote(name), quote(model.md5(entry.md5)))]

    return Prompt(size, on_data)


def _import_file(store, device, args):
    model = device.model
    _arity(args, 3, 4)
    kind, name = _type(args[0]), _import_name(model, args[1])
    filename = _text(args[2], MAX_FILENAME, "filename")
    password = _password(kind, args[3] if len(args) > 3 else None)
    store.check_writable(name)
    data = _read_file(device, filename)
    entry = _store(store, model, kind, name, data, password)
    _stored(device, 1, kind, name, entry)
    return ["+USECMNG: 1,%d,%s,%s" % (kind, quote(name), quote(model.md5(entry.md5)))]


def _remove(store, device, args):
    _arity(args, 2, 2)
    store.remove(_type(args[0]), _lookup_name(device.model, args[1]))
    return []


def _list(store, device, args):
    _arity(args, 0, 1)
    kind = _type(args[0]) if args and args[0] is not None else None
    return [e.listed(device.model.expiry) for e in store.entries(kind)]


def _md5(store, device, args):
    _arity(args, 2, 2)
    kind, name = _type(args[0]), _lookup_name(device.model, args[1])
    found = store.entry(kind, name)
    if found is None:
        raise device.model.refusal("md5_missing", NOT_FOUND, "no type %d entry %r" % (kind, name))
    return ["+USECMNG: 4,%d,%s,%s" % (kind, quote(name), quote(device.model.md5(found.md5)))]


_OPERATIONS = {0: _import_stream, 1: _import_file, 2: _remove, 3: _list, 4: _md5}


def _stored(device, op, kind, name, entry):
    """One line of the event log per import (name and MD5: never the data or
    a password), e.g. for counting what a provisioning run imported."""
    device.log("import op %d type %d %s MD5 %s" % (op, kind, quote(name), entry.md5))


def _store(store, model, kind, name, data, password):
    if model.pem_line_max is not None and x509info.is_pem(data) \
            and max(len(line) for line in data.splitlines()) > model.pem_line_max:
        raise model.refusal("pem_format", INCORRECT_PARAMETERS,
                            "PEM line over %d characters" % model.pem_line_max)
    try:
        credential = decode(kind, data, password, one_line=model.pem_one_line == "join")
    except x509info.InvalidCredential as exc:
        raise model.refusal("pem_format", INCORRECT_PARAMETERS, str(exc)) \
            if x509info.is_pem(data) else CmeError(INCORRECT_PARAMETERS, str(exc)) from None
    return store.put(kind, name, credential)


def _read_file(device, filename):
    fs = getattr(device, "fs", None)
    if fs is None:
        raise CmeError(NOT_SUPPORTED, "no module file system")
    try:
        data = fs.read(filename)
    except (FileNotFoundError, KeyError):
        data = None
    if data is None:
        raise CmeError(NOT_FOUND, "no file %r" % filename)
    if not 1 <= len(data) <= MAX_FILE_SIZE:
        raise CmeError(INCORRECT_PARAMETERS, "file size %d not in 1..%d" % (len(data), MAX_FILE_SIZE))
    return bytes(data)


# --- parameter checks -----------------------------------------------------

def _arity(args, least, most):
    if not least <= len(args) <= most:
        raise CmeError(INCORRECT_PARAMETERS, "wrong number of parameters")


def _type(value):
    if not isinstance(value, int) or value not in TYPE_CODES:
        raise CmeError(INCORRECT_PARAMETERS, "type %r not allowed" % (value,))
    return value


def _text(value, limit, what):
    if not isinstance(value, str) or value == "":
        raise CmeError(INCORRECT_PARAMETERS, "%s missing" % what)
    if len(value) > limit:
        raise CmeError(TEXT_TOO_LONG, "%s longer than %d" % (what, limit))
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise CmeError(INVALID_CHARS, "%s holds a control character" % what)
    return value


def _import_name(model, value):
    return _text(value, model.name_max, "internal name")


def _lookup_name(model, value):
    # pre-installed names run to 60 characters
    return _text(value, max(model.name_max, MAX_PREINSTALLED_NAME), "internal name")


def _password(kind, value):
    if value is None or value == "":
        return None
    if kind != PK:
        raise CmeError(INCORRECT_PARAMETERS, "a password applies to private keys only")
    return _text(value, MAX_PASSWORD, "password")
