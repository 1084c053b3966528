"""`make provision CONFIG=<file>`: bring a module to a declared state.

    python tools/provision.py examples/provision.json          # the virtual rig
    PORT=/dev/ttyACM0 BOARD=pico python tools/provision.py my.json

The config (JSON; relative file paths are relative to the config file):

    {"certificates": [{"file": "ca.pem", "type": "CA", "name": "MyCA"},
                      {"file": "key.der", "type": "PK", "name": "MyKey", "password": "..."}],
     "profiles": {"2": {"validation_level": 1, "ca_name": "MyCA"}}}

The whole config is checked on the host before the board is touched, by the
library's own checks (run here on CPython against a recorder instead of a
module): every file is read and decoded (DER or PEM, its label fits its
type, a password only with a DER key), every type, name, profile id, key and
value (ranges, string limits, cipher codes, one cipher form per profile),
and server_hostname/sni are hostnames. The first bad item is named. Types
are the spec's upper-case CA, CC, PK, SC, as the library takes them.

Idempotent: a certificate whose MD5 on the module already equals the MD5 of
its DER computed here is not imported again; a profile setting that already
reads back as wanted is not written again (write-only settings, such as a
PSK, are always written). Ends with a table of what changed. Exit status 0
only if everything was applied and verified; a failure on the board names the
item and prints the table of what was applied before it.
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests_host"))

import harness  # noqa: E402


def _library():
    """lib/ubxsec imported into CPython: MicroPython's const() is the identity."""
    import types
    if "micropython" not in sys.modules:
        shim = types.ModuleType("micropython")
        shim.const = lambda value: value
        sys.modules["micropython"] = shim
    sys.path.insert(0, str(ROOT / "lib"))
    try:
        from ubxsec import certs, profiles
    finally:
        sys.path.pop(0)
    return certs, profiles


ubx_certs, ubx_profiles = _library()

RIG_DIR = ROOT / "build" / "rig"
KINDS = ("CA", "CC", "PK", "SC")
STAGING = "provision"   # under the board's working directory (/ on rp2, /flash on stm32)
WRITE_ONLY = ("key_password", "psk", "session_data", "add_cipher", "remove_cipher")
SPREAD = ("psk", "psk_identity", "pinning", "session_data")   # a list = the argument list
SECRET = ("psk_identity",)   # readable, but never shown (DESIGN: no PSK identity in logs)
SETUP = "import ubxsec, json\nfrom ubxsec.errors import AtError\nfrom board import uart\nm = ubxsec.Module(uart())"


class ConfigError(Exception):
    pass


class ProvisionError(Exception):
    pass


# -- the config ----------------------------------------------------------------

class _Checked(Exception):
    """The dry run reached the point where bytes would go to the module."""


class _Recorder:
    """Stands in for the AT engine: the library checks everything before its
    first write, so a command reaching here has passed every check. Reads
    of the cipher setting answer the factory value."""

    timeout_ms = 5000

    def command(self, cmd, secret=False, **kw):
        if cmd.startswith("+USECPRF=") and cmd.endswith(",2") and cmd.count(",") == 1:
            return ["+USECPRF: %s,2,0" % cmd.split("=")[1].split(",")[0]]
        return []

    def command_with_data(self, *args, **kw):
        raise _Checked()

    # the engine contract: the library's methods run generators over these
    def exchange(self, cmd, timeout_ms=None, secret=False, **kw):
        return self.command(cmd, secret)
        yield

    def exchange_data(self, *args, **kw):
        raise _Checked()
        yield

    def run(self, gen):
        try:
            while True:
                gen.send(None)
        except StopIteration as stop:
            return stop.value


HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
                      r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
HOST_KEYS = ("server_hostname", "sni")


