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


def _start_board(board_dir):
    return subprocess.Popen(["make", "--no-print-directory", "board", "BOARD_DIR=%s" % board_dir],
                            cwd=str(ROOT), stdout=subprocess.PIPE, text=True, start_new_session=True)


def _ctrl_c(proc):
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(10)
    except ProcessLookupError:
        pass
    finally:
        proc.stdout.close()


def _answers(board_dir):
    out = harness.Target(str(board_dir / "board.tty")).exec("print(6 * 7)", timeout=60)
    return out.strip() == "42"


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_one_rig_per_directory_and_a_killed_one_is_cleaned_up(tmp_path):
    first_dir, other_dir = tmp_path / "a", tmp_path / "b"
    first = _start_board(first_dir)
    started = [first]
    try:
        _read_until(first, "Ctrl-C to stop")
        shell, sim, brd = (int(p) for p in (first_dir / "rig.pids").read_text().split())

        # a second one over the first's links is refused, and says which
        again = _make("board", "BOARD_DIR=%s" % first_dir)
        assert again.returncode == 2, again.stdout + again.stderr
        assert "a rig is already running in %s" % first_dir in again.stdout, again.stdout
        assert "make board pid %d, simulator %d, board %d" % (shell, sim, brd) in again.stdout
        assert "BOARD_DIR=<another directory>" in again.stdout
        assert _answers(first_dir)          # the first one is untouched

        # another directory: an independent rig beside it
        other = _start_board(other_dir)
        started.append(other)
        _read_until(other, "Ctrl-C to stop")
        assert _answers(other_dir) and _answers(first_dir)
        _ctrl_c(other)

        # the first run killed hard: its simulator and board are left running
        os.kill(shell, signal.SIGKILL)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        assert _alive(sim) and _alive(brd)
        rerun = _start_board(first_dir)
        started.append(rerun)
        lines = _read_until(rerun, "Ctrl-C to stop")
        text = "\n".join(lines)
        assert "cleaned up a stale rig in %s" % first_dir in text and " %d %d;" % (sim, brd) in text, text
        for pid in (sim, brd):
            for _ in range(50):
                if not _alive(pid):
                    break
                time.sleep(0.1)
            assert not _alive(pid), "the killed run's process %d still runs" % pid
        assert _answers(first_dir)
        _ctrl_c(rerun)
        assert not (first_dir / "rig.pids").exists() and not (other_dir / "rig.pids").exists()
    finally:
        for proc in started:
            if proc.poll() is None:
                _ctrl_c(proc)
