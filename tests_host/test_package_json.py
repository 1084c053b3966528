"""package.json installs exactly lib/ubxsec, and is what the generator writes."""

import json
import subprocess
import sys

from harness import ROOT

PACKAGE = ROOT / "lib" / "ubxsec"


def _package():
    return json.loads((ROOT / "package.json").read_text())


def test_package_json_lists_exactly_the_library_files():
    urls = _package()["urls"]
    on_disk = sorted("ubxsec/" + p.name for p in PACKAGE.glob("*.py"))
    assert sorted(dest for dest, _ in urls) == on_disk
    for dest, src in urls:
        assert src == "lib/" + dest
        assert (ROOT / src).is_file(), src


def test_package_json_version_is_the_library_version():
    init = (PACKAGE / "__init__.py").read_text()
    assert '__version__ = "%s"' % _package()["version"] in init


def test_package_json_is_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "package_json.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
