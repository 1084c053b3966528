"""The wasm32 virtual board (boards/wasm32) as mpremote sees it: the REPL on a
pty, the file system kept across soft resets and restarts, /lib on sys.path,
a 32-bit port, and a poll-mode UART to the simulator."""

import pytest

from fixtures_board import board_missing
from mpremote_run import mpremote

@pytest.fixture(autouse=True)
def installed():
    # as toolchain.require: a broken toolchain fails, never skips
    if board_missing("wasm32"):
        pytest.fail(board_missing("wasm32"), pytrace=False)


@pytest.fixture
def wasm(vboard_factory):
    return vboard_factory(board="wasm32")


def test_is_a_32_bit_port_with_lib_on_the_path(wasm):
    out = mpremote(wasm.connect, "exec", "import sys; print(sys.maxsize, sys.platform, sys.path)")
    assert out.split(None, 2)[:2] == ["2147483647", "webassembly"]
    assert "'/lib'" in out


def test_files_survive_a_soft_reset_and_a_restart(wasm, vboard_factory, tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("print('ran', 6 * 7)\n")
    out = mpremote(wasm.connect, "mkdir", ":app", "+", "cp", str(script), ":app/hello.py",
                   "+", "soft-reset", "+", "ls", ":app", "+", "run", str(script))
    assert "hello.py" in out and "ran 42" in out
    wasm.stop()
    again = vboard_factory(board="wasm32", flash=wasm.flash)
    assert "hello.py" in mpremote(again.connect, "ls", ":app")
    out = mpremote(again.connect, "exec", "import sys; sys.path.append('/app'); import hello")
    assert "ran 42" in out


def test_errno_is_micropythons(wasm):
    # the port's VfsPosix reports emscripten's errno (ENOENT 44); the board's
    # mount gives the numbers of the errno module, which mpremote relies on
    out = mpremote(wasm.connect, "exec",
                   "import errno, os\ntry:\n os.stat('/nope')\nexcept OSError as e:\n"
                   " print('errno', e.errno == errno.ENOENT)")
    assert "errno True" in out


def test_boot_py_runs_at_every_reset_and_sys_exit_soft_resets(wasm, tmp_path):
    boot = tmp_path / "boot.py"
    boot.write_text("booted = 'yes'\n")
    mpremote(wasm.connect, "cp", str(boot), ":boot.py")
    assert "yes" in mpremote(wasm.connect, "exec", "print(booted)")
    mpremote(wasm.connect, "exec", "import sys; sys.exit()", check=False)
    assert "still" in mpremote(wasm.connect, "exec", "print('still', booted)")


def test_uart_talks_to_the_simulator_in_poll_mode(rig_factory):
    rig = rig_factory(board="wasm32")
    out = mpremote(rig.connect, "exec", "\n".join((
        "import time",
        "from vuart import UART",
        "u = UART(0, timeout=1000, timeout_char=50)",
        "print('irq', hasattr(u, 'irq'))",
        "u.write(b'ATE0\\r')",
        "time.sleep_ms(200)",
        "u.read()",
        "u.write(b'AT\\r')",
        "print(u.read())",
    )))
    assert "irq False" in out
    assert "b'\\r\\nOK\\r\\n'" in out
