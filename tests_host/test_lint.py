"""ruff, configured in ruff.toml at the root, finds nothing in the tree:
undefined or unused names, redefinitions, statement and syntax errors,
invalid escapes and bugbear's likely bugs (the rules and the reasons for
each exception are in ruff.toml)."""

import subprocess
import sys
from pathlib import Path

import toolchain

ROOT = Path(__file__).resolve().parent.parent
RUFF = Path(sys.executable).parent / "ruff"


def test_ruff_finds_nothing():
    toolchain.require(RUFF)
    proc = subprocess.run([str(RUFF), "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_catches_what_it_is_there_for(tmp_path):
    # the configuration is the repository's: a defect of each kind is found
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\n\ndef f(x=[]):\n    return undefined_name == None\n")
    toolchain.require(RUFF)
    proc = subprocess.run([str(RUFF), "check", "--no-cache", "--config", str(ROOT / "ruff.toml"),
                           "--output-format", "concise", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    for rule in ("F401", "F821", "B006", "E711"):
        assert rule in proc.stdout, (rule, proc.stdout)
