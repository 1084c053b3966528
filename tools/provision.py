"""`make provision CONFIG=<file>`: bring a module to a declared state.

    python tools/provision.py examples/provision.json          # the virtual rig
    PORT=/dev/ttyACM0 BOARD=pico python tools/provision.py my.json

The config (JSON; relative file paths are relative to the config file):

    {"certificates": [{"file": "ca.pem", "type": "CA", "name": "MyCA"},
                      {"file": "key.der", "type": "PK", "name": "MyKey", "password": "..."}],
     "profiles": {"2": {"validation_level": 1, "ca_name": "MyCA"}}}

Idempotent: a certificate whose MD5 on the module already equals the MD5 of
its DER computed here is not imported again; a profile setting that already
reads back as wanted is not written again (write-only settings, such as a
PSK, are always written). Ends with a table of what changed. Exit status 0
only if everything was applied and verified.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests_host"))

import harness  # noqa: E402

RIG_DIR = ROOT / "build" / "rig"
KINDS = ("CA", "CC", "PK", "SC")
STAGING = "provision"   # under the board's working directory (/ on rp2, /flash on stm32)
WRITE_ONLY = ("key_password", "psk", "session_data", "add_cipher", "remove_cipher")
SPREAD = ("psk", "psk_identity", "pinning", "session_data")   # a list = the argument list
SECRET = ("psk_identity",)   # readable, but never shown (DESIGN: no PSK identity in logs)
SETUP = "import ubxsec, json\nfrom ubxsec.errors import AtError\nfrom board import uart\nm = ubxsec.Module(uart())"
PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


class ConfigError(Exception):
    pass


class ProvisionError(Exception):
    pass


# -- the config ----------------------------------------------------------------

class Cert:
    def __init__(self, entry, base):
        if not isinstance(entry, dict):
            raise ConfigError("a certificate entry must be an object, not %r" % (entry,))
        unknown = set(entry) - {"file", "type", "name", "password"}
        if unknown:
            raise ConfigError("certificate %r: unknown keys %s" % (entry.get("name"), sorted(unknown)))
        for key in ("file", "type", "name"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise ConfigError("certificate %r: %r must be a non-empty string" % (entry.get("name"), key))
        self.kind = entry["type"].upper()
        if self.kind not in KINDS:
            raise ConfigError("certificate %r: type %r is not one of %s" % (entry["name"], entry["type"], KINDS))
        self.name = entry["name"]
        self.password = entry.get("password")
        self.path = (base / entry["file"]).resolve()
        if not self.path.is_file():
            raise ConfigError("certificate %r: no file %s" % (self.name, self.path))
        self.md5 = der_md5(self.path.read_bytes(), self.path)


def der_md5(data, what):
    """MD5 (hex) of the DER the module stores for a DER or PEM file."""
    if data[:1] == b"\x30":
        return hashlib.md5(data).hexdigest()
    match = PEM_BLOCK.search(data)
    if not match:
        raise ConfigError("%s is neither DER nor PEM" % what)
    try:
        der = base64.b64decode(b"".join(match.group(2).split()), validate=True)
    except ValueError as exc:
        raise ConfigError("%s: bad PEM base64 (%s)" % (what, exc)) from None
    return hashlib.md5(der).hexdigest()


def load_config(path):
    path = Path(path)
    try:
        config = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError("cannot read %s: %s" % (path, exc)) from None
    except ValueError as exc:
        raise ConfigError("%s is not valid JSON: %s" % (path, exc)) from None
    if not isinstance(config, dict) or set(config) - {"certificates", "profiles"}:
        raise ConfigError("%s: the top level holds only \"certificates\" and \"profiles\"" % path)
    certs = [Cert(e, path.parent) for e in config.get("certificates", [])]
    names = [(c.kind, c.name) for c in certs]
    if len(set(names)) != len(names):
        raise ConfigError("a (type, name) pair is listed twice")
    profiles = {}
    for key, settings in (config.get("profiles") or {}).items():
        if not str(key).isdigit() or not 0 <= int(key) <= 4:
            raise ConfigError("profile %r: ids are 0-4" % (key,))
        if not isinstance(settings, dict) or not settings:
            raise ConfigError("profile %s: settings must be a non-empty object" % key)
        profiles[int(key)] = settings
    return certs, profiles


# -- on the board --------------------------------------------------------------

class Board:
    def __init__(self, target):
        self.target = target
        self.started = False

    def call(self, code):
        """Run code (after the set-up on first use); the JSON it printed after "= "."""
        if not self.started:
            code = SETUP + "\n" + code
        proc = self.target.exec(code, reset=not self.started, check=False)
        self.started = True
        out = proc.stdout + proc.stderr
        lines = [line[2:] for line in out.splitlines() if line.startswith("= ")]
        if proc.returncode or "Traceback" in out or len(lines) != 1:
            # not the code itself: it may carry a key password or a PSK
            raise ProvisionError("the board failed:\n%s" % out.strip())
        return json.loads(lines[0])

    def md5(self, cert):
        return self.call("try:\n r = m.certs.md5(%r, %r)\nexcept AtError:\n r = None\n"
                         "print('=', json.dumps(r))" % (cert.kind, cert.name))

    def import_cert(self, cert):
        staging = self.target.layout().path(STAGING)
        remote = "%s/%s" % (staging, cert.path.name)
        self.target.mpremote("resume", "exec", "import os\ntry:\n os.mkdir(%r)\nexcept OSError:\n pass" % staging,
                             "+", "cp", str(cert.path), ":" + remote)
        try:
            return self.call("print('=', json.dumps(m.certs.import_file(%r, %r, %r, %r)))"
                             % (remote, cert.kind, cert.name, cert.password))
        finally:
            self.target.mpremote("resume", "rm", ":" + remote, check=False)

    def read_profile(self, n):
        return self.call("print('=', json.dumps(m.profile(%d).read_all()))" % n)

    def apply(self, n, settings):
        literal = "{%s}" % ", ".join("%r: %s" % (k, _literal(k, v)) for k, v in settings.items())
        self.call("m.profile(%d).apply(%s)\nprint('= 0')" % (n, literal))


def _literal(key, value):
    if key in SPREAD and isinstance(value, list):
        return repr(tuple(value))
    return repr(value)


def _same(key, have, want):
    if key == "cipher_list" and isinstance(have, list) and isinstance(want, list):
        return sorted(have) == sorted(want)   # membership, not order
    if key == "psk_identity":
        # read back as (text, is_hex); set as "text" or [text, is_hex]
        args = want if isinstance(want, list) else [want]
        text, is_hex = args[0], bool(args[1]) if len(args) > 1 else False
        want = [text.upper() if is_hex else text, is_hex]
        if isinstance(have, (list, tuple)) and len(have) == 2 and have[1]:
            have = [str(have[0]).upper(), True]
    return json.loads(json.dumps(have)) == json.loads(json.dumps(want))


# -- the run ------------------------------------------------------------------

def provision(target, board, certs, profiles, out=print):
    harness.deploy(target, harness.compile_lib(target.mpy_info(), ROOT / "build" / "mpy"), board)
    dev = Board(target)
    rows = []
    imported = 0
    for cert in certs:
        label = "%s %s" % (cert.kind, cert.name)
        have = dev.md5(cert)
        if have == cert.md5:
            rows.append((label, "unchanged", "MD5 %s already on the module" % have))
            continue
        got = dev.import_cert(cert)
        if got != cert.md5:
            raise ProvisionError("%s: the module stored MD5 %s, the file's DER has %s" % (label, got, cert.md5))
        imported += 1
        rows.append((label, "imported", "MD5 %s (was %s)" % (got, have or "absent")))
    changed = 0
    for n, settings in sorted(profiles.items()):
        current = dev.read_profile(n)
        todo = {}
        for key, want in settings.items():
            if key in WRITE_ONLY:
                todo[key] = want
                rows.append(("profile %d %s" % (n, key), "written", "write-only: cannot be compared"))
            elif key in current and _same(key, current[key], want):
                rows.append(("profile %d %s" % (n, key), "unchanged", _show(key, want)))
            else:
                todo[key] = want
                rows.append(("profile %d %s" % (n, key), "set",
                             "%s -> %s" % (_show(key, current.get(key)), _show(key, want))))
        if todo:
            dev.apply(n, todo)
            after = dev.read_profile(n)
            for key, want in todo.items():
                if key not in WRITE_ONLY and not _same(key, after.get(key), want):
                    raise ProvisionError("profile %d %s reads back %s after setting %s"
                                         % (n, key, _show(key, after.get(key)), _show(key, want)))
            changed += sum(1 for key in todo if key not in WRITE_ONLY)
    print_table(rows, out)
    if imported:
        out("%d certificate(s) imported, %d already up to date" % (imported, len(certs) - imported))
    else:
        out("nothing imported: all %d certificate(s) already on the module with matching MD5" % len(certs))
    out("%d profile setting(s) changed" % changed)
    return imported, changed


def _show(key, value):
    return "(secret)" if key in SECRET else json.dumps(value)


def print_table(rows, out):
    head = ("item", "action", "detail")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(2)]
    fmt = "%-" + str(widths[0]) + "s  %-" + str(widths[1]) + "s  %s"
    out(fmt % head)
    out(fmt % ("-" * widths[0], "-" * widths[1], "-" * 6))
    for row in rows:
        out(fmt % row)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", default=str(ROOT / "examples" / "provision.json"))
    parser.add_argument("--port", default=os.environ.get("PORT", ""),
                        help="mpremote connect string (default: $PORT; empty: the virtual rig)")
    parser.add_argument("--board", default=os.environ.get("BOARD", ""),
                        help="board file in boards/ (default: pico with a port, else virtual)")
    args = parser.parse_args(argv)
    try:
        certs, profiles = load_config(args.config)
        if args.port:
            provision(harness.Target(args.port), args.board or "pico", certs, profiles)
        else:
            print("virtual rig in %s (its module and flash persist between runs)" % RIG_DIR.relative_to(ROOT))
            with harness.VirtualRig(RIG_DIR) as rig:
                provision(harness.Target(rig.connect), args.board or "virtual", certs, profiles)
    except ConfigError as exc:
        print("provision: bad config: %s" % exc, file=sys.stderr)
        return 2
    except (ProvisionError, harness.HarnessError) as exc:
        print("provision FAILED: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
