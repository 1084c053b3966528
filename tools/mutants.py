"""`make mutants`: does the test suite catch each change that breaks a rule?

    .venv/bin/python tools/mutants.py [--out tests_host/mutants.md] [--only ID,ID] [--list]
    .venv/bin/python tools/mutants.py --only 'at-*' --front aio   # through ubxsec.aio
    .venv/bin/python tools/mutants.py --check      # anchors only (cheap; make test runs it)

Each mutant in tools/mutant_list.py is one small search/replace in one file
of lib/ubxsec or sim/ubxsim, whose search text must occur exactly once. The
tree is copied once to a scratch directory (the working tree is never
touched); each mutant is applied there, its own selection of tests runs
against it, and the file is put back. A mutant is killed when a selected
test fails (or hangs past the timeout); it survives when all pass.

First every selected test runs on the unmutated copy: a test that fails
there would "kill" every mutant and prove nothing, so the run stops.

Tests are named as:
  unit_at                       every test_* of tests_device/unit_at.py,
  unit_at:test_a,test_b         those functions only (on the MicroPython unix port),
  tests_host/test_x.py::test_y  a pytest node id (run with the simulator on
                                the scratch copy's sim/ first on PYTHONPATH).

--front aio runs each unit test file X through the asyncio front end
instead, where tests_device/X_aio.py exists (unit_at -> unit_at_aio: the
same test functions, the engine driven by ubxsec.aio.AsyncEngine); --only
takes ids and id prefixes ending in '*'.

Writes a table (killed / surviving) to --out; exit status 1 if a mutant
survived or the baseline failed.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutant_list import MUTANTS  # noqa: E402

BIN = Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
UNIT_TIMEOUT = 120
DETAIL_MAX = 160  # characters of the failure kept in the table
HOST_TIMEOUT = 300
COPY_IGNORE = shutil.ignore_patterns(".venv", ".git", "build", "__pycache__", ".pytest_cache",
                                     "node_modules", "*.pyc")

# runs named test functions of one tests_device module on the unix port
UNIT_DRIVER = """
import sys
import %s as mod
names = %r or [n for n in sorted(dir(mod)) if n.startswith("test_")]
failed = 0
for name in names:
    try:
        res = getattr(mod, name)()
        if hasattr(res, "send"):  # an async test (unit_aio): run it
            import asyncio
            asyncio.run(res)
    except Exception as exc:
        failed += 1
        print("FAIL %%s: %%s: %%s" %% (name, type(exc).__name__, exc))
    else:
        print("ok %%s" %% name)
