"""The tools use the board's own layout: on a board whose flash is mounted at
/flash alone (stm32: nothing at "/", sys.path '', '.frozen', '/flash',
'/flash/lib'), `make deploy`, `make demo` and the HIL suite work as they do
with the flash at "/" (rp2). The virtual board's `--mount /flash` is that
board."""

import os
import shutil
import subprocess
import sys

import pytest

import harness

FLASH_ONLY = "/flash"


# -- the layout rule -------------------------------------------------------------

def test_layout_of_an_stm32_board():
    where = harness.layout_from("/flash", ["", ".frozen", "/flash", "/flash/lib"])
    assert (where.lib, where.cwd) == ("/flash/lib", "/flash")
    assert where.path("tests") == "/flash/tests"
    assert where.path("certs/a.pem") == "/flash/certs/a.pem"
    assert where.path("/sd/x") == "/sd/x"


def test_layout_of_an_rp2_board():
    where = harness.layout_from("/", ["", ".frozen", "/lib"])
    assert (where.lib, where.cwd) == ("/lib", "/")
    assert where.path("board.py") == "/board.py"


def test_layout_skips_rom_lib_as_mip_does():
    where = harness.layout_from("/", ["", "/rom/lib", ".frozen", "/lib"])
    assert where.lib == "/lib"


def test_layout_without_a_lib_directory_is_an_error():
    with pytest.raises(harness.HarnessError, match="no lib directory"):
        harness.layout_from("/", ["", ".frozen"])


def test_mpy_value_gives_version_and_arch():
    assert harness.mpy_info_from(6 | 3 << 8 | 2 << 10) == (6, "x64")
    assert harness.mpy_info_from(6 | 3 << 8 | 4 << 10) == (6, "armv6m")
    assert harness.mpy_info_from(6 | 3 << 8 | 6 << 10) == (6, "armv7em")
    assert harness.mpy_info_from(6) == (6, None)


# -- on the /flash-only virtual board ---------------------------------------------

def _env(**extra):
    env = dict(os.environ, **extra)
    env.pop("PORT", None)
    env.pop("BOARD", None)
    return env


def test_flash_only_board_has_nothing_writable_at_the_root(vboard_factory):
    target = harness.Target(vboard_factory(mount=FLASH_ONLY).connect)
    out = target.exec("import os\ntry:\n    os.mkdir('/lib')\nexcept OSError as e:\n"
                      "    print('ERR', e.errno)\n")
    assert out.split() == ["ERR", "19"]    # ENODEV, as on a NUCLEO-F411RE
    where = target.layout()
    assert (where.lib, where.cwd) == ("/flash/lib", "/flash")


def test_deploy_tool_on_flash_only_board(vboard_factory):
    board = vboard_factory(mount=FLASH_ONLY)
    proc = subprocess.run([sys.executable, str(harness.ROOT / "tools" / "deploy.py"), "deploy",
                           "--port", board.connect, "--board", "virtual"],
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "/flash/lib/ubxsec" in proc.stdout
    out = harness.Target(board.connect).exec(
        "import os, ubxsec, board\n"
        "print(ubxsec.__file__, board.__file__, 'boards' in os.listdir('/flash/lib'))")
    assert out.split() == ["/flash/lib/ubxsec/__init__.mpy", "board.py", "True"]


VIPER = """
import micropython


@micropython.viper
def total(buf) -> int:
    p = ptr8(buf)
    s = 0
    for i in range(int(len(buf))):
        s += p[i]
    return s
"""


@pytest.mark.parametrize("mount", ["/", FLASH_ONLY])
def test_deploy_compiles_native_code_for_the_board(vboard_factory, tmp_path, mount):
    """viper code (the MD5 fallback's kind) only compiles with the board's
    -march, which deploy reads from sys.implementation._mpy."""
    package = tmp_path / "ubxsec"
    shutil.copytree(harness.LIB, package)
    (package / "viperprobe.py").write_text(VIPER)
    with pytest.raises(harness.HarnessError, match="viperprobe"):
        harness.compile_lib((6, None), tmp_path / "portable", package)
    target = harness.Target(vboard_factory(mount=mount).connect)
    arch = target.mpy_info()[1]
    assert arch == "x64"    # the unix port on this host
    built = harness.compile_lib(target.mpy_info(), tmp_path / "mpy", package)
    harness.deploy(target, built, "virtual")
    out = target.exec("from ubxsec.viperprobe import total\nprint(total(bytes(range(10))))")
    assert out.strip() == "45"


def test_demo_on_flash_only_board(tmp_path):
    proc = subprocess.run([sys.executable, str(harness.ROOT / "tools" / "demo.py"),
                           "--mount", FLASH_ONLY, "--workdir", str(tmp_path / "rig")],
                          env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "/flash/certs/thawte.pem" in proc.stdout
    assert proc.stdout.rstrip().endswith("demo OK: every step succeeded"), proc.stdout


def test_hil_suite_on_flash_only_board():
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(harness.ROOT / "tests_host" / "test_device_suite.py")],
                          cwd=str(harness.ROOT), env=_env(VBOARD_MOUNT=FLASH_ONLY),
                          capture_output=True, text=True, timeout=900)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary and "skipped" not in summary, summary


def test_provision_on_flash_only_board(monkeypatch, rig_factory, tmp_path):
    sys.path.insert(0, str(harness.ROOT / "tools"))
    import provision
    monkeypatch.setenv("VBOARD_MOUNT", FLASH_ONLY)
    target = harness.Target(rig_factory().connect)
    config = tmp_path / "provision.json"
    config.write_text('{"certificates": [{"file": "%s", "type": "CA", "name": "FlashCA"}]}'
                      % (harness.TESTS_DEVICE / "data" / "thawte.pem"))
    certs, profiles = provision.load_config(config)
    lines = []
    assert provision.provision(target, "virtual", certs, profiles, out=lines.append) == (1, 0), lines
    assert target.layout().cwd == FLASH_ONLY
