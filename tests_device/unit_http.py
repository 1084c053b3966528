"""ubxsec.http (+UHTTP, +UHTTPC, +UUHTTPCR, +URDFILE) against the scripted FakeUart."""

from ubxsec import errors
from ubxsec.at import AtEngine
from ubxsec.http import Http, HttpError, explain, failure, needs, status
from ubxsec.ring import Ring
from fakeuart import FakeUart, reply, OK
from checks import raises as _raises

GET = b'AT+UHTTPC=0,1,"/","https.resp"'


class LaterUart(FakeUart):
    """FakeUart whose module sends `later` (one URC per entry) only after
    the command `after_cmd` was received and the receiver looked `after`
    more times: a URC that comes while the library waits, not with the OK."""

    def __init__(self, responder, later=(), after_cmd=b"AT+UHTTPC=", after=5, **kw):
        super().__init__(responder, **kw)
        self.later = list(later)
        self.after_cmd = after_cmd
        self.after = after
        self.looks = 0

    def any(self):
        if not self._in_irq and self.later and \
                any(c.startswith(self.after_cmd) for c in self.commands):
            self.looks += 1
            if self.looks >= self.after:
                self.looks = 0
                self._pending += self.later.pop(0)
        return super().any()


def _engine(responder, later=(), timeout_ms=300, **kw):
    uart = LaterUart(responder, later, **kw)
    ring = Ring(1024, uart)
    uart.irq(handler=ring.irq_handler, trigger=uart.IRQ_RXIDLE, hard=True)
    at = AtEngine(uart, ring, timeout_ms=timeout_ms, probe_ms=150, quiet_ms=20)
    return uart, at


def _ok_to_all(line):
    return OK


def _urc(text):
    return b"\r\n" + text + b"\r\n"


# -- settings ------------------------------------------------------------------

def test_settings_send_exact_commands():
    uart, at = _engine(_ok_to_all)
    h = Http(at, 1)
    h.reset()
    h.server("server.test")
    h.server("10.0.0.1.example", 8443)
    h.secure(2)
    h.secure(0)
    h.secure(None)
    assert uart.commands == [b"AT+UHTTP=1", b'AT+UHTTP=1,1,"server.test"',
                             b'AT+UHTTP=1,1,"10.0.0.1.example"', b"AT+UHTTP=1,5,8443",
                             b"AT+UHTTP=1,6,1,2", b"AT+UHTTP=1,6,1,0", b"AT+UHTTP=1,6,0"]


def test_bad_parameters_are_refused_before_any_byte():
    uart, at = _engine(_ok_to_all)
    for profile in (-1, 4, True, "0"):
        _raises(ValueError, Http, at, profile)
    h = Http(at, 0)
    for name in ("", 'a"b', "a\r\nAT+CFUN=16", "x" * 129, 5):
        _raises(ValueError, h.server, name)
    for port in (0, 65536, "443", True):
        _raises(ValueError, h.server, "ok.test", port)
    for sec in (-1, 5, True, "2"):
        _raises(ValueError, h.secure, sec)
    for path, filename in (("", "f"), ("/", ""), ('/"', "f"), ("/", "f\x00"),
                           ("/" * 129, "f"), ("/", "f" * 249), (b"/", "f")):
        _raises(ValueError, h.get, path, filename, 50)
    for filename in ("", 'a"', "a\nb", "f" * 249):
        _raises(ValueError, h.read_file, filename)
    assert uart.written == b""
    assert uart.commands == []


def test_module_refusal_is_a_cme_error():
    uart, at = _engine(lambda line: reply(b"+CME ERROR: operation not allowed"))
    exc = _raises(errors.CmeError, Http(at).get, "/", "https.resp", 100)
    assert exc.text == "operation not allowed"
    assert uart.commands == [GET]


# -- GET and the +UUHTTPCR wait -----------------------------------------------

def test_get_waits_for_the_urc_that_comes_later():
    uart, at = _engine(_ok_to_all, later=[_urc(b"+UUHTTPCR: 0,1,1")], after=20)
    h = Http(at)
    assert h.get("/", "https.resp", 2000) is None
    assert uart.commands == [GET]
    assert uart.later == []          # it returned only once the URC was sent
    assert at.urc_dropped == 0 and at.urc_errors == 0


def test_urc_arriving_with_the_ok_is_taken():
    uart, at = _engine(lambda line: OK + _urc(b"+UUHTTPCR: 2,1,1"))
    Http(at, 2).get("/index.html", "idx", 500)
    assert uart.commands == [b'AT+UHTTPC=2,1,"/index.html","idx"']


def test_result_0_raises_http_error():
    uart, at = _engine(_ok_to_all, later=[_urc(b"+UUHTTPCR: 0,1,0")])
    exc = _raises(HttpError, Http(at).get, "/", "https.resp", 2000)
    assert isinstance(exc, errors.UbxError)
    assert "result 0" in str(exc)