sys.exit(1 if failed or not names else 0)
"""


class MutantError(Exception):
    pass


def parse_test(spec):
    """('unit', module, [names]) or ('host', nodeid, None)."""
    if "/" in spec or "::" in spec:
        return ("host", spec, None)
    module, _, names = spec.partition(":")
    return ("unit", module, [n for n in names.split(",") if n])


def check(root=ROOT, mutants=None):
    """Every mutant's anchor occurs exactly once in its file, the result
    still compiles, and every test it names exists. Returns the problems."""
    problems = []
    ids = [m.id for m in MUTANTS]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append("%s: id used twice" % dup)
    for m in MUTANTS if mutants is None else mutants:
        path = root / m.path
        if not path.exists():
            problems.append("%s: no file %s" % (m.id, m.path))
            continue
        text = path.read_text()
        count = text.count(m.find)
        if count != 1:
            problems.append("%s: anchor found %d times in %s" % (m.id, count, m.path))
            continue
        if m.find == m.replace:
            problems.append("%s: the patch changes nothing" % m.id)
        try:
            compile(text.replace(m.find, m.replace), str(path), "exec")
        except SyntaxError as exc:
            problems.append("%s: the mutant does not compile: %s" % (m.id, exc))
        if not m.tests:
            problems.append("%s: no test selected" % m.id)
        for spec in m.tests:
            problems += ["%s: %s" % (m.id, p) for p in _check_test(root, spec)]
    return problems


def _check_test(root, spec):
    kind, what, names = parse_test(spec)
    if kind == "unit":
        path = root / "tests_device" / (what + ".py")
        if not path.exists():
            return ["no device test file %s" % path.name]
        text = path.read_text()
        return ["no %s in %s" % (n, path.name) for n in names if "def %s(" % n not in text]
    file_part, _, func = what.partition("::")
    path = root / file_part
    if not path.exists():
        return ["no host test file %s" % file_part]
    func = func.split("[")[0]
    if func and "def %s(" % func not in path.read_text():
        return ["no %s in %s" % (func, file_part)]
    return []


# -- running -------------------------------------------------------------------

def run_test(tree, spec, workdir):
    """(passed, what failed) for one test selection on the tree."""
    kind, what, names = parse_test(spec)
    try:
        if kind == "unit":
            # .frozen: the port's frozen modules (asyncio)
            env = dict(os.environ, MICROPYPATH="%s:%s:.frozen" % (tree / "lib", tree / "tests_device"))
            proc = subprocess.run([str(MICROPYTHON), "-X", "heapsize=1M", "-c",
                                   UNIT_DRIVER % (what, names)],
                                  cwd=str(workdir), env=env, capture_output=True, text=True,
                                  timeout=UNIT_TIMEOUT)
            fails = [line for line in proc.stdout.splitlines() if line.startswith("FAIL ")]
        else:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(
                [str(tree / "sim"), str(tree / "tests_host")] +
                [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p",
                                   "no:cacheprovider", "--timeout=%d" % HOST_TIMEOUT, what],
                                  cwd=str(tree), env=env, capture_output=True, text=True,
                                  timeout=HOST_TIMEOUT + 60)
            fails = [line for line in proc.stdout.splitlines() if line.startswith("FAILED ")]
    except subprocess.TimeoutExpired:
        return False, "%s: hung (timeout)" % spec
    if proc.returncode == 0:
        return True, None
    if fails:
        detail = fails[0]
    else:  # it did not get as far as a test (an import error, a crash)
        detail = "%s: %s" % (spec, " ".join((proc.stdout + proc.stderr).strip().splitlines()[-1:]))
    return False, detail if len(detail) <= DETAIL_MAX else detail[:DETAIL_MAX - 3] + "..."


def through_front(mutants, front, root=ROOT):
    """The mutants with each unit test X run as X_aio where that file
    exists (front "aio"); unchanged for "blocking"."""
    if front == "blocking":
        return mutants
    out = []
    for m in mutants:
        tests = []
        for spec in m.tests:
            kind, what, _ = parse_test(spec)
            if kind == "unit" and (root / "tests_device" / (what + "_aio.py")).exists():
                spec = what + "_aio" + spec[len(what):]
            tests.append(spec)
        out.append(m._replace(tests=tuple(tests)))
    return out


def run_mutant(tree, m, workdir):
    path = tree / m.path
    original = path.read_text()
    if original.count(m.find) != 1:
        raise MutantError("%s: anchor not found exactly once" % m.id)
    path.write_text(original.replace(m.find, m.replace))
    start = time.monotonic()
    try:
        for spec in m.tests:
            passed, detail = run_test(tree, spec, workdir)
            if not passed:
                return "killed", detail, time.monotonic() - start
        return "SURVIVED", "all selected tests passed", time.monotonic() - start
    finally:
        path.write_text(original)


def baseline(tree, mutants, workdir):
    failures = []
    for spec in sorted({s for m in mutants for s in m.tests}):
        passed, detail = run_test(tree, spec, workdir)
        print("baseline %-6s %s" % ("ok" if passed else "FAIL", spec), flush=True)
        if not passed:
            failures.append(detail)
    return failures


def _revision():
    try:
        rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=str(ROOT),
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        rev = ""
    return rev or "unknown"


def write_table(out, rows, seconds):
    killed = sum(1 for r in rows if r[1] == "killed")
    by_area = {}
    for m, result, _, _ in rows:
        area = m.path.split("/")[1]
        by_area.setdefault(area, [0, 0])
        by_area[area][0 if result == "killed" else 1] += 1
    lines = [
        "# Mutants: what the tests catch",
        "",
        "Written by `make mutants` (tools/mutants.py, list in tools/mutant_list.py) at "
        "revision `%s`, %s UTC, in %.0f s." % (_revision(), time.strftime("%Y-%m-%d %H:%M",
                                                                          time.gmtime()), seconds),
        "Each mutant is one small change that breaks the named rule, applied to a scratch "
        "copy of the tree; the tests listed beside it ran against it.",
        "",
        "**%d of %d killed**: %s." % (killed, len(rows), ", ".join(
            "%s %d/%d" % (a, k, k + s) for a, (k, s) in sorted(by_area.items()))),
        "",
        "| mutant | file | rule it breaks | tests run | result | s |",
        "|---|---|---|---|---|---|",
    ]
    for m, result, detail, secs in rows:
        cell = result if result != "killed" else "killed: " + detail
        lines.append("| %s | %s | %s | %s | %s | %.1f |" % (
            m.id, m.path, m.rule, "<br>".join("`%s`" % t for t in m.tests),
            cell.replace("|", "\\|"), secs))
    out.write_text("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="the table (default tests_host/mutants.md; with --only: "
                    "none unless given)")
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--check", action="store_true", help="check the anchors only")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--front", choices=("blocking", "aio"), default="blocking",
                    help="the front end the unit tests drive (aio: X_aio.py files)")
    args = ap.parse_args(argv)
    mutants = MUTANTS
    if args.only:
        wanted = args.only.split(",")

        def picked(m, w):
            return m.id.startswith(w[:-1]) if w.endswith("*") else m.id == w
        unknown = [w for w in wanted if not any(picked(m, w) for m in MUTANTS)]
        if unknown:
            print("unknown mutant ids: %s" % ", ".join(unknown))
            return 1
        mutants = [m for m in MUTANTS if any(picked(m, w) for w in wanted)]
    problems = check(mutants=mutants)  # those selected: --only runs despite others
    if problems:
        print("\n".join(problems))
        return 1
    mutants = through_front(mutants, args.front)
    if args.list or args.check:
        for m in mutants:
            print("%-32s %-26s %s" % (m.id, m.path, m.rule))
        print("%d mutants, anchors ok" % len(mutants))
        return 0
    if not MICROPYTHON.exists():
        print("%s missing: run `make setup`" % MICROPYTHON)
        return 1
    start = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="ubxsec-mutants-"))
    try:
        tree = scratch / "tree"
        workdir = scratch / "work"
        shutil.copytree(str(ROOT), str(tree), ignore=COPY_IGNORE, symlinks=True)
        workdir.mkdir()
        failures = baseline(tree, mutants, workdir)
        if failures:
            print("the unmutated tree fails, so no mutant can be judged:\n  " +
                  "\n  ".join(failures))
            return 1
        rows = []
        for m in mutants:
            result, detail, secs = run_mutant(tree, m, workdir)
            rows.append((m, result, detail, secs))
            print("%-8s %-32s %5.1fs  %s" % (result, m.id, secs, detail), flush=True)
    finally:
        shutil.rmtree(str(scratch), ignore_errors=True)
    out = args.out or (None if args.only else str(ROOT / "tests_host" / "mutants.md"))
    if out:
        write_table(Path(out), rows, time.monotonic() - start)
    survived = [m.id for m, result, _, _ in rows if result != "killed"]
    print("%d of %d mutants killed%s" % (len(rows) - len(survived), len(rows),
                                         "; table in %s" % out if out else ""))
    if survived:
        print("surviving: %s" % ", ".join(survived))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
