"""Writes package.json (repo root) so that mip installs lib/ubxsec:

    mpremote mip install github:<org>/<repo>          # -> /lib/ubxsec/*.py
    mpremote mip install --target /flash/lib github:<org>/<repo>

    python tools/package_json.py            # rewrite package.json
    python tools/package_json.py --check    # exit 1 if package.json is stale

Sources are relative to package.json, so the same file works from any fork
and branch (github:<org>/<repo>@<branch>).
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lib" / "ubxsec"
TARGET = ROOT / "package.json"


def version():
    match = re.search(r'^__version__ = "([^"]+)"', (PACKAGE / "__init__.py").read_text(), re.M)
    if not match:
        raise SystemExit("no __version__ in %s" % (PACKAGE / "__init__.py"))
    return match.group(1)


def manifest():
    files = sorted(p.name for p in PACKAGE.glob("*.py"))
    return {
        "urls": [["ubxsec/" + name, "lib/ubxsec/" + name] for name in files],
        "deps": [],
        "version": version(),
    }


def render():
    return json.dumps(manifest(), indent=2) + "\n"


def main(argv):
    text = render()
    if argv[1:] == ["--check"]:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("package.json is stale: run `python tools/package_json.py`", file=sys.stderr)
            return 1
        return 0
    if argv[1:]:
        raise SystemExit(__doc__)
    TARGET.write_text(text)
    print("wrote %s (%d files)" % (TARGET.relative_to(ROOT), len(manifest()["urls"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