def _failing(uhttper, ca=None, cclk=None):
    """A module whose GET fails and that answers AT+UHTTPER (and the CA name
    of profile 2 and its clock) as given; None: a bare OK."""
    def responder(line):
        if line == b"AT+UHTTPER=0":
            return reply(uhttper, "OK") if uhttper else OK
        if line == b"AT+USECPRF=2,3" and ca is not None:
            return reply('+USECPRF: 2,3,"%s"' % ca, "OK")
        if line == b"AT+CCLK?" and cclk is not None:
            return reply('+CCLK: "%s"' % cclk, "OK")
        return OK
    return responder


def _get_error(responder, secure=2):
    uart, at = _engine(responder, later=[_urc(b"+UUHTTPCR: 0,1,0")])
    h = Http(at)
    if secure is not None:
        h.secure(secure)
    return uart, _raises(HttpError, h.get, "/", "https.resp", 2000)


def test_unknown_ca_names_the_profiles_ca():
    uart, exc = _get_error(_failing("+UHTTPER: 0,3,73", ca="ThawteCA"))
    assert str(exc) == ("GET / on profile 2: the server's certificate is not signed by "
                        "CA 'ThawteCA' (+UHTTPER: 0,3,73)")
    assert (exc.err_class, exc.err_code) == (3, 73)
    assert uart.commands[-2:] == [b"AT+UHTTPER=0", b"AT+USECPRF=2,3"]


def test_expired_names_the_module_clock_and_that_it_is_not_set():
    uart, exc = _get_error(_failing("+UHTTPER: 0,3,202", cclk="15/01/01,00:10:00+00"))
    assert str(exc) == ("GET / on profile 2: the server's certificate is expired by the "
                        "module's clock (2015/01/01), which is not set: set it with "
                        "m.set_clock() or wait for network time (+UHTTPER: 0,3,202)")
    assert uart.commands[-1] == b"AT+CCLK?"


def test_not_yet_valid_by_a_set_clock_says_only_the_date():
    uart, exc = _get_error(_failing("+UHTTPER: 0,3,203", cclk="26/12/07,10:00:00+00"))
    assert "not yet valid by the module's clock (2026/12/07) (+UHTTPER" in str(exc)
    assert "not set" not in str(exc)


def test_each_code_has_its_own_cause():
    texts = set()
    for code in (73, 201, 202, 203, 204, 205, 206, 207, 208, 209):
        text = explain("GET /", 1, 3, code)
        assert text.startswith("GET /: ") and text.endswith("(+UHTTPER: 1,3,%d)" % code)
        texts.add(text.split(" (+UHTTPER")[0])
    assert len(texts) == 10
    assert "client_cert_name" in explain("GET /", 0, 3, 204)
    assert "host name" in explain("GET /", 0, 3, 201)
    assert "in time" in explain("GET /", 0, 3, 206)
    assert explain("GET /", 0, 3, 73) == ("GET /: the server's certificate is not signed "
                                          "by a CA the profile trusts (+UHTTPER: 0,3,73)")
    assert explain("GET /", 0, 10, 22) == "GET /: the module's HTTP error (+UHTTPER: 0,10,22)"
    assert needs(3, 73) == "ca" and needs(3, 202) == needs(3, 203) == "clock"
    assert needs(3, 201) is None and needs(None, None) is None and needs(10, 73) is None


def test_the_failure_is_one_generator_driven_by_the_engines_run():
    # Http.error() is at.run(failure(...)): the asyncio front end drives the
    # same generator with awaits (unit_aio.py)
    uart, at = _engine(_failing("+UHTTPER: 0,3,202", cclk="26/12/07,10:00:00+00"))
    gen = failure(at, 0, 2, "GET /")
    assert hasattr(gen, "send") and uart.commands == []
    exc = at.run(gen)
    assert isinstance(exc, HttpError) and (exc.err_class, exc.err_code) == (3, 202)
    assert str(exc).startswith("GET / on profile 2: the server's certificate is expired by "
                               "the module's clock (2026/12/07) (+UHTTPER: 0,3,202)")
    assert uart.commands == [b"AT+UHTTPER=0", b"AT+CCLK?"]


def test_no_uhttper_answer_still_raises_with_result_0():
    uart, exc = _get_error(_failing(None), secure=None)
    assert str(exc).startswith("GET /: result 0")
    assert exc.err_class is None and exc.err_code is None


def test_a_refused_uhttper_still_raises_http_error():
    def responder(line):
        return reply("ERROR") if line == b"AT+UHTTPER=0" else OK
    uart, exc = _get_error(responder)
    assert str(exc).startswith("GET / on profile 2: result 0")


def test_no_urc_is_a_timeout_and_the_engine_stays_usable():
    uart, at = _engine(_ok_to_all)
    h = Http(at)
    _raises(errors.AtTimeout, h.get, "/", "https.resp", 60)
    h.secure(1)
    assert uart.commands == [GET, b"AT+UHTTP=0,6,1,1"]


