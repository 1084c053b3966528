"""Flash budget: the core package (package.json: engine, ring, errors,
params, chip, certs, pem, profiles) compiled with mpy-cross (default
options) is at most 24 KB; the extensions are separate packages.

Each module is compiled from lib/ as `ubxsec/<name>.py`, so the source name
embedded in every .mpy (and so the size) does not depend on where the tree
is checked out (tools/package_json.py mpy_sizes, also what bench reports).
"""

import sys

import pytest

import toolchain
from harness import MPY_CROSS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import package_json  # noqa: E402

BUDGET = 24 * 1024          # DESIGN.md, "Budgets"


@pytest.fixture(scope="module")
def sizes():
    toolchain.require(MPY_CROSS)
    return package_json.mpy_sizes(MPY_CROSS)


def _table(sizes):
    return ", ".join("%s %d" % item for item in sorted(sizes.items()))


def test_core_package_within_24k(sizes):
    assert sizes["core"] <= BUDGET, "core %d bytes > %d (%s)" % (sizes["core"], BUDGET, _table(sizes))


def test_every_extension_is_measured_apart_from_the_core(sizes):
    assert sorted(sizes) == sorted(["core"] + list(package_json.EXTENSIONS))
    assert all(n > 0 for n in sizes.values()), _table(sizes)
