"""No module of lib/ubxsec uses a private name of another (DESIGN.md,
"Extensions"): an extension package, or a core module, reaches another only
through its public names, so either can change its internals alone.

Checked on the sources: `from .x import _name` (a private name imported),
and `obj._name` where obj is not self/cls and no class or function of the
same module defines `_name` (a private attribute of another module's
object, e.g. `p._batch`, `prof._get`, `certs._inspect`, `at._active`).
Dunder names are not private.
"""

import ast
import pathlib

import pytest

LIB = pathlib.Path(__file__).resolve().parent.parent / "lib" / "ubxsec"
SOURCES = sorted(LIB.glob("*.py"))


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own_names(tree):
    """Private names the module itself defines: functions, classes,
    attributes assigned through self/cls, module globals."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            own.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
    return own


def violations(path):
    tree = ast.parse(path.read_text(), str(path))
    own = _own_names(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level and node.module:
            out += ["line %d: from .%s import %s" % (node.lineno, node.module, a.name)
                    for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
            base = node.value
            if not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
                out.append("line %d: .%s" % (node.lineno, node.attr))
    return out


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_no_private_name_of_another_module(path):
    found = violations(path)
    assert not found, "%s uses private names of other modules:\n  %s" % (path.name, "\n  ".join(found))


def test_the_check_finds_what_it_looks_for(tmp_path):
    src = tmp_path / "x.py"
    src.write_text("from .certs import _hex, kind_code\n"
                   "class A:\n    def f(self, p):\n        self._own = p._batch\n"
                   "        p._fresh = 1\n"
                   "        return self._own, p.__class__, self._at._active\n")
    assert sorted(violations(src)) == ["line 1: from .certs import _hex", "line 4: ._batch",
                                       "line 5: ._fresh", "line 6: ._active"]
