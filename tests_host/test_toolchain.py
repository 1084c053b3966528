"""`make test` fails, never skips, when the MicroPython toolchain is broken:
toolchain.require() fails for a missing tool, the tools are there, and no
host test skips except where it is opt-in by design."""

import re
from pathlib import Path

import pytest

import toolchain

HERE = Path(__file__).resolve().parent
# the only skips allowed: opt-in runs and what a real board cannot do
OPT_IN_SKIPS = {
    "test_robust_fuzz.py": ["FUZZ_CASES not set"],
    "test_device_suite.py": ["needs the rig's module side (RIG_CONTROL",
                             "PORT is set: the device tests run once"],
}


def test_a_missing_tool_fails_the_test(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="nothing-here not installed"):
        toolchain.require(toolchain.MICROPYTHON, tmp_path / "nothing-here")


def test_the_tools_are_installed():
    toolchain.require(toolchain.MICROPYTHON, toolchain.MPY_CROSS)


def test_no_host_test_skips_for_a_missing_tool():
    for path in sorted(HERE.glob("*.py")):
        if path.name == "test_toolchain.py":
            continue
        text = path.read_text()
        for call in re.findall(r"pytest\.(?:mark\.)?(?:skip|skipif|importorskip)\b(.*)", text):
            allowed = OPT_IN_SKIPS.get(path.name, [])
            assert any(reason in call for reason in allowed), "%s: pytest.skip(%s" % (path.name, call)
