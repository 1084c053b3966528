"""pytest plugin: the module simulator on a pty and an AT client for it.

    sim_factory(**opts)  start `python -m ubxsim`; opts: baud (0), guard_seconds
                         (2.0), state (dir), faults (dict), families (tuple),
                         boot_seconds, model (name, ubxsim.models), urcs (rate),
                         urcs_seed, urcs_idle, control (tcp:[HOST:]PORT instead of
                         a unix socket), extra_args. Returns a SimProcess with
                         .link, .control(verb, **kw), .control_path (a path or
                         the tcp: address), .token, .stop().
    sim                  sim_factory() with the defaults
    at                   AtClient on sim.link: send(cmd) -> raw bytes up to the
                         final result code; send_data(data); read_for(s)

Every simulator started here is killed on teardown.
"""

import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import serial

ROOT = Path(__file__).resolve().parent.parent
_VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(_VENV_PYTHON) if _VENV_PYTHON.exists() else sys.executable
CORE_FAMILIES = ("basic", "filesystem")
READY_TIMEOUT = 15.0

FINAL_RESULT = re.compile(rb"\r\n(OK|ERROR|\+CME ERROR: [^\r\n]*)\r\n")


class SimError(Exception):
    pass


class SimProcess:
    def __init__(self, workdir, baud=0, guard_seconds=2.0, state=None, faults=None,
                 families=None, boot_seconds=None, model=None, urcs=None, urcs_seed=None,
                 urcs_idle=None, control=None, extra_args=()):
        workdir = Path(workdir)
        # unix socket paths are limited to ~107 bytes: keep them short
        self._sockdir = tempfile.mkdtemp(prefix="ubxsim-")
        self.link = str(workdir / ("ubx%d.tty" % id(self)))
        self.control_path = control or os.path.join(self._sockdir, "ctl")
        self.token = None
        self.stderr_path = workdir / ("ubxsim-%d.stderr" % id(self))
        cmd = [PYTHON, "-m", "ubxsim", "--link", self.link, "--baud", str(baud),
               "--guard-seconds", str(guard_seconds), "--control", self.control_path]
        if state is not None:
            cmd += ["--state", str(state)]
        if faults is not None:
            cmd += ["--faults", json.dumps(faults)]
        if families is not None:
            cmd += ["--families", ",".join(families)]
        if boot_seconds is not None:
            cmd += ["--boot-seconds", str(boot_seconds)]
        if model is not None:
            cmd += ["--model", model]
        if urcs is not None:
            cmd += ["--urcs", str(urcs)]
        if urcs_seed is not None:
            cmd += ["--urcs-seed", str(urcs_seed)]
        if urcs_idle is not None:
            cmd += ["--urcs-idle", str(urcs_idle)]
        cmd += list(extra_args)
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr,
                                     cwd=str(ROOT))
        self.ready_line = self._wait_ready()
        if control is not None:   # "ubxsim control tcp:HOST:PORT [token T]"
            said = self.proc.stdout.readline().decode().split()
            if said[:2] != ["ubxsim", "control"]:
                self.stop()
                raise SimError("no control line after the ready line: %r" % said)
            self.control_path = said[2]
            self.token = said[4] if len(said) > 4 else None

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                if line:
                    return line.decode()
            if self.proc.poll() is not None:
                break
        self.stop()
        raise SimError("simulator not ready (got %r): %s"
                       % (line, self.stderr_path.read_text(errors="replace")))

    def stderr(self):
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def wait_booted(self):
        """Wait until the module accepts commands again (after AT+CFUN=16)."""
        for _ in range(200):
            if self.control("status")["state"] == "command":
                return
            time.sleep(0.05)
        raise AssertionError("simulator did not finish booting")

    def control(self, verb, **kwargs):
        """One control request; returns its result or raises SimError."""
        from rigctl import Control, ControlError
        try:
            return Control(self.control_path, self.token)(verb, **kwargs)
        except ControlError as exc:
            raise SimError(str(exc)) from None

    def stop(self, sig_timeout=5.0):
        """Terminate (SIGTERM), kill if it lingers; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(sig_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self._stderr.close()
        shutil.rmtree(self._sockdir, ignore_errors=True)
        return self.proc.returncode


class AtClient:
    """A DTE on the simulator's link (pyserial)."""

    def __init__(self, link, timeout=5.0):
        self.timeout = timeout
        self.port = serial.Serial(link, baudrate=115200, timeout=0.02)
        self.port.reset_input_buffer()
        self.pending = bytearray()

    def close(self):
        self.port.close()

    def write(self, data):
        self.port.write(data.encode("latin-1") if isinstance(data, str) else data)
        self.port.flush()

    def _fill(self):
        chunk = self.port.read(self.port.in_waiting or 1)
        self.pending += chunk
        return chunk

    def read_until(self, pattern, timeout=None):
        """Bytes up to and including the first match of pattern (regex on bytes)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        regex = re.compile(pattern) if isinstance(pattern, bytes) else pattern
        while True:
            match = regex.search(self.pending)
            if match:
                out = bytes(self.pending[:match.end()])
                del self.pending[:match.end()]
                return out
            if time.monotonic() > deadline:
                raise TimeoutError("no %r in %r" % (regex.pattern, bytes(self.pending)))
            self._fill()

    def read_for(self, seconds):
        """Everything that arrives within seconds (plus what was pending)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._fill()
        out = bytes(self.pending)
        self.pending.clear()
        return out

    def send(self, cmd, timeout=None):
        """Send cmd + CR; raw bytes (echo included) through the final result code."""
        self.write(cmd + ("\r" if isinstance(cmd, str) else b"\r"))
        return self.read_until(FINAL_RESULT, timeout)

    def send_prompt(self, cmd, timeout=None):
        """Send a command that opens a data phase; raw bytes through the `>`."""
        self.write(cmd + "\r")
        return self.read_until(rb">|" + FINAL_RESULT.pattern, timeout)

    def send_data(self, data, timeout=None):
        """Send the bytes of a data phase; raw bytes through the final result code."""
        self.write(data)
        return self.read_until(FINAL_RESULT, timeout)


def final_result(raw):
    """The final result code of a raw response, as text."""
    return FINAL_RESULT.findall(raw)[-1].decode("latin-1")


def info_lines(raw):
    """The information lines of a raw response (echo and final result removed)."""
    body = raw[:FINAL_RESULT.search(raw).start()] if FINAL_RESULT.search(raw) else raw
    first_crlf = body.find(b"\r\n")
    body = body[first_crlf:] if first_crlf >= 0 else b""  # the echo ends at the first CR
    return [l.decode("latin-1") for l in body.split(b"\r\n") if l]


@pytest.fixture
def sim_factory(tmp_path):
    started = []

    def start(**opts):
        sim = SimProcess(tmp_path, **opts)
        started.append(sim)
        return sim
    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(sim_factory):
    return sim_factory()


@pytest.fixture
def at(sim):
    client = AtClient(sim.link)
    yield client
    client.close()
