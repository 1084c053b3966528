"""`make demo PORT=<make board's pty> BOARD=virtual`: the spec's example on a
rig started by hand, the HTTPS step included (the demo finds the control
socket beside the board's pty, starts a local HTTPS server and maps its name
with the simulator's `hosts` verb); `make hosts` maps a name by hand."""

import os
import signal
import subprocess

from harness import ROOT
from test_make_board import _read_until


def _make(*args, timeout=300):
    return subprocess.run(["make", "--no-print-directory"] + list(args), cwd=str(ROOT),
                          capture_output=True, text=True, timeout=timeout)


def test_make_demo_on_a_board_started_by_hand(tmp_path):
    board_dir = tmp_path / "vb"
    proc = subprocess.Popen(["make", "--no-print-directory", "board", "BOARD_DIR=%s" % board_dir],
                            cwd=str(ROOT), stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _read_until(proc, "Ctrl-C to stop")
        tty = board_dir / "board.tty"
        demo = _make("demo", "PORT=%s" % tty, "BOARD=virtual")
        out = demo.stdout + demo.stderr
        assert demo.returncode == 0, out
        assert "HTTPS GET through the module" in out and "-> HTTP 200" in out, out
        assert "demo OK: every step succeeded" in out, out
        # the name the demo mapped stays in the simulator's host map until it is
        # changed; `make hosts` maps (and unmaps) a name by hand
        mapped = _make("hosts", "MAP=example.test=127.0.0.1:8443", "BOARD_DIR=%s" % board_dir)
        assert mapped.returncode == 0, mapped.stdout + mapped.stderr
        assert "example.test -> 127.0.0.1:8443" in mapped.stdout, mapped.stdout
        gone = _make("hosts", "MAP=example.test=", "BOARD_DIR=%s" % board_dir)
        assert gone.returncode == 0 and "example.test" not in gone.stdout, gone.stdout
        bad = _make("hosts", "MAP=nonsense", "BOARD_DIR=%s" % board_dir)
        assert bad.returncode == 2 and "usage: make hosts MAP=" in bad.stdout, bad.stdout
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stdout.close()
