"""lib/ubxsec type-checked with mypy against MicroPython's published stubs
for rp2 (RPI_PICO) and stm32 (build/stubs, installed by `make stubs`, which
`make test` runs), zero errors:

- the implementation (lib/ubxsec/*.py, without the .pyi beside them): every
  import and module-level use against what the port offers;
- the API as an editor sees it (the .pyi stubs beside the package), with
  --strict, through tests_host/typecheck/app.py, an application using it;
- the board file of each port (boards/pico.py, boards/nucleo_f411re.py);
- the stubs and the implementation name the same public functions and
  parameters.

Gaps of the stub packages, declared in tests_host/typecheck/mypy.ini.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib" / "ubxsec"
STUBS = ROOT / "build" / "stubs"
HERE = ROOT / "tests_host" / "typecheck"
CONFIG = HERE / "mypy.ini"
PORTS = {"rp2": "pico", "stm32": "nucleo_f411re"}
STUBBED = ("__init__", "certs", "errors", "profiles")


def _mypy(port, args, cwd, mypypath):
    stubs = STUBS / port
    if not (stubs / ".installed").exists():
        pytest.fail("MicroPython stubs for %s missing: run `make stubs` (make test does)" % port)
    env = {"MYPYPATH": ":".join(str(p) for p in mypypath + [stubs]), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(CONFIG),
                           "--custom-typeshed-dir", str(stubs)] + args,
                          cwd=str(cwd), env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Success: no issues found" in out, out
    return out


@pytest.mark.parametrize("port", sorted(PORTS))
def test_implementation_against_port_stubs(port, tmp_path):
    pkg = tmp_path / "ubxsec"
    pkg.mkdir()
    for src in LIB.glob("*.py"):
        shutil.copy(src, pkg / src.name)
    out = _mypy(port, ["-p", "ubxsec"], tmp_path, [])
    assert "in %d source files" % len(list(LIB.glob("*.py"))) in out, out


@pytest.mark.parametrize("port", sorted(PORTS))
def test_api_stubs_strict_through_an_application(port):
    _mypy(port, ["--strict", str(HERE / "app.py")], HERE, [ROOT / "lib"])


@pytest.mark.parametrize("port", sorted(PORTS))
def test_board_file_against_port_stubs(port):
    _mypy(port, ["--check-untyped-defs", str(ROOT / "boards" / (PORTS[port] + ".py"))], ROOT, [])


def _public(tree):
    """{name: [parameter names]} of public functions and methods; with
    overloads, the names of each that differs from the first (as a list of
    lists), so that every overload is compared."""
    out = {}

    def visit(body, prefix):
        for node in body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                out[prefix + node.name] = None
                visit(node.body, prefix + node.name + ".")
            elif isinstance(node, ast.FunctionDef) and (
                    not node.name.startswith("_") or node.name == "__init__"):
                a = node.args
                names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
                if a.vararg:
                    names.append("*" + a.vararg.arg)
                key = prefix + node.name
                if key in out and out[key] != names:
                    out[key] = [out[key], names]   # an overload that differs
                else:
                    out.setdefault(key, names)
    visit(tree.body, "")
    return out


def _lazy(tree):
    """{Class.method: [parameter names]} of the methods a class serves from
    an extension through __getattr__ (ubxsec.extension(ext, self, name)),
    with the parameters of ubxsec.<ext>'s function of that name (its first
    is the object: self). The names: those of a list display tested in
    `ext if name in [...] else ...` or before `ext = "..."`; in
    profiles, also every setting of KEYS without a method of its own (op
    code 13 in ubxsec-session, the others in ubxsec-profiles_more)."""
    consts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                consts[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    out = {}

    def serve(cls, ext, names):
        params = _public(ast.parse((LIB / (ext + ".py")).read_text()))
        for n in names:
            out[cls.name + "." + n] = ["self"] + params[n][1:]

    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        methods = {f.name for f in cls.body if isinstance(f, ast.FunctionDef)}
        for fn in cls.body:
            if not (isinstance(fn, ast.FunctionDef) and fn.name == "__getattr__"):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.IfExp) and isinstance(node.body, ast.Constant) \
                        and isinstance(node.test, ast.Compare) \
                        and isinstance(node.test.comparators[0], ast.List):
                    serve(cls, node.body.value, [e.value for e in node.test.comparators[0].elts])
                elif isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
                    target = node.test.comparators[0]
                    if isinstance(target, ast.List):
                        ext = node.body[0].value.value
                        serve(cls, ext, [e.value for e in target.elts])
                    elif isinstance(target, ast.Name) and target.id == "KEYS":
                        for key, op in zip(consts["KEYS"], consts["_OPS"]):
                            if key not in methods:
                                serve(cls, "session" if op == 13 else "profiles_more", [key])
    return out


def test_lazy_methods_are_found():
    lazy = _lazy(ast.parse((LIB / "profiles.py").read_text()))
    assert lazy["SecurityProfile.apply"] == ["self", "config", "reset"], lazy
    assert lazy["SecurityProfile.session_data"] == ["self", "tag", "*values"], lazy
    assert lazy["SecurityProfile.psk"] == ["self", "key", "hex"], lazy
    assert "SecurityProfile.cipher_suite" not in lazy and "SecurityProfile.ca_name" not in lazy
    lazy = _lazy(ast.parse((LIB / "certs.py").read_text()))
    assert lazy["Certs.der_md5"] == ["self", "src", "kind"], lazy


@pytest.mark.parametrize("module", STUBBED)
def test_stubs_match_the_implementation(module):
    tree = ast.parse((LIB / (module + ".py")).read_text())
    impl = _public(tree)
    impl.update(_lazy(tree))   # served by __getattr__ from an extension
    stub = _public(ast.parse((LIB / (module + ".pyi")).read_text()))
    if module == "certs":   # functions the stub leaves out: helpers of the module
        impl = {k: v for k, v in impl.items() if k in stub or "." in k or k[0].isupper()}
        stub.pop("Entry")   # a namedtuple in the implementation, a class in the stub
    if module == "profiles":
        impl = {k: v for k, v in impl.items() if k.startswith("SecurityProfile")}
        stub = {k: v for k, v in stub.items() if k.startswith("SecurityProfile")}
    missing = sorted(set(impl) - set(stub))
    extra = sorted(set(stub) - set(impl))
    assert not missing and not extra, "stub lacks %s; stub has unknown %s" % (missing, extra)
    differ = [(k, impl[k], stub[k]) for k in impl if impl[k] != stub[k]]
    assert not differ, differ
