"""mpremote against the virtual board: its own flash, exec/run, soft reset, Ctrl-C."""

import os
import subprocess
import sys
import time

import pytest
import serial

from mpremote_run import MpremoteError, mpremote


def board_listdir(connect, path="/"):
    out = mpremote(connect, "exec", "import os; print(sorted(os.listdir(%r)))" % path)
    return eval(out.strip().splitlines()[-1])  # noqa: S307 - the board printed a list literal


def test_cp_ls_cat_mkdir_rm_act_on_the_boards_own_flash(vboard, tmp_path):
    src = tmp_path / "hello.py"
    src.write_text("GREETING = 'hello from flash'\n")
    out = mpremote(vboard.connect, "mkdir", ":lib/pkg", "+", "cp", str(src), ":lib/pkg/hello.py",
                   "+", "ls", ":lib/pkg")
    assert "hello.py" in out
    assert mpremote(vboard.connect, "cat", ":lib/pkg/hello.py") == src.read_text()
    out = mpremote(vboard.connect, "exec", "import pkg.hello; print(pkg.hello.GREETING)")
    assert out.strip() == "hello from flash"
    # a board's filesystem, not the host's
    root = board_listdir(vboard.connect)
    assert "lib" in root and "usr" not in root and "tmp" not in root
    assert not os.path.exists("/lib/pkg/hello.py")
    mpremote(vboard.connect, "rm", ":lib/pkg/hello.py", "+", "rmdir", ":lib/pkg")
    assert "pkg" not in board_listdir(vboard.connect, "/lib")


def test_flash_has_a_picos_size_and_the_uart_driver_in_lib(vboard):
    out = mpremote(vboard.connect, "exec",
                   "import os, sys; s = os.statvfs('/'); print(s[0] * s[2], sys.path, "
                   "sorted(os.listdir('/lib')))")
    assert out.strip() == "1441792 ['', '.frozen', '/lib'] ['vuart.py']"


def test_flash_survives_a_restart_of_the_board(vboard_factory, tmp_path):
    first = vboard_factory()
    src = tmp_path / "keep.txt"
    src.write_text("kept\n")
    mpremote(first.connect, "cp", str(src), ":keep.txt")
    first.stop()
    second = vboard_factory(flash=first.flash)
    assert mpremote(second.connect, "cat", ":keep.txt") == "kept\n"


def test_exec_and_run_print_and_fail_like_a_board(vboard, tmp_path):
    assert mpremote(vboard.connect, "exec", "print(6 * 7)").strip() == "42"
    script = tmp_path / "prog.py"
    script.write_text("import sys\nprint('platform', sys.platform)\n")
    assert mpremote(vboard.connect, "run", str(script)).strip() == "platform linux"
    bad = tmp_path / "bad.py"
    bad.write_text("raise ValueError('boom')\n")
    proc = mpremote(vboard.connect, "run", str(bad), check=False)
    assert proc.returncode != 0
    assert "ValueError: boom" in proc.stdout + proc.stderr


def test_soft_reset_gives_a_fresh_interpreter(vboard):
    mpremote(vboard.connect, "exec", "marker = 123")
    assert mpremote(vboard.connect, "resume", "exec", "print(marker)").strip() == "123"
    mpremote(vboard.connect, "soft-reset")
    out = mpremote(vboard.connect, "resume", "exec", "print('marker' in globals())")
    assert out.strip() == "False"
    # exec soft-resets by default, as on a board
    mpremote(vboard.connect, "resume", "exec", "marker = 1")
    assert mpremote(vboard.connect, "exec", "print('marker' in globals())").strip() == "False"


def test_sys_exit_in_the_raw_repl_leaves_the_board_usable(vboard):
    proc = mpremote(vboard.connect, "exec", "import sys; print('bye'); sys.exit(1)", check=False)
    assert "bye" in proc.stdout
    assert mpremote(vboard.connect, "resume", "exec", "print('still here')").strip() == "still here"


def test_boot_py_runs_at_every_soft_reset_main_py_only_in_the_friendly_repl(vboard, tmp_path):
    boot = tmp_path / "boot.py"
    boot.write_text("booted = 'yes'\n")
    main = tmp_path / "main.py"
    main.write_text("print('main.py says hi')\n")
    mpremote(vboard.connect, "cp", str(boot), ":boot.py", "+", "cp", str(main), ":main.py")
    # mpremote's soft reset happens in the raw REPL: boot.py runs, main.py does not
    out = mpremote(vboard.connect, "exec", "print(booted)")
    assert out.strip() == "yes"
    # Ctrl-D at the friendly prompt: a soft reboot that runs main.py, then the banner
    with serial.Serial(vboard.connect, timeout=0.2) as port:
        port.write(b"\r\x03\x02")
        read_until(port, b">>> ")
        port.write(b"\x04")
        text = read_until(port, b">>> ")
    assert b"MPY: soft reboot" in text
    assert b"main.py says hi" in text
    assert text.index(b"MPY: soft reboot") < text.index(b"main.py says hi") < text.index(b"MicroPython")


def test_ctrl_c_interrupts_running_code(vboard):
    with serial.Serial(vboard.connect, timeout=0.2) as port:
        port.write(b"\r\x03\x02")
        read_until(port, b">>> ")
        port.write(b"import time\r")
        read_until(port, b">>> ")
        port.write(b"while True: time.sleep_ms(5)\r\r")
        read_until(port, b"... \r\n")
        port.write(b"\x03")
        text = read_until(port, b">>> ")
    assert b"KeyboardInterrupt" in text


def test_a_busy_program_left_running_is_interrupted_by_the_next_mpremote(vboard):
    runaway = subprocess.Popen([sys.executable, "-m", "mpremote", "connect", vboard.connect,
                                "exec", "print('spinning')\nwhile True: pass"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert runaway.stdout.readline().strip() == b"spinning"
    finally:
        runaway.kill()
        runaway.wait()
        runaway.stdout.close()
    assert mpremote(vboard.connect, "exec", "print('back')").strip() == "back"


def test_heapsize_option_sets_the_gc_heap(vboard_factory):
    board = vboard_factory(heapsize="64K")
    out = mpremote(board.connect, "exec", "import gc; gc.collect(); print(gc.mem_free() + gc.mem_alloc())")
    total = int(out.strip())
    assert 32 * 1024 < total <= 64 * 1024


def test_uart0_is_wired_to_the_given_link(vboard_factory, tmp_path):
    board = vboard_factory(uart=tmp_path / "module.tty")
    out = mpremote(board.connect, "exec", "import os; print(os.listdir('/dev'))")
    assert out.strip() == "['uart0']"


def read_until(port, token, timeout=15.0):
    data = b""
    deadline = time.monotonic() + timeout
    while token not in data:
        if time.monotonic() > deadline:
            raise AssertionError("no %r from the board; got %r" % (token, data[-500:]))
        data += port.read(4096)
    return data


def test_mpremote_errors_carry_the_output(vboard):
    with pytest.raises(MpremoteError) as info:
        mpremote(vboard.connect, "exec", "raise OSError(5)")
    assert "OSError" in str(info.value)
