"""The mip packages: the core (package.json) and each extension install
exactly their modules into ubxsec/, every module belongs to one package, the
files are what the generator writes, and the core works without the
extensions."""

import json
import os
import shutil
import subprocess
import sys

import pytest

import toolchain
from harness import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import package_json  # noqa: E402

PACKAGE = ROOT / "lib" / "ubxsec"
MICROPYTHON = toolchain.MICROPYTHON


def _load(rel):
    return json.loads((ROOT / rel).read_text())


def _installs(rel):
    """{destination: source file} of one package file."""
    base = (ROOT / rel).parent
    return {dest: (base / src).resolve() for dest, src in _load(rel)["urls"]}


def test_every_module_is_in_exactly_one_package():
    on_disk = sorted("ubxsec/" + p.name for p in PACKAGE.glob("*.py"))
    installed = []
    for rel in ["package.json"] + ["lib/ubxsec-%s.json" % n for n in package_json.EXTENSIONS]:
        installed += list(_installs(rel))
    assert sorted(installed) == on_disk


def test_core_package_is_the_engine_and_the_command_families():
    got = _installs("package.json")
    assert sorted(got) == sorted("ubxsec/%s.py" % m for m in
                                 ("__init__", "at", "certs", "chip", "errors", "params", "pem",
                                  "profiles", "ring"))
    for dest, src in got.items():
        assert src == ROOT / "lib" / dest


@pytest.mark.parametrize("name", sorted(package_json.EXTENSIONS))
def test_extension_installs_next_to_the_core(name):
    rel = "lib/ubxsec-%s.json" % name
    got = _installs(rel)
    assert sorted(got) == sorted("ubxsec/%s.py" % m for m in package_json.EXTENSIONS[name])
    assert "ubxsec/%s.py" % name in got
    for dest, src in got.items():
        assert src == ROOT / "lib" / dest and src.is_file()
    for _, src in _load(rel)["urls"]:
        # relative, and without dot segments: mip joins it to the package
        # file's URL as is, and not every server resolves "../"
        assert ":" not in src and not src.startswith("/") and ".." not in src.split("/")


@pytest.mark.parametrize("board", sorted(p.stem for p in (ROOT / "boards").glob("*.py")))
def test_board_package_installs_the_board_as_board_py(board):
    assert _installs("boards/%s.json" % board) == {"board.py": ROOT / "boards" / (board + ".py")}


def test_core_and_boards_have_the_library_version_extensions_require_it():
    init = (PACKAGE / "__init__.py").read_text()
    lib = package_json.version()
    assert '__version__ = "%s"' % lib in init
    for rel in package_json.packages():
        got = _load(rel)
        if rel.startswith("lib/ubxsec-"):
            # an extension declares the core it is built on (mip ignores the
            # key: its deps would fetch a package of that name from the index)
            assert got["requires"] == {"ubxsec": lib}, rel
            assert got["deps"] == [] and len(got["mpy"]) == 12, rel
            assert [int(x) for x in got["version"].split(".")] >= [0, 1, 0], rel
        else:
            assert got["version"] == lib, rel


def test_an_extension_whose_bytecode_changed_gets_a_bumped_version(monkeypatch):
    rel = "lib/ubxsec-trace.json"
    before = _load(rel)
    real = package_json.bytecode_hash
    monkeypatch.setattr(package_json, "bytecode_hash",
                        lambda modules, *a: "0" * 12 if modules == ("trace",) else real(modules, *a))
    want = package_json.bumped(before["version"])
    with pytest.raises(package_json.Stale, match=r"ubxsec-trace.json is stale \(its bytecode changed: "
                                                 r"the version is bumped to %s\)" % want.replace(".", r"\.")):
        package_json.check()
    got = package_json.packages()
    assert got[rel]["version"] == want and got[rel]["mpy"] == "0" * 12
    # the others keep theirs: their bytecode is what they record
    assert got["lib/ubxsec-http.json"]["version"] == _load("lib/ubxsec-http.json")["version"]
    assert package_json.bumped("0.1.9") == "0.1.10"


def test_the_recorded_hash_is_the_bytecode_of_the_modules():
    for name, modules in package_json.EXTENSIONS.items():
        assert _load("lib/ubxsec-%s.json" % name)["mpy"] == package_json.bytecode_hash(modules), name


def test_package_files_are_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "package_json.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_check_names_a_module_without_a_package(monkeypatch):
    monkeypatch.setattr(package_json, "EXTENSIONS",
                        {k: v for k, v in package_json.EXTENSIONS.items() if k != "trace"})
    with pytest.raises(package_json.Stale, match="trace.py belongs to no package"):
        package_json.check()


def test_check_finds_a_stale_file(monkeypatch):
    monkeypatch.setattr(package_json, "version", lambda: "9.9.9")
    with pytest.raises(package_json.Stale, match="package.json is stale"):
        package_json.check()


# -- the core alone on MicroPython ----------------------------------------------

def _install(tmp_path, rels):
    """The files of the package files rels, laid out as mip would."""
    for rel in rels:
        for dest, src in _installs(rel).items():
            (tmp_path / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, tmp_path / dest)
    return tmp_path


def _micropython(path, code):
    toolchain.require(MICROPYTHON)
    proc = subprocess.run([str(MICROPYTHON), "-c", code], env=dict(os.environ, MICROPYPATH=str(path)),
                          capture_output=True, text=True, timeout=60)
    return proc.stdout + proc.stderr


CORE_USE = """
import ubxsec
from ubxsec import at, ring, certs, profiles, chip, pem, errors, params
from ubxsec.pem import PemDecoder
d = PemDecoder()
print('core', ubxsec.__version__, d is not None)
for ext in ('http', 'session', 'trace', 'modfile', 'md5'):
    try:
        __import__('ubxsec.' + ext)
        print('has', ext)
    except ImportError:
        print('no', ext)
"""


def test_core_imports_and_works_without_the_extensions(tmp_path):
    out = _micropython(_install(tmp_path, ["package.json"]), CORE_USE)
    assert out.split("\n")[:6] == ["core %s True" % package_json.version(),
                                   "no http", "no session", "no trace", "no modfile", "no md5"], out


def test_core_and_extensions_together_are_the_whole_library(tmp_path):
    rels = ["package.json"] + ["lib/ubxsec-%s.json" % n for n in package_json.EXTENSIONS]
    out = _micropython(_install(tmp_path, rels), CORE_USE)
    assert out.split("\n")[:6] == ["core %s True" % package_json.version(),
                                   "has http", "has session", "has trace", "has modfile",
                                   "has md5"], out
