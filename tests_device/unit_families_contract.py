"""The command families on the engine contract: every method that talks to
the module returns at.run() of one generator over the engine's exchange*()
(so ubxsec.aio's engine, whose run() returns an awaitable, serves the same
classes), and an exception a driver throws into that generator while it
waits (asyncio's CancelledError, Ctrl-C) still says what the module holds.

Deferred, below, is such an engine: run() returns a Pending that does
nothing until driven, and each exchange waits once (a yield) before the
real engine runs it, as an asyncio driver's awaits would."""

import ubxsec
from ubxsec.certs import CA, Certs
from ubxsec.profiles import SecurityProfile
from ubxsec.session import SessionKeeper
from fakeuart import FakeUart, reply, OK
from checks import raises, data_file, data_path, remove, scratch_path
from unit_certs import FakeModule, THAWTE_MD5
from unit_profiles import Store

SESSION = scratch_path("ubxsec_contract_sess.json")


class CancelledError(BaseException):
    """As asyncio's: not an Exception."""


class Pending:
    def __init__(self, gen):
        self.gen = gen

    def drive(self, throw_at=None, exc=None):
        """Run to the end; with throw_at, throw exc in at that wait (0: the
        first one the generator reaches)."""
        n = 0
        try:
            self.gen.send(None)
            while True:
                if n == throw_at:
                    self.gen.throw(exc)
                else:
                    self.gen.send(None)
                n += 1
        except StopIteration as stop:
            return stop.value


class Deferred:
    def __init__(self, at):
        self.real = at
        self.timeout_ms = at.timeout_ms
        self.trace = at.trace
        self.runs = 0

    @property
    def busy(self):
        return self.real.busy

    def on_urc(self, prefix, handler):
        self.real.on_urc(prefix, handler)

    def exchange(self, cmd, timeout_ms=None, **kw):
        yield "wait"
        return self.real.command(cmd, timeout_ms, **kw)

    def exchange_data(self, cmd, size, source, timeout_ms=None, **kw):
        yield "wait"
        return self.real.command_with_data(cmd, size, source, timeout_ms, **kw)

    def run(self, gen):
        self.runs += 1
        return Pending(gen)


def deferred(responder):
    uart = FakeUart(responder)
    m = ubxsec.Module(uart, timeout_ms=500)
    m.start()
    at = Deferred(m.at)
    return m, uart, at


def check(uart, at, call, want):
    """call() returns a Pending without a byte written; driven, it gives
    want; one run() for the whole call (none nested inside)."""
    written = len(uart.written)
    pending = call()
    assert isinstance(pending, Pending), pending
    assert len(uart.written) == written, "written before the generator ran"
    got = pending.drive()
    assert got == want, (got, want)
    assert at.runs == 1, at.runs
    at.runs = 0


def test_chip_id_runs_through_the_engine():
    m, uart, at = deferred(lambda line: reply('+USECCHIP: "078F5AB27E1BC108"', "OK")
                           if line == b"AT+USECCHIP" else None)
    m.at = at
    check(uart, at, m.chip_id, "078F5AB27E1BC108")


def test_certs_methods_run_through_the_engine():
    fake = FakeModule()
    fake.lines['AT+USECMNG=4,0,"ThawteCA"'] = reply('+USECMNG: 4,0,"ThawteCA","%s"' % THAWTE_MD5, "OK")
    fake.lines['AT+USECMNG=2,0,"ThawteCA"'] = OK
    fake.lines["AT+USECMNG=3"] = reply('"CA","ThawteCA","thawte","2036/07/17"', "OK")
    fake.lines['AT+USECMNG=1,0,"T","t.pem"'] = reply('+USECMNG: 1,0,"T","%s"' % THAWTE_MD5, "OK")
    m, uart, at = deferred(fake)
    c = Certs(at, 115200)
    pem = data_file("thawte.pem")
    check(uart, at, lambda: c.import_bytes(pem, CA, "ThawteCA"), THAWTE_MD5)
    check(uart, at, lambda: c.import_file(data_path("thawte.pem"), CA, "ThawteCA"), THAWTE_MD5)
    check(uart, at, lambda: c.md5(CA, "ThawteCA"), THAWTE_MD5)
    check(uart, at, lambda: c.remove(CA, "ThawteCA"), None)
    pending = c.list()
    assert isinstance(pending, Pending) and pending.drive()[0].name == "ThawteCA"
    at.runs = 0
    check(uart, at, lambda: c.upload(pem, "t.pem"), len(pem))
    check(uart, at, lambda: c.import_from_module_file("t.pem", CA, "T"), THAWTE_MD5)


def test_profile_methods_run_through_the_engine():
    store = Store()
    m, uart, at = deferred(store)
    p = SecurityProfile(at, 1)
    check(uart, at, lambda: p.validation_level(3), None)
    check(uart, at, p.validation_level, 3)
    check(uart, at, lambda: p.server_hostname("a.example"), None)
    check(uart, at, lambda: p.psk_identity("id"), None)
    check(uart, at, p.psk_identity, ("id", False))
    check(uart, at, lambda: p.pinning("pin", 1), None)
    check(uart, at, p.pinning, ("pin", 1))
    check(uart, at, lambda: p.cipher_list([0xC02B, 0xC02F]), None)   # a read, then two adds
    check(uart, at, p.ciphers, ("list", [0xC02B, 0xC02F]))
    check(uart, at, lambda: p.cipher_suite_iana(0xC02B), None)
    check(uart, at, lambda: p.session_status(1), None)
    check(uart, at, p.session_status, 1)
    check(uart, at, lambda: p.apply({"ca_name": "x", "cipher_list": [0xC02F]}), None)
    pending = p.read_all()
    assert isinstance(pending, Pending)
    got = pending.drive()
    assert got["ca_name"] == "x" and got["cipher_list"] == [0xC02F] and got["session_status"] == 1, got
    at.runs = 0
    check(uart, at, p.reset, None)


def test_session_keeper_runs_through_the_engine():
    store = Store()
    m, uart, at = deferred(store)
    k = SessionKeeper(at)
    check(uart, at, lambda: k.capture(2), False)   # two reads in one run: status 0, none held
    remove(SESSION)
    with open(SESSION, "w") as f:
        f.write('{"v": 1, "id": 2, "tag": 3, "data": ["QUJD"]}')
    try:
        check(uart, at, lambda: k.restore(SESSION), None)
    finally:
        remove(SESSION)
    assert k.has_data(2)


def test_a_cancelled_import_says_what_the_module_holds():
    for held, tail in ((None, "the module does not hold it"),
                       ("0" * 32, "the module holds MD5 %s under that name (the data did not all go out)"
                        % ("0" * 32))):
        fake = FakeModule()
        fake.lines['AT+USECMNG=4,0,"Slow"'] = (reply("+CME ERROR: 22") if held is None else
                                               reply('+USECMNG: 4,0,"Slow","%s"' % held, "OK"))
        m, uart, at = deferred(fake)
        for exc_type in (CancelledError, KeyboardInterrupt):
            pending = Certs(at, 115200).import_file(data_path("thawte.pem"), CA, "Slow")
            # waits 0-2: the other kinds' listings; 3: the import's data phase
            exc = raises(exc_type, pending.drive, 3, exc_type())
            text = str(exc)
            assert text.startswith("import CA 'Slow' from ") and text.endswith(": " + tail), text
    # closing a waiting import (its task dropped) raises nothing more
    pending = Certs(at, 115200).import_bytes(data_file("thawte.der"), CA, "Slow")
    pending.gen.send(None)
    pending.gen.close()
