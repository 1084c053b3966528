"""Run mpremote against a connect string, with a timeout, keeping its output.

    out = mpremote(connect, "exec", "print(1)")          # stdout (str)
    proc = mpremote(connect, "run", "x.py", check=False) # CompletedProcess
    mpremote(connect, "cp", "a.py", ":a.py", "+", "ls", ":")

A failure (non-zero exit, or no exit within `timeout` seconds) raises
MpremoteError carrying the command and everything it printed.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TIMEOUT = 60


class MpremoteError(AssertionError):
    def __init__(self, message, stdout="", stderr=""):
        super().__init__("%s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (message, stdout, stderr))
        self.stdout = stdout
        self.stderr = stderr


def _text(data):
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def mpremote(connect, *args, timeout=DEFAULT_TIMEOUT, check=True, cwd=None):
    """`mpremote connect <connect> args...`: its stdout if check, else the process."""
    cmd = [sys.executable, "-m", "mpremote", "connect", str(connect), *map(str, args)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=str(cwd or ROOT))
    except subprocess.TimeoutExpired as exc:
        raise MpremoteError("timed out after %ss: %s" % (timeout, " ".join(cmd)),
                            _text(exc.stdout), _text(exc.stderr)) from None
    if not check:
        return proc
    if proc.returncode:
        raise MpremoteError("exit status %d: %s" % (proc.returncode, " ".join(cmd)),
                            proc.stdout, proc.stderr)
    return proc.stdout
