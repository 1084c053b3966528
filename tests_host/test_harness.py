"""The HIL harness itself: parsing the runner's output, building, board
selection, and that a failing device test fails pytest with the device's
failure message."""

import os
import subprocess
import sys

import pytest

import harness

PASSING = "ok t.test_a\nok t.test_b\n2 passed, 0 failed\n"
FAILING = """ok t.test_a
FAIL t.test_b: AssertionError: chip id was 'X'
Traceback (most recent call last):
  File "t.py", line 9, in test_b
AssertionError: chip id was 'X'
ok t.test_c
1 passed... not a summary
2 passed, 1 failed
"""

DEVICE_RUNNER = (harness.TESTS_DEVICE / "runner.py").read_text()
DEVICE_TEST = '''
import rig

def test_reads_the_chip_id():
    assert len(rig.module().chip_id()) > 0

def test_fails_on_purpose():
    assert rig.module().chip_id() == "not-this", "DEVICE-SAYS-" + "mismatch"
'''


# -- parsing -------------------------------------------------------------------

def test_parse_passing_output():
    result = harness.parse_output("t", PASSING)
    assert (result.passed, result.failed, result.failures) == (2, 0, [])
    result.check()


def test_parse_failing_output_keeps_each_failure_with_its_traceback():
    result = harness.parse_output("t", FAILING.replace("\n", "\r\n"))
    assert (result.passed, result.failed) == (2, 1)
    assert len(result.failures) == 1
    assert result.failures[0].startswith("FAIL t.test_b: AssertionError: chip id was 'X'")
    assert 'File "t.py", line 9' in result.failures[0]
    with pytest.raises(AssertionError, match="chip id was 'X'"):
        result.check()


def test_output_without_summary_is_a_failure_showing_the_output():
    with pytest.raises(AssertionError, match="no `N passed, N failed` line(.|\n)*ImportError: no module"):
        harness.parse_output("t", "Traceback (most recent call last):\nImportError: no module named 'x'\n")


def test_a_run_where_nothing_ran_fails():
    with pytest.raises(AssertionError, match="no test ran"):
        harness.parse_output("t", "0 passed, 0 failed\n").check()


# -- build and board selection -------------------------------------------------

def test_compile_lib_builds_every_module_for_the_arch(tmp_path):
    out = harness.compile_lib((6, "armv6m"), tmp_path)
    built = sorted(p.stem for p in out.glob("*.mpy"))
    assert built == sorted(p.stem for p in harness.LIB.glob("*.py"))
    assert all(p.read_bytes()[:2] == b"M\x06" for p in out.glob("*.mpy"))


def test_compile_lib_refuses_a_board_with_another_mpy_version(tmp_path):
    with pytest.raises(harness.HarnessError, match="version 5"):
        harness.compile_lib((5, "armv6m"), tmp_path)


def test_board_selection_is_one_import_line():
    assert harness.board_line("pico") == "from boards.pico import uart\n"
    assert harness.board_line("nucleo_f411re") == "from boards.nucleo_f411re import uart\n"
    with pytest.raises(harness.HarnessError, match="known: .*pico"):
        harness.board_line("no_such_board")


# what real boards say of themselves (os.uname().machine, sys.platform)
@pytest.mark.parametrize("identity, board", [
    ({"platform": "rp2", "machine": "Raspberry Pi Pico with RP2040", "vuart": False}, "pico"),
    ({"platform": "rp2", "machine": "Raspberry Pi Pico W with RP2040", "vuart": False}, "pico"),
    ({"platform": "rp2", "machine": "Raspberry Pi Pico2 with RP2350", "vuart": False}, "pico"),
    ({"platform": "pyboard", "machine": "NUCLEO-F411RE with STM32F411xE", "vuart": False}, "nucleo_f411re"),
    ({"platform": "linux", "machine": "linux [GCC 14.2.1] version", "vuart": True}, "virtual"),
    ({"platform": "webassembly", "machine": "JavaScript with Emscripten", "vuart": True}, "virtual"),
    ({"platform": "linux", "machine": "linux [GCC 14.2.1] version", "vuart": False}, None),
    ({"platform": "esp32", "machine": "Generic ESP32 module with ESP32", "vuart": False}, None),
])
def test_the_board_names_its_board_file(identity, board):
    if board is not None:
        assert harness.detect_board(identity) == board
        return
    with pytest.raises(harness.HarnessError) as exc:   # never a silent pico
        harness.detect_board(identity)
    text = str(exc.value)
    assert "unknown board" in text and repr(identity["machine"]) in text, text
    assert "board files: nucleo_f411re, pico, virtual" in text and "BOARD=<name>" in text, text


