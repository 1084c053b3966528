"""`make board` as a newcomer uses it: it prints how to connect and how to
send a URC, `make urc` reaches the board's UART through the simulator's
control socket, Ctrl-C ends every process it started, and `make rig-reset`
clears the module and the flash (refusing while the board runs) but never
.venv. The harness's rig keeps the logs of its last run only, none empty."""

import os
import signal
import subprocess
import time

import harness
from harness import ROOT

URC = "+UUSECPRF: 2,0,1"


def _make(*args, timeout=60):
    return subprocess.run(["make", "--no-print-directory"] + list(args), cwd=str(ROOT),
                          capture_output=True, text=True, timeout=timeout)


def _read_until(proc, marker, timeout=90):
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError("no %r in %r" % (marker, lines))


def test_make_board_urc_ctrl_c_and_rig_reset(tmp_path):
    board_dir = tmp_path / "vb"
    rig_dir = tmp_path / "rig"     # stands for build/rig (make demo/provision)
    (rig_dir / "module").mkdir(parents=True)
    tty = board_dir / "board.tty"
    proc = subprocess.Popen(["make", "--no-print-directory", "board", "BOARD_DIR=%s" % board_dir],
                            cwd=str(ROOT), stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        lines = _read_until(proc, "Ctrl-C to stop")
        text = "\n".join(lines)
        assert "make repl" in text and ".venv/bin/mpremote connect %s repl" % tty in text, text
        assert "make urc LINE=" in text and str(board_dir / "control.sock") in text, text

        refused = _make("rig-reset", "BOARD_DIR=%s" % board_dir, "RIG_DIR=%s" % rig_dir)
        assert refused.returncode == 2 and "stop 'make board' first" in refused.stdout
        assert (board_dir / "module").is_dir()

        # the board listens on UART 0 while `make urc` sends the URC
        listen = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "mpremote"), "connect", str(tty), "exec",
             "import time\nfrom vuart import UART\nu = UART(0)\nprint('listening')\n"
             "time.sleep_ms(3000)\nprint(u.read())"],
            cwd=str(ROOT), stdout=subprocess.PIPE, text=True)
        assert listen.stdout.readline().strip() == "listening"
        sent = _make("urc", "LINE=%s" % URC, "BOARD_DIR=%s" % board_dir)
        assert sent.returncode == 0 and sent.stdout.strip() == "sent", sent.stdout + sent.stderr
        out = listen.communicate(timeout=30)[0]
        assert URC in out, out
    finally:
        os.killpg(proc.pid, signal.SIGINT)   # Ctrl-C in its terminal
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("make board still running 10 s after Ctrl-C")
        finally:
            proc.stdout.close()
    # no simulator or launcher left behind
    left = subprocess.run(["pgrep", "-f", str(board_dir)], capture_output=True, text=True).stdout
    assert not left.strip(), left
    assert not tty.exists()

    venv_before = (ROOT / ".venv" / "bin" / "python").stat().st_ino
    reset = _make("rig-reset", "BOARD_DIR=%s" % board_dir, "RIG_DIR=%s" % rig_dir)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert not board_dir.exists() and not rig_dir.exists()
    assert (ROOT / ".venv" / "bin" / "python").stat().st_ino == venv_before


def test_the_rig_logs_do_not_pile_up(tmp_path):
    work = tmp_path / "rig"
    work.mkdir()
    # what earlier runs left (with something in them, as a warning would)
    for name in ("ubxsim-1.stderr", "vboard-1.log"):
        (work / name).write_text("from an earlier run\n")
    for _ in range(2):
        with harness.VirtualRig(work):
            pass
    assert not (work / "ubxsim-1.stderr").exists() and not (work / "vboard-1.log").exists()
    logs = sorted(p.name for p in work.iterdir() if p.suffix in (".log", ".stderr"))
    assert all((work / name).stat().st_size for name in logs), logs   # no empty one
    assert len([n for n in logs if n.startswith("ubxsim-")]) <= 1, logs
    assert len([n for n in logs if n.startswith("vboard-")]) <= 1, logs
