"""The control channel: a unix socket, or a TCP port, taking one JSON object
per line.

Where it listens (--control): a path is a unix socket; tcp:PORT listens on
127.0.0.1; tcp:HOST:PORT on HOST (a lab network: another host drives the
rig's module side), and then every request must carry "token": the one
generated at start (ControlServer.token, printed by __main__), or it is
refused before anything runs. PORT 0 picks a free port (ControlServer.address).

Requests {"verb": ..., ...}; one reply line per request:
{"ok": true, "result": ...} or {"ok": false, "error": "..."}.

Verbs: "urc" {"line"} emit a URC; "inject" {"line"} send a foreign URC now
(at the next line boundary; counted with the --urcs ones); "urcs" {"rate",
"idle", "seed"} (all optional: new rates keep the counts, a seed restarts
the choices and the counts) set the foreign URCs, and report them; "model" the module model's table; "restart" power-cycle the module;
"guard" {"seconds"} set the data-phase guard timer; "faults" {"spec"} replace
the fault spec (without "spec": report the active faults and how often each
fired); "status"; plus every verb in device.controls, called with the other
keys of the request as keyword arguments. Everything but "urc" runs on the
engine thread, so it never races a command.
"""

import hmac
import json
import os
import secrets
import socket
import threading

LOCAL = "127.0.0.1"


def parse_address(text):
    """--control's value -> (path, None, None) for a unix socket or
    (None, host, port) for TCP, host None when not given."""
    if not text.startswith("tcp:"):
        return text, None, None
    host, sep, port = text[4:].rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535 or (sep and not host):
        raise ValueError("--control tcp:[HOST:]PORT: a port 0-65535 (0: any free one), "
                         "not %r" % text)
    return None, host or None, int(port)


class ControlServer:
    def __init__(self, path, engine, device):
        self.engine = engine
        self.device = device
        self.path, host, port = parse_address(path)
        # a host given: the channel is on a network, so it takes a token
        self.token = secrets.token_hex(16) if host else None
        if self.path is None:
            self.sock = socket.create_server((host or LOCAL, port), backlog=4)
            self.address = "tcp:%s:%d" % self.sock.getsockname()[:2]
            return
        self.address = self.path
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)

    def start(self):
        self._thread = threading.Thread(target=self._accept_loop, name="ubxsim-control",
                                        daemon=True)
        self._thread.start()

    def close(self):
        try:
            self.sock.close()
        finally:
            if self.path is not None:
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn, conn.makefile("rwb") as stream:
            for raw in stream:
                if not raw.strip():
                    continue
                reply = self.handle_line(raw)
                stream.write(json.dumps(reply).encode() + b"\n")
                stream.flush()

    def handle_line(self, raw):
        try:
            request = json.loads(raw)
            if not isinstance(request, dict) or not isinstance(request.get("verb"), str):
                raise ValueError("a request is an object with a string \"verb\"")
            token = request.pop("token", None)
            if self.token is not None and not (
                    isinstance(token, str) and hmac.compare_digest(token.encode(), self.token.encode())):
                raise PermissionError("%s: this control channel takes only requests carrying "
                                      "\"token\", the one the simulator printed at start"
                                      % ("no token" if token is None else "wrong token"))
            return {"ok": True, "result": self.dispatch(request)}
        except Exception as exc:  # every failure is reported to the caller
            return {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}

    def dispatch(self, request):
        args = dict(request)
        verb = args.pop("verb")
        engine = self.engine
        if verb == "urc":
            self.device.emit_urc(_one_line(args["line"]))
            return None
        if verb == "inject":
            line = _one_line(args["line"])
            return engine.call(lambda: engine.inject_urc(line))
        if verb == "urcs":
            if args:
                rate, seed, idle = args.pop("rate", None), args.pop("seed", None), args.pop("idle", None)
                if args:
                    raise ValueError("urcs takes rate, idle and seed, not %s" % ", ".join(args))
                engine.call(lambda: engine.urcs.configure(rate, seed, idle))
            return engine.call(engine.urcs.describe)
        if verb == "model":
            return self.device.model.describe()
        if verb == "restart":
            return engine.call(engine.restart)
        if verb == "guard":
            seconds = float(args["seconds"])
            if seconds <= 0:
                raise ValueError("seconds must be positive")
            return engine.call(lambda: setattr(engine, "guard_seconds", seconds))
        if verb == "faults":
            if "spec" not in args:
                return engine.call(engine.faults.describe)
            return engine.call(lambda: engine.faults.configure(args["spec"]))
        if verb == "status":
            return engine.call(engine.status)
        control = self.device.controls.get(verb)
        if control is None:
            raise KeyError("unknown verb %r" % verb)
        return engine.call(lambda: control(**args))


def _one_line(line):
    if not isinstance(line, str) or "\r" in line or "\n" in line:
        raise ValueError("line must be one line of text")
    return line