class Cert:
    def __init__(self, entry, base, index):
        where = "certificates[%d]" % index
        if not isinstance(entry, dict):
            raise ConfigError("%s: an entry is an object with file, type, name, not %r" % (where, entry))
        if isinstance(entry.get("name"), str):
            where += " (%s)" % entry["name"]
        unknown = set(entry) - {"file", "type", "name", "password"}
        if unknown:
            raise ConfigError("%s: unknown keys %s (known: file, type, name, password)" % (where, sorted(unknown)))
        for key in ("file", "type", "name"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise ConfigError("%s: %r must be a non-empty string" % (where, key))
        self.kind = entry["type"]
        if self.kind not in KINDS:
            hint = " (upper case, as the spec and the library write it)" if self.kind.upper() in KINDS else ""
            raise ConfigError("%s: type %r is not one of %s%s" % (where, self.kind, ", ".join(KINDS), hint))
        self.name = entry["name"]
        self.password = entry.get("password")
        if self.password is not None and not isinstance(self.password, str):
            raise ConfigError("%s: 'password' must be a string" % where)
        self.path = (base / entry["file"]).resolve()
        where = "%s, file %s" % (where, self.path)
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ConfigError("%s: cannot read it (%s)" % (where, exc.strerror or exc)) from None
        if not data.strip():
            raise ConfigError("%s: the file is empty" % where)
        try:
            ubx_certs.Certs(_Recorder()).import_bytes(data, self.kind, self.name, self.password)
        except _Checked:
            pass
        except ValueError as exc:
            raise ConfigError("%s: %s" % (where, exc)) from None
        self.md5 = ubx_certs.Certs(None).der_md5(data, self.kind)


def der_md5(data, what):
    """MD5 (hex) of the DER the module stores for a DER or PEM file."""
    try:
        return ubx_certs.Certs(None).der_md5(data)
    except ValueError as exc:
        raise ConfigError("%s: %s" % (what, exc)) from None


def check_profile(n, settings):
    """Every setting as the library checks it before its first write, one key
    at a time (so the message names it), then all together (one cipher form)."""
    for key, value in settings.items():
        where = "profiles.%d.%s" % (n, key)
        if key in HOST_KEYS and isinstance(value, str) and not HOSTNAME.match(value):
            raise ConfigError("%s: %r is not a hostname (letters, digits, '-' and dots; no spaces)"
                              % (where, value))
        try:
            ubx_profiles.SecurityProfile(_Recorder(), n).apply({key: _value(key, value)})
        except (ValueError, TypeError) as exc:
            raise ConfigError("%s: %s" % (where, _hide(key, exc))) from None
    try:
        ubx_profiles.SecurityProfile(_Recorder(), n).apply(
            {key: _value(key, value) for key, value in settings.items()})
    except (ValueError, TypeError) as exc:
        raise ConfigError("profiles.%d: %s" % (n, exc)) from None


def _value(key, value):
    """A JSON value as apply() takes it: a list is the argument list of the
    keys taking several, else the list of cipher codes."""
    return tuple(value) if key in SPREAD and isinstance(value, list) else value


def _hide(key, exc):
    """The library names the setting, never its value for secrets; keep it so."""
    return exc if key not in SECRET + ("key_password", "psk", "session_data") \
        else "%s: bad value (not shown)" % key


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
    entries = config.get("certificates", [])
    if not isinstance(entries, list):
        raise ConfigError("\"certificates\" must be a list of objects")
    certs = [Cert(e, path.parent, i) for i, e in enumerate(entries)]
    names = [(c.kind, c.name) for c in certs]
    for i, pair in enumerate(names):
        if pair in names[:i]:
            raise ConfigError("certificates[%d]: %s %r is listed twice" % (i, pair[0], pair[1]))
    profiles = {}
    groups = config.get("profiles") or {}
    if not isinstance(groups, dict):
        raise ConfigError("\"profiles\" must be an object keyed by profile id")
    for key, settings in groups.items():
        if not str(key).isdigit() or not 0 <= int(key) <= 4:
            raise ConfigError("profiles.%s: profile ids are 0-4" % (key,))
        if not isinstance(settings, dict) or not settings:
            raise ConfigError("profiles.%s: settings must be a non-empty object" % key)
        check_profile(int(key), settings)
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
            # the exception the board raised, not the code (it may carry a
            # key password or a PSK) nor the traceback's internals
            raise ProvisionError(_last_error(out))
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


def _last_error(out):
    """The exception line of a board's traceback (or its whole output)."""
    lines = [line.strip() for line in out.strip().splitlines() if line.strip()]
    if "Traceback" in out and lines:
        return lines[-1]
    return "the board failed:\n" + out.strip()


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
    done = {"imported": 0, "changed": 0}
    step = [None]   # the item being applied, for a failure's message
    try:
        _apply(dev, certs, profiles, rows, done, step)
    except (ProvisionError, harness.HarnessError) as exc:
        applied = [r for r in rows if r[1] in ("imported", "set", "written")]
        if applied:
            out("applied before the failure:")
            print_table(applied, out)
        else:
            out("nothing was applied before the failure")
        raise ProvisionError("%s: %s" % (step[0], exc)) from None
    print_table(rows, out)
    imported, changed = done["imported"], done["changed"]
    if imported:
        out("%d certificate(s) imported, %d already up to date" % (imported, len(certs) - imported))
    else:
        out("nothing imported: all %d certificate(s) already on the module with matching MD5" % len(certs))
    out("%d profile setting(s) changed" % changed)
    return imported, changed


def _apply(dev, certs, profiles, rows, done, step):
    for cert in certs:
        label = "%s %s" % (cert.kind, cert.name)
        step[0] = "certificate %s (%s)" % (label, cert.path.name)
        have = dev.md5(cert)
        if have == cert.md5:
            if cert.password is not None:
                # the module checks a key's password only while importing it:
                # a matching MD5 says nothing about the one in the config
                rows.append((label, "unchecked", "MD5 %s already on the module; its password was "
                             "not checked (the module checks one only on import: remove the key and "
                             "run again to check it)" % have))
            else:
                rows.append((label, "unchanged", "MD5 %s already on the module" % have))
            continue
        got = dev.import_cert(cert)
        if got != cert.md5:
            raise ProvisionError("the module stored MD5 %s, the file's DER has %s" % (got, cert.md5))
        done["imported"] += 1
        rows.append((label, "imported", "MD5 %s (was %s)" % (got, have or "absent")))
    for n, settings in sorted(profiles.items()):
        step[0] = "profile %d" % n
        current = dev.read_profile(n)
        todo = {}
        planned = []
        for key, want in settings.items():
            if key in WRITE_ONLY:
                todo[key] = want
                planned.append(("profile %d %s" % (n, key), "written", "write-only: cannot be compared"))
            elif key in current and _same(key, current[key], want):
                rows.append(("profile %d %s" % (n, key), "unchanged", _show(key, want)))
            else:
                todo[key] = want
                planned.append(("profile %d %s" % (n, key), "set",
                                "%s -> %s" % (_show(key, current.get(key)), _show(key, want))))
        if todo:
            step[0] = "profile %d (%s)" % (n, ", ".join(todo))
            dev.apply(n, todo)
            rows.extend(planned)
            after = dev.read_profile(n)
            for key, want in todo.items():
                if key not in WRITE_ONLY and not _same(key, after.get(key), want):
                    raise ProvisionError("%s reads back %s after setting %s"
                                         % (key, _show(key, after.get(key)), _show(key, want)))
            done["changed"] += sum(1 for key in todo if key not in WRITE_ONLY)


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
