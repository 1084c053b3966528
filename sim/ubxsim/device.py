"""The simulated module's state: command handlers, stores, URC output.

Each command family lives in its own module with a `register(device)`
function that builds its store, attaches it to the device and registers its
handlers:

    basic.register(dev)     V.250 and identification commands, +USECCHIP
    filesystem.register(dev)  dev.fs: +UDWNFILE, +ULSTFILE, +UDELFILE, +URDFILE
    usecmng.register(dev)   dev.credentials: +USECMNG
    usecprf.register(dev)   dev.profiles: +USECPRF, +UUSECPRF

The engine owns the wire (echo, framing, CMEE, prompts, pacing, faults);
stores never touch bytes on the wire except through emit_urc().
"""

import os
import sys
import traceback

from . import models


class Device:
    def __init__(self, state_dir=None, model=models.DEFAULT):
        # None: state lives only in memory (lost when the process ends)
        self.state_dir = state_dir
        # the series' differences from the spec (models.py); a name or a Model
        self.model = models.get(model) if isinstance(model, str) else model
        self.handlers = {}    # "+USECMNG" -> handler(device, kind, params)
        self.controls = {}    # control-channel verb -> callable(**kwargs) -> JSON-able
        self.restart_hooks = []  # called on a module restart (power cycle)
        self.urc_sink = None  # set by the engine: callable(line: str)
        # set by the engine: its event log (--verbose); never given a secret
        self.log = lambda msg: None
        # set by the engine: callable(fn) running fn on the engine thread
        self.call_sink = None
        self.echo = True
        self.cmee = 0         # AT+CMEE: 0 plain ERROR, 1 numeric, 2 verbose
        # set by a handler (AT+CFUN=16): the engine restarts the module once
        # the command's final result code has been sent
        self.restart_requested = False

    def register(self, name, handler):
        self.handlers[name.upper()] = handler

    def state_path(self, name):
        """Directory for one store's persistent state, or None if in memory."""
        if self.state_dir is None:
            return None
        path = os.path.join(self.state_dir, name)
        os.makedirs(path, exist_ok=True)
        return path

    def emit_urc(self, line):
        """Send an unsolicited result code (without CRLF) when the engine can."""
        if self.urc_sink is not None:
            self.urc_sink(line)

    def call(self, fn):
        """Run fn() where the module state is owned: worker threads change
        state only through here, so a change never interleaves with a command."""
        if self.call_sink is None:
            return fn()  # no engine (handlers driven in-process)
        return self.call_sink(fn)

    def request_restart(self):
        """Restart after the current command has answered (module reset)."""
        self.restart_requested = True

    def restart(self):
        """A power cycle: volatile state goes, persistent state stays."""
        self.echo = True
        self.cmee = 0
        for hook in self.restart_hooks:
            try:
                hook()
            except Exception:  # one broken store must not stop the others or the engine
                print("ubxsim: restart hook %s failed" % getattr(hook, "__qualname__", hook),
                      file=sys.stderr, flush=True)
                traceback.print_exc(file=sys.stderr)
