"""The simulator ends promptly on SIGINT or SIGTERM, even under AT load.

The signal handler runs on the main thread, which spends its life inside
the engine's event queue get(): a handler that takes the queue's lock there
deadlocks the process (it used to, about once in 30 stops under load).
200 start / command / stop cycles, SIGINT and SIGTERM alternately, each
with a client sending AT commands as fast as the module answers right up
to the signal: every process must be gone within 2 s of its signal.
Four cycles run side by side to keep the test short.
"""

import os
import select
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from fixtures_sim import PYTHON, ROOT

CYCLES = 200
PARALLEL = 4
EXIT_WITHIN_S = 2.0


def _load(fd, stop, answered):
    """Send AT commands without waiting for the answers, reading what comes:
    the engine's event queue never rests, so a signal finds the main thread
    inside the queue's get() as often as it can."""
    while not stop.is_set():
        try:
            os.write(fd, b"AT\r")
            ready, _, _ = select.select([fd], [], [], 0.0005)
            if ready:
                answered[0] += os.read(fd, 65536).count(b"OK\r\n")
        except OSError:
            return


def _cycle(i, workdir):
    link = os.path.join(workdir, "c%d.tty" % i)
    proc = subprocess.Popen([PYTHON, "-m", "ubxsim", "--link", link, "--baud", "0",
                             "--families", "basic"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(ROOT))
    try:
        ready = proc.stdout.readline()
        assert ready.startswith(b"ubxsim ready"), ready
        fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
        stop = threading.Event()
        answered = [0]
        loader = threading.Thread(target=_load, args=(fd, stop, answered), daemon=True)
        loader.start()
        deadline = time.monotonic() + 5.0
        while answered[0] < 20 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert answered[0] >= 20, "cycle %d: the module did not answer" % i
        sig = signal.SIGINT if i % 2 else signal.SIGTERM
        proc.send_signal(sig)   # while the loader keeps sending
        try:
            proc.wait(EXIT_WITHIN_S)
            ended = True
        except subprocess.TimeoutExpired:
            ended = False
        stop.set()
        loader.join(2)
        os.close(fd)
        return (i, sig, ended, proc.returncode)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def test_200_start_command_stop_cycles_under_load():
    with tempfile.TemporaryDirectory(prefix="ubxstop-") as workdir:
        with ThreadPoolExecutor(PARALLEL) as pool:
            results = list(pool.map(lambda i: _cycle(i, workdir), range(CYCLES)))
    hung = [(i, signal.Signals(sig).name) for i, sig, ended, _ in results if not ended]
    assert not hung, "still running %.0f s after the signal: %r" % (EXIT_WITHIN_S, hung)
    assert all(rc == 0 for _, _, _, rc in results), [r for r in results if r[3] != 0]
