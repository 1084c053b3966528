"""The module side of a rig as host tests and tools reach it: the simulator's
control channel (sim/ubxsim/control.py), on a unix socket (a path) or over
TCP (tcp:HOST:PORT; with the token the simulator printed at start when it
listens on a host given).

    ctl = Control("tcp:127.0.0.1:5000", token="...")
    ctl("status"); ctl("urc", line="+UUSECPRF: 2,0,1")
    ctl = from_env()      # $RIG_CONTROL (and $RIG_TOKEN), or None: no module side

A rig, for the tools: a board port (a local path or an rfc2217:// URL:
harness.Target) and this module side, where there is one.
"""

import json
import os
import socket


class ControlError(Exception):
    """The simulator refused the request, or the channel is unreachable."""


def connect(address, timeout=30):
    """A socket connected to address: a unix path or tcp:HOST:PORT."""
    if address.startswith("tcp:"):
        host, _, port = address[4:].rpartition(":")
        try:
            return socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout)
        except (OSError, ValueError) as exc:
            raise ControlError("cannot reach the control channel %s: %s" % (address, exc)) from None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(address)
    except OSError as exc:
        sock.close()
        raise ControlError("cannot reach the control channel %s: %s" % (address, exc)) from None
    return sock


class Control:
    def __init__(self, address, token=None, timeout=30):
        self.address = address
        self.token = token
        self.timeout = timeout

    def __call__(self, verb, **kwargs):
        """One request; its result, or ControlError with the simulator's message."""
        request = dict(kwargs, verb=verb)
        if self.token:
            request["token"] = self.token
        with connect(self.address, self.timeout) as sock:
            sock.sendall(json.dumps(request).encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    raise ControlError("control channel %s closed" % self.address)
                reply += chunk
        reply = json.loads(reply)
        if not reply["ok"]:
            raise ControlError(reply["error"])
        return reply["result"]

    control = __call__

    def __repr__(self):
        return "Control(%r)" % self.address


def from_env():
    """The module side named by $RIG_CONTROL ($RIG_TOKEN), or None."""
    address = os.environ.get("RIG_CONTROL", "").strip()
    return Control(address, os.environ.get("RIG_TOKEN", "").strip() or None) if address else None
