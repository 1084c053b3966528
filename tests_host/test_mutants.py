"""`make mutants` stays runnable: every mutant's search text occurs exactly
once in its file, the mutated file compiles, the tests it names exist, and
the list holds at least 30 mutants of lib/ubxsec and 10 of sim/ubxsim. The
run itself is `make mutants` (long; not part of make test)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import mutants  # noqa: E402
from mutant_list import MUTANTS, Mutant  # noqa: E402


def test_every_anchor_applies_once_and_every_test_exists():
    assert mutants.check() == []


def test_the_list_covers_library_and_simulator():
    lib = [m for m in MUTANTS if m.path.startswith("lib/ubxsec/")]
    sim = [m for m in MUTANTS if m.path.startswith("sim/ubxsim/")]
    assert len(lib) >= 30 and len(sim) >= 10, (len(lib), len(sim))
    assert len(lib) + len(sim) == len(MUTANTS)


def test_check_reports_a_stale_anchor(monkeypatch):
    stale = Mutant("stale", "lib/ubxsec/at.py", "rule", "no such text", "x", ("unit_at",))
    twice = Mutant("twice", "lib/ubxsec/at.py", "rule", "self", "x", ("unit_at",))
    broken = Mutant("broken", "lib/ubxsec/at.py", "rule", "_PROBES = const(3)", "_PROBES = (",
                    ("unit_at",))
    missing = Mutant("missing", "lib/ubxsec/at.py", "rule", "_PROBES = const(3)",
                     "_PROBES = const(2)", ("unit_at:test_nothing_like_this",))
    monkeypatch.setattr(mutants, "MUTANTS", [stale, twice, broken, missing])
    problems = mutants.check()
    assert [p.split(":")[0] for p in problems] == ["stale", "twice", "broken", "missing"], problems