class _Silent(harness.Target):
    """A board that has answered the probe and must not be written to."""

    def __init__(self, identity):
        super().__init__("/dev/null-board")
        self._probed = (6, harness.Layout("/lib", "/"), identity)

    def mpremote(self, *args, **kw):
        raise AssertionError("wrote to the board: %r" % (args,))


def test_an_unknown_board_is_refused_before_anything_is_written(tmp_path):
    target = _Silent({"platform": "esp32", "machine": "ESP32 module", "vuart": False})
    with pytest.raises(harness.HarnessError, match="unknown board.*board files: nucleo_f411re, pico, virtual"):
        harness.deploy(target, tmp_path, None)
    with pytest.raises(harness.HarnessError, match="no board file boards/nosuch.py"):
        harness.deploy(target, tmp_path, "nosuch")
    # an explicit BOARD wins over what the board says
    assert harness.resolve_board(target, "pico") == "pico"


def test_an_rfc2217_port_gets_ign_set_control_once():
    assert harness.Target("rfc2217://127.0.0.1:4001").connect == "rfc2217://127.0.0.1:4001?ign_set_control"
    assert harness.Target("rfc2217://h:1?logging=debug").connect == "rfc2217://h:1?logging=debug&ign_set_control"
    assert harness.Target("rfc2217://h:1?ign_set_control").connect == "rfc2217://h:1?ign_set_control"
    assert harness.Target("/dev/ttyACM0").connect == "/dev/ttyACM0"


# -- on the virtual rig --------------------------------------------------------

def test_without_board_the_virtual_board_names_itself(rig, tmp_path):
    target = harness.Target(rig.connect)
    assert target.board() == "virtual"
    assert harness.deploy(target, harness.compile_lib(target.mpy_info(), tmp_path / "mpy")) == "virtual"
    out = target.exec("print(repr(open('board.py').read()))")
    assert out.strip() == repr("from boards.virtual import uart\n")

@pytest.fixture
def failing_suite(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "runner.py").write_text(DEVICE_RUNNER)
    (suite / "rig.py").write_text((harness.TESTS_DEVICE / "rig.py").read_text())
    (suite / "test_purpose.py").write_text(DEVICE_TEST)
    return suite


def test_a_device_failure_is_reported_with_its_message(rig, failing_suite, tmp_path):
    target = harness.Target(rig.connect)
    harness.deploy(target, harness.compile_lib(target.mpy_info(), tmp_path / "mpy"), "virtual",
                   tests_dir=failing_suite)
    selected = target.exec("import sys, board; print(open('board.py').read(), 'boards.virtual' in sys.modules)")
    assert selected.split() == "from boards.virtual import uart True".split()
    result = harness.run_device_test(target, "test_purpose")
    assert (result.passed, result.failed) == (1, 1), result.output
    assert "DEVICE-SAYS-mismatch" in result.failures[0]
    with pytest.raises(AssertionError, match="DEVICE-SAYS-mismatch"):
        result.check()


def test_pytest_run_fails_with_the_device_message(failing_suite):
    env = dict(os.environ, HIL_TESTS_DIR=str(failing_suite), VBOARD="unix64")
    env.pop("PORT", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(harness.ROOT / "tests_host" / "test_device_suite.py")],
                          cwd=str(harness.ROOT), env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "DEVICE-SAYS-mismatch" in proc.stdout
    assert "1 failed" in proc.stdout.splitlines()[-1]
