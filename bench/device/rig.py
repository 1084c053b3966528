# Device-side helpers shared by the bench scripts, on both virtual boards'
# ports: the unix port (unix64) and the WebAssembly port (wasm32).
#
# The scripts run directly under the port with that board's UART class
# (boards/unix/lib/vuart.py, or boards/wasm32/lib/vuart.py: "link" 0 is the
# board's /dev/uart0) on the simulator's pty: no REPL or mpremote transport
# sits between the timer and the code measured.
#
# Every script takes the path of a JSON file as its argument and prints one line
# "BENCH <json>" with its results; the orchestrator (bench/run.py) reads it.

import gc
import json
import sys
import time

import micropython
from vuart import UART


class BenchUART(UART):
    """vuart.UART plus readline() (as a board's UART stream has it) and an
    optional live-heap probe: between start_sampling() and stop_sampling(),
    every write() and any() runs a full collection first and keeps the
    highest gc.mem_alloc() seen, i.e. the peak of live heap at chunk
    granularity. Outside sampling the class adds nothing to any()/write()
    (no override: calling through super() would allocate)."""

    def start_sampling(self):
        gc.collect()
        self.peak = gc.mem_alloc()
        self.any = self._sampled_any
        self.write = self._sampled_write

    def stop_sampling(self):
        del self.any
        del self.write
        return self.peak

    def _sample(self):
        gc.collect()
        used = gc.mem_alloc()
        if used > self.peak:
            self.peak = used

    def _sampled_write(self, buf, a=-1, b=-1):
        self._sample()
        return UART.write(self, buf, a, b)

    def _sampled_any(self):
        self._sample()
        return UART.any(self)

    def readline(self, timeout_ms=100):
        # a board's readline on a UART opened with timeout=timeout_ms: up to
        # and including b"\n", or what arrived before the line went quiet
        if not self._wait_for(1):
            return None
        line = self._ring.readline()
        while line[-1] != 10:
            start = time.ticks_ms()
            while not self._ring.any():
                if time.ticks_diff(time.ticks_ms(), start) >= timeout_ms:
                    return line
                time.sleep_ms(1)
            line += self._ring.readline()
        return line


def args():
    # the configuration comes in a JSON file: this port's command line
    # cannot carry a long argument
    with open(sys.argv[1]) as f:
        return json.load(f)


def emit(result):
    print("BENCH " + json.dumps(result))


def open_uart(cfg):
    return BenchUART(cfg["link"], cfg.get("baud", 115200), rxbuf=cfg.get("rxbuf", 1024))


def make_driver(cfg, uart):
    """The driver under test: "lib" (ubxsec.Module) or "naive" (bench/naive.py).
    Both expose chip_id(), import_file(path, kind, name), list(),
    set_profile(n, validation, ca), on_urc(prefix, fn), poll(), close()."""
    if cfg.get("md5") == "fallback":
        hide_hashlib_md5()
    if cfg["driver"] == "naive":
        import naive
        return naive.Modem(uart)
    return LibDriver(uart, cfg)


class _NoMd5:
    """A hashlib without md5: `from hashlib import md5` fails as on a port built
    without it (stm32 without SSL, the WebAssembly port)."""


def hide_hashlib_md5():
    sys.modules["hashlib"] = _NoMd5


class LibDriver:
    """ubxsec.Module behind the same small surface as naive.Modem."""

    def __init__(self, uart, cfg):
        import ubxsec
        self.module = ubxsec.Module(uart, rx_size=cfg.get("rx_size", 1024),
                                    chunk=cfg.get("chunk", 256),
                                    irq_hard=cfg.get("irq_hard", False))
        guard = cfg.get("guard_ms")
        if guard:
            self.module.at.guard_ms = guard

    def chip_id(self):
        return self.module.chip_id()

    def import_file(self, path, kind, name):
        return self.module.certs.import_file(path, kind, name)

    def list(self):
        return self.module.certs.list()

    def set_profile(self, n, validation, ca):
        p = self.module.profile(n)
        p.validation_level(validation)
        p.ca_name(ca)

    def on_urc(self, prefix, fn):
        self.module.on_urc(prefix, fn)

    def poll(self):
        return self.module.poll()

    def close(self):
        self.module.close()


_gc_was_enabled = True


def alloc_start():
    """Start counting heap bytes: micropython.mem_total() where the port has it
    (it counts every allocation), else gc.mem_alloc() with collection off so
    nothing is reclaimed until alloc_stop() (the WebAssembly port keeps call
    frames on its pystack: nothing it allocates is freed before that)."""
    global _gc_was_enabled
    total = getattr(micropython, "mem_total", None)
    if total is not None:
        return total()
    _gc_was_enabled = gc.isenabled()
    gc.disable()
    return gc.mem_alloc()


def alloc_stop(start):
    """Bytes allocated since alloc_start() returned `start`."""
    total = getattr(micropython, "mem_total", None)
    if total is not None:
        return total() - start
    spent = gc.mem_alloc() - start
    if _gc_was_enabled:
        gc.enable()
    return spent


def ticks_us():
    return time.ticks_us()
