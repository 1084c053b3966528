"""+UHTTP / +UHTTPC: the module's HTTP(S) client, as far as a GET to a file.

    h = Http(module.at, 0)          # HTTP profile 0-3
    h.server("example.com")         # AT+UHTTP=0,1,"example.com"
    h.secure(2)                     # AT+UHTTP=0,6,1,2: TLS with security profile 2
    h.get("/", "https.resp")        # AT+UHTTPC=0,1,"/","https.resp", waits for +UUHTTPCR
    data = h.read_file("https.resp")  # AT+URDFILE: status line, headers and body

get() returns once `+UUHTTPCR: <profile>,1,1` arrives; result 0 (connection,
TLS handshake or certificate check failed) raises HttpError, which carries
the module's own error (AT+UHTTPER: err_class, err_code) and says what it
most likely means, with what the module holds that explains it (the CA the
security profile names, the module's clock):

    HttpError: GET / on profile 2: the server's certificate is not signed by
    CA 'ThawteCA' (+UHTTPER: 0,3,73)

failure() reads those facts as one generator over at.exchange(), so that
Http (through AtEngine.run) and ubxsec.aio's AsyncHttp (through its awaiting
run) say the same from the same code; explain() writes the message. The handler for
this profile's URCs is bound once, in the constructor, to the prefix
"+UUHTTPCR: <profile>," so that several Http objects share one engine.

read_file() needs the engine to hand over the raw bytes of a sized payload
inside an information line (`+URDFILE: "<name>",<size>,"<data>"`: the data
may hold quotes, CR and LF) through AtEngine.command_payload().
"""

import time
from micropython import const

from .errors import AtTimeout, ProtocolError, UbxError
from .params import check_int, fields, quoted

_MAX = const(248)       # filename; path and server name: 128
_GET_MS = const(180000)   # the module's own request timeout is well below this


class HttpError(UbxError):
    """The module reported the HTTP request as failed (+UUHTTPCR result 0).
    err_class, err_code: the module's AT+UHTTPER answer (None if it gave none)."""

    def __init__(self, msg, err_class=None, err_code=None):
        super().__init__(msg)
        self.err_class = err_class
        self.err_code = err_code


# +UHTTPER class 3 codes and their likely cause. 73 is what modules answer
# for a server whose CA they lack; 201-209 are the simulator's finer codes
# (README).
# In a text, CA is replaced by the profile's CA, CLOCK by the module's date.
_CAUSES = {
    73: "the server's certificate is not signed by",
    201: "the server's certificate is not for the host name the profile checks "
         "(server_hostname, or the server's name)",
    202: "the server's certificate is expired by the module's clock",
    203: "the server's certificate is not yet valid by the module's clock",
    204: "the server asks for a client certificate and the profile sends none: "
         "set client_cert_name and client_key_name",
    205: "the TLS handshake failed: the profile's TLS version, cipher suites or "
         "PSK do not meet the server's",
    206: "the server did not answer in time",
    207: "the server's certificate is not the pinned one",
    208: "the module cannot connect to the server",
    209: "the server's answer is not an HTTP response the module could store",
}
_CLASS = const(3)
_CA_CODE = const(73)


def needs(err_class, err_code):
    """What explain() wants read from the module for this error: "ca" (the
    security profile's CA name), "clock" (the module's clock) or None."""
    if err_class == _CLASS:
        if err_code == _CA_CODE:
            return "ca"
        if err_code in (202, 203):
            return "clock"
    return None


def explain(what, http_profile, err_class, err_code, ca=None, clock=None):
    """The message of an HttpError: what failed ("GET / on profile 2"), the
    module's error (AT+UHTTPER) and what it most likely means; ca is the CA
    name the security profile names, clock the module's clock tuple
    (ubxsec.clock.read), where read (see needs())."""
    if err_class is None:
        return "%s: result 0, and the module gave no error (AT+UHTTPER)" % what
    cause = _CAUSES.get(err_code) if err_class == _CLASS else None
    if cause is None:
        cause = "result 0" if err_class == 0 else "the module's HTTP error"
    elif err_code == _CA_CODE:
        cause += " CA %r" % ca if ca else " a CA the profile trusts"
    elif clock is not None and err_code in (202, 203):
        cause += " (%04d/%02d/%02d)" % clock[:3]
        if not clock[7]:
            cause += (", which is not set: set it with m.set_clock() or wait for "
                      "network time")
    return "%s: %s (+UHTTPER: %d,%d,%d)" % (what, cause, http_profile, err_class, err_code)


class Http:
    def __init__(self, at, http_profile=0):
        self._at = at
        self.id = check_int(http_profile, range(4), "http_profile")
        self._result = None   # (command, result) of the last +UUHTTPCR
        self._sec = None      # security profile id, once secure() named one
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
        self._sec = security_profile_id

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
            raise self.error("GET " + path)

    def error(self, what):
        """The HttpError of a failed request: the module's AT+UHTTPER answer
        and, where it helps, the profile's CA name or the module's clock."""
        return self._at.run(failure(self._at, self.id, self._sec, what))

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


def failure(at, http_profile, sec, what):
    """Generator over at.exchange: the HttpError of a failed request on
    http_profile (sec: its security profile id, or None), as Http.error()
    and ubxsec.aio's AsyncHttp give it (one code, driven by either run())."""
    cls = code = ca = clock = None
    try:
        lines = yield from at.exchange("+UHTTPER=%d" % http_profile)
        f = fields(lines[0][10:]) if len(lines) == 1 and lines[0].startswith("+UHTTPER: ") \
            else ()
        if len(f) == 3 and f[0] == http_profile and isinstance(f[1], int) \
                and isinstance(f[2], int):
            cls, code = f[1], f[2]
        need = needs(cls, code)
        if need == "ca" and sec is not None:
            from .profiles import SecurityProfile
            ca = yield from SecurityProfile(at, sec).reader("ca_name")
        elif need == "clock":
            from .clock import reading
            clock = yield from reading(at)
    except (UbxError, ImportError):
        pass   # the request's failure is the news: report it with what is known
    if sec is not None:
        what += " on profile %d" % sec
    return HttpError(explain(what, http_profile, cls, code, ca, clock), cls, code)


def status(response):
    """The status code of a stored response ("HTTP/1.1 200 OK..." -> 200)."""
    head = bytes(response[:12])
    if head[:7] == b"HTTP/1." and head[8:9] == b" " and head[9:12].isdigit():
        return int(head[9:12])
    raise ProtocolError("no HTTP status line")