def test_urcs_of_other_profiles_and_commands_do_not_end_the_wait():
    later = [_urc(b"+UUHTTPCR: 1,1,1"), _urc(b"+UUHTTPCR: 0,0,1"), _urc(b"+UUHTTPCR: 0,1,1")]
    uart, at = _engine(_ok_to_all, later=later, after=3)
    h0, h1 = Http(at, 0), Http(at, 1)
    h0.get("/", "https.resp", 2000)
    assert uart.later == []
    assert h1._result == (1, 1)      # profile 1's URC went to its own object
    assert h0._result == (1, 1)
    assert at.urc_dropped == 0       # every one had a handler


def test_urc_left_over_from_an_earlier_request_is_not_taken():
    uart, at = _engine(_ok_to_all)
    h = Http(at)
    uart.inject(_urc(b"+UUHTTPCR: 0,1,1"))   # arrives while idle, before the GET
    _raises(errors.AtTimeout, h.get, "/", "https.resp", 60)


def test_malformed_urc_is_counted_and_not_taken():
    uart, at = _engine(_ok_to_all, later=[_urc(b"+UUHTTPCR: 0,1"), _urc(b"+UUHTTPCR: 0,1,x")],
                       after=2)
    _raises(errors.AtTimeout, Http(at).get, "/", "https.resp", 100)
    assert at.urc_errors == 2
    assert isinstance(at.urc_error, errors.ProtocolError)


def test_urc_pieces_across_many_reads():
    uart, at = _engine(_ok_to_all, later=[_urc(b"+UUHTTPCR: 3,1,1")], piece=3)
    Http(at, 3).get("/p", "f", 2000)
    assert uart.commands == [b'AT+UHTTPC=3,1,"/p","f"']


# -- reading the response file -------------------------------------------------

# Raw file content: quotes, CR/LF, a line that looks like a final result,
# one like a URC and one like an echo, and a trailing quote.
RESPONSE = (b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Q: "a","b"\r\n\r\n'
            b'OK\r\n+UUHTTPCR: 0,1,0\r\nAT+CFUN=16\r\nERROR\n\n\r\r"end"')


def _urdfile(name, data, size=None, urc=b""):
    def responder(line):
        if line == b'AT+URDFILE="%s"' % name:
            return urc + reply(b'+URDFILE: "%s",%d,"' % (name, len(data) if size is None else size)
                               + data + b'"', b"OK")
        return None
    return responder


def test_read_file_returns_the_raw_bytes():
    for piece in (None, 7):
        uart, at = _engine(_urdfile(b"https.resp", RESPONSE), piece=piece)
        assert Http(at).read_file("https.resp") == RESPONSE
        assert uart.commands == [b'AT+URDFILE="https.resp"']
        assert at.urc_dropped == 0 and at.stray == 0


def test_read_file_into_a_sink():
    uart, at = _engine(_urdfile(b"f", RESPONSE), piece=5)
    got = bytearray()
    pieces = []

    def sink(mv):
        pieces.append(len(mv))
        got.extend(mv)

    assert Http(at).read_file("f", sink) == len(RESPONSE)
    assert got == RESPONSE
    assert len(pieces) > 1


def test_read_file_of_a_large_file_is_not_limited_by_the_line_buffer():
    data = bytes(range(256)) * 12   # 3 KB: six times line_max, three times the ring
    uart, at = _engine(_urdfile(b"big", data), timeout_ms=2000, piece=64)
    assert Http(at).read_file("big") == data


def test_read_file_dispatches_a_urc_before_the_answer():
    seen = []
    uart, at = _engine(_urdfile(b"f", b"x,1,\"", urc=_urc(b"+UUSECPRF: 2,13,0,2")))
    at.on_urc("+UUSECPRF:", seen.append)
    assert Http(at).read_file("f") == b'x,1,"'
    assert seen == ["+UUSECPRF: 2,13,0,2"]


def test_read_file_of_an_empty_file():
    uart, at = _engine(_urdfile(b"f", b""))
    assert Http(at).read_file("f") == b""


def test_read_file_missing_is_a_cme_error():
    uart, at = _engine(lambda line: reply(b"+CME ERROR: file not found"))
    exc = _raises(errors.CmeError, Http(at).read_file, "nope")
    assert exc.text == "file not found"


def test_read_file_with_an_answer_for_another_name_is_refused():
    uart, at = _engine(lambda line: reply(b'+URDFILE: "other",2,"ab"', b"OK"))
    _raises(errors.ProtocolError, Http(at).read_file, "f")


def test_read_file_with_a_short_payload_times_out():
    # the module announces 50 bytes and sends 10: the answer never completes
    uart, at = _engine(_urdfile(b"f", b"0123456789", size=50), timeout_ms=100)
    _raises(errors.AtTimeout, Http(at).read_file, "f")


# -- status line ---------------------------------------------------------------

def test_status_of_a_stored_response():
    assert status(RESPONSE) == 200
    assert status(b"HTTP/1.0 404 Not Found\r\n\r\n") == 404
    for bad in (b"", b"HTTP/1.1", b"hello", b"HTTP/1.1 2x0 OK"):
        _raises(errors.ProtocolError, status, bad)
