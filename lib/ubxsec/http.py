"""+UHTTP / +UHTTPC: the module's HTTP(S) client, as far as a GET to a file.

    h = Http(module.at, 0)          # HTTP profile 0-3
    h.server("example.com")         # AT+UHTTP=0,1,"example.com"
    h.secure(2)                     # AT+UHTTP=0,6,1,2: TLS with security profile 2
    h.get("/", "https.resp")        # AT+UHTTPC=0,1,"/","https.resp", waits for +UUHTTPCR
    data = h.read_file("https.resp")  # AT+URDFILE: status line, headers and body

get() returns once `+UUHTTPCR: <profile>,1,1` arrives; result 0 (connection,
TLS handshake or certificate check failed) raises HttpError. The handler for
this profile's URCs is bound once, in the constructor, to the prefix
"+UUHTTPCR: <profile>," so that several Http objects share one engine.

read_file() needs the engine to hand over the raw bytes of a sized payload
inside an information line (`+URDFILE: "<name>",<size>,"<data>"`: the data
may hold quotes, CR and LF) through AtEngine.command_payload().
"""

import time
from micropython import const

from .errors import AtTimeout, ProtocolError, UbxError
from .params import check_int, quoted

_MAX = const(248)       # filename; path and server name: 128
_GET_MS = const(180000)   # the module's own request timeout is well below this


class HttpError(UbxError):
    """The module reported the HTTP request as failed (+UUHTTPCR result 0)."""


class Http:
    def __init__(self, at, http_profile=0):
        self._at = at
        self.id = check_int(http_profile, range(4), "http_profile")
        self._result = None   # (command, result) of the last +UUHTTPCR
        self._prefix = "+UUHTTPCR: %d," % self.id
        at.on_urc(self._prefix, self._on_urc)

    def _on_urc(self, line):
        f = line[len(self._prefix):].split(",")
        if len(f) != 2 or not (f[0].isdigit() and f[1].isdigit()):
            raise ProtocolError("bad +UUHTTPCR")
        self._result = (int(f[0]), int(f[1]))

    def _set(self, op, value=None):
        self._at.command("+UHTTP=%d" % self.id + ("" if op is None else ",%d,%s" % (op, value)))

    def reset(self):
        """Factory values for every setting of this HTTP profile."""
        self._set(None)

    def server(self, name, port=None):
        """Server host name, and the port when not the default (80, or 443
        once TLS is on)."""
        name = quoted(name, 128, "server", 1)
        if port is not None:
            check_int(port, range(1, 65536), "port")   # before any byte is sent
        self._set(1, name)
        if port is not None:
            self._set(5, port)

    def secure(self, security_profile_id):
        """TLS with the given security profile (0-4); None turns TLS off."""
        self._set(6, 0 if security_profile_id is None else
                  "1,%d" % check_int(security_profile_id, range(5), "security profile"))

    def get(self, path, filename, timeout_ms=_GET_MS):
        """GET path into the module file filename; returns when the module
        reports success, raises HttpError when it reports failure and
        AtTimeout when it reports nothing within timeout_ms."""
        cmd = "+UHTTPC=%d,1,%s,%s" % (self.id, quoted(path, 128, "path", 1),
                                      quoted(filename, _MAX, "filename", 1))
        at = self._at
        at.poll()   # a late URC of an earlier request must not count for this one
        self._result = None
        at.command(cmd)
        t0 = time.ticks_ms()
        while True:
            at.poll()
            got = self._result
            if got is not None and got[0] == 1:   # command 1: GET
                break
            if time.ticks_diff(time.ticks_ms(), t0) >= timeout_ms:
                raise AtTimeout("no +UUHTTPCR")
            time.sleep_ms(5)
        if got[1] != 1:
            raise HttpError("GET %s: result %d" % (path, got[1]))

    def read_file(self, filename, sink=None, timeout_ms=None):
        """The module file's bytes (a bytearray); with sink, sink(memoryview)
        gets them piece by piece instead and the size is returned."""
        name = quoted(filename, _MAX, "filename", 1)
        buf = None
        if sink is None:
            buf = bytearray()
            sink = buf.extend
        lines = self._at.command_payload("+URDFILE=" + name, "+URDFILE:", sink, timeout_ms)
        # the engine hands the data to sink and leaves `+URDFILE: "<name>",<size>,""`
        head = "+URDFILE: %s," % name
        line = lines[0] if len(lines) == 1 else ""
        size = line[len(head):-3] if line.startswith(head) and line.endswith(',""') else ""
        if not size.isdigit():
            raise ProtocolError("bad +URDFILE")
        return int(size) if buf is None else buf


def status(response):
    """The status code of a stored response ("HTTP/1.1 200 OK..." -> 200)."""
    head = bytes(response[:12])
    if head[:7] == b"HTTP/1." and head[8:9] == b" " and head[9:12].isdigit():
        return int(head[9:12])
    raise ProtocolError("no HTTP status line")
