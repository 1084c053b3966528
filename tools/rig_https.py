"""`make rig-https` (with `make board` running): https://server.test/ for the
virtual rig, so that an HTTPS GET through the module can be tried at the REPL.

    python tools/rig_https.py [--control build/vboard/control.sock]
                              [--root build/vboard/rig-root.pem]

Starts an HTTPS server on 127.0.0.1 with a throw-away PKI (a root, an
intermediate, server.test valid for a year), points the simulator's host map
at it (control verb "hosts") and writes the root to --root, for the board
(`mpremote cp build/vboard/rig-root.pem :rig-root.pem`). Prints one line
when it serves; Ctrl-C stops it.
"""

import argparse
import json
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests_host"))
sys.path.insert(0, str(ROOT / "sim"))

from https_server import HttpsServer  # noqa: E402
from pki import TestPki  # noqa: E402

HOST = "server.test"


def control(path, request):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(sock.makefile().readline())
    if not reply.get("ok"):
        raise SystemExit("rig-https: the simulator refused %s: %s" % (request["verb"], reply.get("error")))
    return reply["result"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--control", default=str(ROOT / "build" / "vboard" / "control.sock"))
    parser.add_argument("--root", default=str(ROOT / "build" / "vboard" / "rig-root.pem"))
    args = parser.parse_args(argv)
    if not Path(args.control).exists():
        print("rig-https: no simulator at %s: start 'make board' first" % args.control, file=sys.stderr)
        return 2
    pki = TestPki()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with tempfile.TemporaryDirectory(prefix="rig-https-") as tmp:
        server = HttpsServer(pki.write_server_files(tmp, pki.server, "server")).start()
        try:
            control(args.control, {"verb": "hosts", "map": {HOST: ["127.0.0.1", server.port]}})
            Path(args.root).write_bytes(pki.root.pem)
            print("rig-https: serving https://%s/ (127.0.0.1:%d); its root CA is in %s; Ctrl-C stops"
                  % (HOST, server.port, args.root), flush=True)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
