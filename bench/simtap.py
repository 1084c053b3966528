"""The simulator, as `python -m ubxsim` runs it, plus a URC send log.

    python bench/simtap.py --link PATH --baud N --control SOCK [ubxsim options]

Same command line and behaviour as `python -m ubxsim`; the engine also
records, for every URC it writes, the wall-clock time (time.time_ns) right
after the URC's last byte was handed to the pty, i.e. when it left the
simulator. The control verb "bench_urc_log" returns those records as
[[line, t_ns], ...] and clears them. The device side stamps its handler
with time.time_ns() too: both clocks are this host's, so they compare.
"""

import sys
import time

import ubxsim.__main__ as sim_main
from ubxsim.engine import Engine


class TapEngine(Engine):
    def __init__(self, device, link, **kwargs):
        super().__init__(device, link, **kwargs)
        self.urc_log = []
        self._last_write_ns = 0
        write = link.write

        def timed_write(data, *args):
            ok = write(data, *args)
            self._last_write_ns = time.time_ns()
            return ok

        link.write = timed_write
        device.controls["bench_urc_log"] = self._take_log

    def _send_urc(self, line):
        super()._send_urc(line)
        self.urc_log.append([line if isinstance(line, str) else line.decode("latin-1"),
                             self._last_write_ns])

    def _take_log(self):
        log, self.urc_log = self.urc_log, []
        return log


sim_main.Engine = TapEngine

if __name__ == "__main__":
    sys.exit(sim_main.main())
