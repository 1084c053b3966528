"""`make firmware`'s decisions, against a small fake MicroPython tree and a
fake `make` (MAKE=...) that records what it was asked and builds a fake
image: the port is where the board lives, the board's own manifest is kept,
each board and manifest gets its own build directory, and an image without
ubxsec is refused.

The fake port build behaves as rp2's does: the FROZEN_MANIFEST given on the
command line only counts when the build directory is configured for the
first time (cmake); later builds in that directory keep the first one. Its
image (firmware.elf) holds the frozen module names and the packages the
manifest requires, as strings, as a real image holds mp_frozen_names.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import harness

FAKE_MAKE = textwrap.dedent('''\
    #!%(python)s
    """A stand-in for make in a MicroPython tree: records, then fakes a build."""
    import json, os, sys
    from pathlib import Path

    args = sys.argv[1:]
    where = Path.cwd()
    if args[:1] == ["-C"]:
        where = Path(args[1])
        args = args[2:]
    vars = dict(a.split("=", 1) for a in args if "=" in a)
    goals = [a for a in args if "=" not in a]
    with open(os.environ["FAKE_MAKE_LOG"], "a") as log:
        log.write(json.dumps({"dir": str(where), "vars": vars, "goals": goals}) + "\\n")
    if where.name == "mpy-cross" or "submodules" in goals:
        sys.exit(0)

    board = vars["BOARD"]
    build = Path(vars.get("BUILD") or where / ("build-" + board))
    if not build.is_absolute():
        build = where / build
    build.mkdir(parents=True, exist_ok=True)
    cache = build / "Makefile"          # as cmake's: written once, then kept
    if not cache.exists() and not os.environ.get("FAKE_MAKE_IGNORES_MANIFEST"):
        cache.write_text(vars.get("FROZEN_MANIFEST", ""))
    manifest = cache.read_text() if cache.exists() else ""

    frozen = []
    def expand(path, here):
        path = path.replace("$(PORT_DIR)", str(where)).replace("$(BOARD_DIR)", str(where / "boards" / board))
        return Path(path) if os.path.isabs(path) else here / path
    def run(path):
        here = path.parent
        def include(p):
            run(expand(p, here))
        def package(name, files=None, base_path=".", opt=None):  # manifestfile's signature
            base = expand(base_path, here)
            frozen.extend(sorted(str(p.relative_to(base)) for p in (base / name).glob("*.py")))
        def require(name):
            frozen.append("require:" + name)
        exec(path.read_text(), {"include": include, "package": package, "require": require})
    if manifest:
        run(Path(manifest))
    images = {"rp2": ("firmware.elf", "firmware.uf2"), "stm32": ("firmware.elf", "firmware.dfu"),
              "esp32": ("micropython.elf", "firmware.bin")}[where.name]
    (build / images[0]).write_bytes(b"ELF\\0" + b"\\0".join(n.encode() for n in frozen))
    (build / images[1]).write_bytes(b"image")
''')


@pytest.fixture
def tree(tmp_path):
    """A fake MicroPython checkout, the fake make and where its log goes."""
    mpy = tmp_path / "micropython"
    (mpy / "mpy-cross").mkdir(parents=True)
    for port, boards in (("rp2", ("RPI_PICO", "RPI_PICO_W")), ("stm32", ("NUCLEO_F411RE",)),
                         ("esp32", ("ESP32_GENERIC",))):
        (mpy / "ports" / port / "boards").mkdir(parents=True)
        (mpy / "ports" / port / "boards" / "manifest.py").write_text('require("%s-port-modules")\n' % port)
        for board in boards:
            (mpy / "ports" / port / "boards" / board).mkdir()
    (mpy / "ports" / "rp2" / "boards" / "RPI_PICO_W" / "manifest.py").write_text(
        'include("$(PORT_DIR)/boards/manifest.py")\nrequire("bundle-networking")\nrequire("aioble")\n')
    make = tmp_path / "fake-make"
    make.write_text(FAKE_MAKE % {"python": sys.executable})
    make.chmod(0o755)
    return {"mpy": mpy, "make": make, "log": tmp_path / "make.log", "out": tmp_path / "out"}


def firmware(tree, board, **env):
    proc = subprocess.run(
        ["make", "--no-print-directory", "-C", str(harness.ROOT), "firmware", "BOARD=" + board,
         "MICROPY=" + str(tree["mpy"]), "MAKE=" + str(tree["make"]), "FW_OUT=" + str(tree["out"])],
        env=dict(os.environ, FAKE_MAKE_LOG=str(tree["log"]), **env),
        capture_output=True, text=True, timeout=60)
    calls = [json.loads(line) for line in tree["log"].read_text().splitlines()] \
        if tree["log"].exists() else []
    tree["log"].unlink(missing_ok=True)
    return proc, calls


def port_build(calls):
    """The one call that builds the port (not mpy-cross, not submodules)."""
    builds = [c for c in calls if Path(c["dir"]).parent.name == "ports" and "submodules" not in c["goals"]]
    assert len(builds) == 1, calls
    return builds[0]


def image_names(build):
    out = Path(build["vars"]["BUILD"])
    elf = out / "firmware.elf" if (out / "firmware.elf").exists() else out / "micropython.elf"
    return elf.read_bytes().split(b"\0")[1:]


def images(stdout):
    match = re.search(r"^image \(ubxsec frozen in\): (.+)$", stdout, re.M)
    return match.group(1).split() if match else []


def test_rpi_pico_builds_on_rp2_with_the_port_manifest_and_ubxsec(tree):
    proc, calls = firmware(tree, "pico")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [Path(c["dir"]).name for c in calls] == ["mpy-cross", "rp2", "rp2"]
    assert calls[1]["goals"] == ["submodules"]
    build = port_build(calls)
    assert build["vars"]["BOARD"] == "RPI_PICO"
    out = Path(build["vars"]["BUILD"])
    assert out.parent == tree["out"] and out.name.startswith("fw-RPI_PICO-")
    assert calls[1]["vars"]["BUILD"] == str(out)
    manifest = Path(build["vars"]["FROZEN_MANIFEST"])
    assert manifest.parent == out
    assert 'include("%s")' % (tree["mpy"] / "ports/rp2/boards/manifest.py") in manifest.read_text()
    names = image_names(build)
    assert b"require:rp2-port-modules" in names
    assert b"ubxsec/__init__.py" in names and b"ubxsec/at.py" in names
    assert images(proc.stdout) == [str(out / "firmware.uf2")]


def test_rpi_pico_w_keeps_its_own_manifest(tree):
    proc, calls = firmware(tree, "RPI_PICO_W")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    build = port_build(calls)
    assert Path(build["dir"]).name == "rp2" and build["vars"]["BOARD"] == "RPI_PICO_W"
    text = Path(build["vars"]["FROZEN_MANIFEST"]).read_text()
    assert 'include("%s")' % (tree["mpy"] / "ports/rp2/boards/RPI_PICO_W/manifest.py") in text
    assert "ports/rp2/boards/manifest.py" not in text     # it comes through the board's own
    names = image_names(build)
    for wanted in (b"require:bundle-networking", b"require:aioble", b"require:rp2-port-modules",
                   b"ubxsec/__init__.py"):
        assert wanted in names


def test_nucleo_f411re_builds_on_stm32(tree):
    proc, calls = firmware(tree, "nucleo_f411re")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    build = port_build(calls)
    assert Path(build["dir"]) == tree["mpy"] / "ports" / "stm32"
    assert build["vars"]["BOARD"] == "NUCLEO_F411RE"
    assert b"require:stm32-port-modules" in image_names(build)
    assert b"ubxsec/__init__.py" in image_names(build)
    assert images(proc.stdout) == [str(Path(build["vars"]["BUILD"]) / "firmware.dfu")]


def test_any_port_that_has_the_board(tree):
    proc, calls = firmware(tree, "ESP32_GENERIC")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    build = port_build(calls)
    assert Path(build["dir"]).name == "esp32"
    assert b"require:esp32-port-modules" in image_names(build)
    assert b"ubxsec/__init__.py" in image_names(build)     # esp32's image is micropython.elf
    assert images(proc.stdout) == [str(Path(build["vars"]["BUILD"]) / "firmware.bin")]


def test_a_second_build_of_the_same_board_still_freezes_ubxsec(tree):
    # an earlier plain build of the port left its default build directory
    # configured without ubxsec: it must not be reused
    stale = tree["mpy"] / "ports" / "rp2" / "build-RPI_PICO"
    stale.mkdir()
    (stale / "Makefile").write_text(str(tree["mpy"] / "ports" / "rp2" / "boards" / "manifest.py"))
    first, calls = firmware(tree, "pico")
    assert first.returncode == 0, first.stdout + first.stderr
    build_dir = port_build(calls)["vars"]["BUILD"]
    again, calls = firmware(tree, "pico")
    assert again.returncode == 0, again.stdout + again.stderr
    assert port_build(calls)["vars"]["BUILD"] == build_dir
    assert b"ubxsec/__init__.py" in image_names(port_build(calls))
    # the board gains its own manifest: a new manifest, a new build directory
    (tree["mpy"] / "ports" / "rp2" / "boards" / "RPI_PICO" / "manifest.py").write_text(
        'include("$(PORT_DIR)/boards/manifest.py")\nrequire("extra")\n')
    third, calls = firmware(tree, "pico")
    assert third.returncode == 0, third.stdout + third.stderr
    assert port_build(calls)["vars"]["BUILD"] != build_dir
    names = image_names(port_build(calls))
    assert b"require:extra" in names and b"ubxsec/__init__.py" in names


def test_an_image_without_ubxsec_is_refused(tree):
    proc, calls = firmware(tree, "pico", FAKE_MAKE_IGNORES_MANIFEST="1")
    assert proc.returncode != 0
    assert "has no frozen ubxsec" in proc.stdout + proc.stderr
    assert images(proc.stdout) == []
    assert port_build(calls)    # it did build


def test_an_unknown_board_names_where_it_looked(tree):
    proc, calls = firmware(tree, "NO_SUCH_BOARD")
    assert proc.returncode == 2
    assert "no board NO_SUCH_BOARD in %s/ports/*/boards/" % tree["mpy"] in proc.stdout
    assert calls == []


def test_a_board_in_two_ports_is_refused(tree):
    (tree["mpy"] / "ports" / "stm32" / "boards" / "RPI_PICO").mkdir()
    proc, calls = firmware(tree, "pico")
    assert proc.returncode == 2 and "several ports" in proc.stdout
    assert calls == []
