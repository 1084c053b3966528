"""SecurityProfile (+USECPRF) against the scripted FakeUart: the exact bytes
of every set and read, every refusal before a byte is written, strict
parsing of answers, apply()/read_all()."""

from ubxsec.at import AtEngine
from ubxsec.errors import CmeError, ProtocolError
from ubxsec.profiles import SecurityProfile
from ubxsec.ring import Ring
from fakeuart import FakeUart, PromptReply, reply, OK
from checks import raises, wire

# the spec's examples
SID = "VWY5UENs0Hh3VWR1MjB2WTVMYVZ5TTdE0WpMeWZWeHo="
MS = "SHVSODByUit0My9OMEtIT2ZsVVFRcUsyTkdvaz0nWVFhRzdQZUpndG9IMzN4ZTBo"
PSK = "0sFpZ0AZqE0N6Ti9s0qt40ZP5Eqx"
PSK_ID = "0ceEZ0AZqP0K60i9o04xz0ZP8zyu0Eqx"
HOST_253 = ("h" * 63 + ".") * 3 + "h" * 61   # the longest hostname (op 4 takes 256 chars)
TICKET = "MIHOAgECAgMAzKgEMDZV" + "A" * 308 + "yQ=="   # 332 chars, as the spec's


def rig(responder=None, pid=0, trace=None, line_max=512, ring=1024):
    """(fake uart, engine, profile). responder(line) -> bytes; OK if None."""
    uart = FakeUart(responder or (lambda line: OK))
    at = AtEngine(uart, Ring(ring, uart), timeout_ms=300, trace=trace,
                  line_max=line_max, probe_ms=100, quiet_ms=10)
    return uart, at, SecurityProfile(at, pid)


def answering(*lines):
    """A responder answering every command with these lines and OK."""
    data = reply(*(lines + ("OK",)))
    return lambda line: data


class Store:
    """A pretend +USECPRF: keeps the parameter text last set per op (and per
    session tag), the cipher list per the spec's add/remove rules, and
    answers reads with them. Key password and PSK are not readable."""

    FACTORY = {"0": "1", "1": "0", "2": "0", "3": '""', "4": '""', "5": '""',
               "6": '""', "9": '""', "10": '""', "11": "0", "12": '"",0',
               "13,0": "0", "13,1": "1", "13,3": '"",0', "14": "0", "15": '""',
               "16": "0"}

    def __init__(self):
        self.vals = dict(self.FACTORY)
        self.suites = []

    def __call__(self, line):
        text = line.decode()
        if not text.startswith("AT+USECPRF="):
            return None
        parts = text[11:].split(",")
        if len(parts) == 1:
            self.__init__()
            return OK
        pid, op = parts[0], parts[1]
        n = 3 if op == "13" else 2
        key = ",".join(parts[1:n])
        rest = ",".join(parts[n:])
        if op == "2" and rest == "" and self.suites:
            return reply('+USECPRF: %s,2,100,"%s"' % (pid, ";".join(self.suites)), "OK")
        if rest == "":
            if key not in self.vals:
                return reply("+CME ERROR: 3")
            return reply("+USECPRF: %s,%s,%s" % (pid, key, self.vals[key]), "OK")
        if op == "2" and rest.startswith("100,"):
            code = parts[3][1:3] + parts[4][1:3]
            if parts[5] == "0":
                self.suites.append(code)
            else:
                self.suites.remove(code)
                if not self.suites:
                    self.vals["2"] = "0"
            return OK
        if op == "2":
            self.suites = []
        if op != "7" and op != "8":
            self.vals[key] = rest
        return OK


# -- sets: exact bytes ----------------------------------------------------

def test_every_set_writes_the_spec_syntax():
    uart, at, p = rig(pid=3)
    cases = (
        (lambda: p.reset(), "+USECPRF=3"),
        (lambda: p.validation_level(0), "+USECPRF=3,0,0"),
        (lambda: p.validation_level(3), "+USECPRF=3,0,3"),
        (lambda: p.tls_version(0), "+USECPRF=3,1,0"),
        (lambda: p.tls_version(4), "+USECPRF=3,1,4"),   # the module decides
        (lambda: p.cipher_suite(0), "+USECPRF=3,2,0"),
        (lambda: p.cipher_suite(33), "+USECPRF=3,2,33"),
        (lambda: p.cipher_suite(10), "+USECPRF=3,2,10"),  # refused by the module
        (lambda: p.cipher_suite_iana(0xC02B), '+USECPRF=3,2,99,"C0","2B"'),
        (lambda: p.cipher_suite_iana(0x000A), '+USECPRF=3,2,99,"00","0A"'),
        (lambda: p.add_cipher(0xC02A), '+USECPRF=3,2,100,"C0","2A",0'),
        (lambda: p.remove_cipher(0xC02B), '+USECPRF=3,2,100,"C0","2B",1'),
        (lambda: p.ca_name("ca_iname"), '+USECPRF=3,3,"ca_iname"'),
        (lambda: p.ca_name(""), '+USECPRF=3,3,""'),
        (lambda: p.ca_name("c" * 200), '+USECPRF=3,3,"%s"' % ("c" * 200)),
        (lambda: p.server_hostname(HOST_253), '+USECPRF=3,4,"%s"' % HOST_253),
        (lambda: p.client_cert_name("cc_iname"), '+USECPRF=3,5,"cc_iname"'),
        (lambda: p.client_key_name("pk_iname"), '+USECPRF=3,6,"pk_iname"'),
        (lambda: p.key_password("x" * 128), '+USECPRF=3,7,"%s"' % ("x" * 128)),
        (lambda: p.psk(PSK), '+USECPRF=3,8,"%s"' % PSK),
        (lambda: p.psk("k" * 64), '+USECPRF=3,8,"%s"' % ("k" * 64)),
        (lambda: p.psk("00aBfF", True), '+USECPRF=3,8,"00aBfF",1'),
        (lambda: p.psk("ab" * 64, True), '+USECPRF=3,8,"%s",1' % ("ab" * 64)),
        (lambda: p.psk_identity(PSK_ID), '+USECPRF=3,9,"%s"' % PSK_ID),
        (lambda: p.psk_identity("0001ff22", True), '+USECPRF=3,9,"0001ff22",1'),
        (lambda: p.psk_identity("f" * 256, True), '+USECPRF=3,9,"%s",1' % ("f" * 256)),
        (lambda: p.sni("sni.example"), '+USECPRF=3,10,"sni.example"'),
        (lambda: p.psk_from_rot(True), "+USECPRF=3,11,1"),
        (lambda: p.psk_from_rot(0), "+USECPRF=3,11,0"),
        (lambda: p.pinning("my_srv_cert", 0), '+USECPRF=3,12,"my_srv_cert",0'),
        (lambda: p.pinning("c", 2), '+USECPRF=3,12,"c",2'),
        (lambda: p.pinning("c"), '+USECPRF=3,12,"c",0'),
        (lambda: p.session_status(1), "+USECPRF=3,13,0,1"),
        (lambda: p.session_status(2), "+USECPRF=3,13,0,2"),
        (lambda: p.session_type(1), "+USECPRF=3,13,1,1"),
        (lambda: p.session_type(13), "+USECPRF=3,13,1,13"),
        (lambda: p.session_data(2, SID, MS), '+USECPRF=3,13,2,"%s","%s"' % (SID, MS)),
        (lambda: p.session_data(3, TICKET), '+USECPRF=3,13,3,"%s",332' % TICKET),
        (lambda: p.session_data(3, ""), '+USECPRF=3,13,3,"",0'),
        (lambda: p.session_data(12, "QUJD"), '+USECPRF=3,13,12,"QUJD",4'),
        (lambda: p.session_data(13, "QUI="), '+USECPRF=3,13,13,"QUI=",4'),
        (lambda: p.ztp(0), "+USECPRF=3,14,0"),
        (lambda: p.ztp(2), "+USECPRF=3,14,2"),
        (lambda: p.alpn("FTP"), '+USECPRF=3,15,"FTP"'),
        (lambda: p.alpn("h2,http/1.1"), '+USECPRF=3,15,"h2,http/1.1"'),
        (lambda: p.database(1), "+USECPRF=3,16,1"),
    )
    for call, cmd in cases:
        before = len(uart.written)
        assert call() is None
        got = bytes(uart.written[before:])
        assert got == wire(cmd), (cmd, got)


def test_list_add_and_remove_send_each_code_in_order():
    uart, at, p = rig()
    p.add_cipher([0xC02A, 0xC02C])
    p.remove_cipher((0xC02C,))
    assert bytes(uart.written) == wire('+USECPRF=0,2,100,"C0","2A",0',
                                       '+USECPRF=0,2,100,"C0","2C",0',
                                       '+USECPRF=0,2,100,"C0","2C",1')


def _prompt_responder(store):
    def responder(line):
        store.append(line)
        if line.startswith(b"AT+USECPRF=1,13,5,") or line.startswith(b"AT+USECPRF=1,13,15,"):
            n = int(line.split(b",")[-1])
            return PromptReply(b">", n, lambda data: OK)
        return OK
    return responder


def test_session_data_5_and_15_go_after_the_prompt():
    seen = []
    uart, at, p = rig(_prompt_responder(seen), pid=1)
    data = "NjQwM0IwMDEzMDgyMDFB" * 116   # 2320 chars, as the spec's
    p.session_data(5, data)
    p.session_data(15, "QUJD")
    assert seen == [b"AT+USECPRF=1,13,5,2320", b"AT+USECPRF=1,13,15,4"]
    assert uart.payloads == [data.encode(), b"QUJD"]
    assert bytes(uart.written) == (b"AT+USECPRF=1,13,5,2320\r" + data.encode()
                                   + b"AT+USECPRF=1,13,15,4\r" + b"QUJD")


def test_session_data_of_8192_chars_is_accepted():
    uart, at, p = rig()
    p.session_data(13, "A" * 8192)
    assert bytes(uart.written) == wire('+USECPRF=0,13,13,"%s",8192' % ("A" * 8192))


# -- reads: exact bytes and typed results -----------------------------------

def test_every_read_sends_the_read_form_and_types_the_answer():
    cases = (
        ("validation_level", (), "+USECPRF=2,0", "+USECPRF: 2,0,2", 2),
        ("tls_version", (), "+USECPRF=2,1", "+USECPRF: 2,1,3", 3),
        ("ca_name", (), "+USECPRF=2,3", '+USECPRF: 2,3,"ca_iname"', "ca_iname"),
        ("ca_name", (), "+USECPRF=2,3", '+USECPRF: 2,3,""', ""),
        ("server_hostname", (), "+USECPRF=2,4", '+USECPRF: 2,4,"h.example"', "h.example"),
        ("client_cert_name", (), "+USECPRF=2,5", '+USECPRF: 2,5,"cc"', "cc"),
        ("client_key_name", (), "+USECPRF=2,6", '+USECPRF: 2,6,"pk"', "pk"),
        ("psk_identity", (), "+USECPRF=2,9", '+USECPRF: 2,9,"id"', ("id", False)),
        ("psk_identity", (), "+USECPRF=2,9", '+USECPRF: 2,9,"0001FF22",1', ("0001FF22", True)),
        ("psk_identity", (), "+USECPRF=2,9", '+USECPRF: 2,9,"id",0', ("id", False)),
        ("sni", (), "+USECPRF=2,10", '+USECPRF: 2,10,"server_sni"', "server_sni"),
        ("psk_from_rot", (), "+USECPRF=2,11", "+USECPRF: 2,11,1", True),
        ("psk_from_rot", (), "+USECPRF=2,11", "+USECPRF: 2,11,0", False),
        ("pinning", (), "+USECPRF=2,12", '+USECPRF: 2,12,"my_srv_cert",2', ("my_srv_cert", 2)),
        ("session_status", (), "+USECPRF=2,13,0", "+USECPRF: 2,13,0,2", 2),
        ("session_type", (), "+USECPRF=2,13,1", "+USECPRF: 2,13,1,1", 1),
        ("session_data", (2,), "+USECPRF=2,13,2", '+USECPRF: 2,13,2,"%s","%s"' % (SID, MS), (SID, MS)),
        ("session_data", (3,), "+USECPRF=2,13,3", '+USECPRF: 2,13,3,"%s",332' % TICKET, TICKET),
        ("session_data", (3,), "+USECPRF=2,13,3", '+USECPRF: 2,13,3,"",0', ""),
        ("session_data", (5,), "+USECPRF=2,13,5", '+USECPRF: 2,13,5,"QUJD",4', "QUJD"),
        ("session_data", (12,), "+USECPRF=2,13,12", '+USECPRF: 2,13,12,"QUJD",4', "QUJD"),
        ("session_data", (13,), "+USECPRF=2,13,13", '+USECPRF: 2,13,13,"QUI=",4', "QUI="),
        ("session_data", (15,), "+USECPRF=2,13,15", '+USECPRF: 2,13,15,"QUJD",4', "QUJD"),
        ("ztp", (), "+USECPRF=2,14", "+USECPRF: 2,14,2", 2),
        ("alpn", (), "+USECPRF=2,15", '+USECPRF: 2,15,"h2,http/1.1"', "h2,http/1.1"),
        ("database", (), "+USECPRF=2,16", "+USECPRF: 2,16,2", 2),
        ("database", (), "+USECPRF=2,16", "+USECPRF:2,16,1", 1),   # no space
    )
    for name, args, cmd, answer, want in cases:
        uart, at, p = rig(answering(answer), pid=2)
        got = getattr(p, name)(*args)
        assert got == want, (name, answer, got)
        assert type(got) is type(want), (name, got)
        assert bytes(uart.written) == wire(cmd), (name, bytes(uart.written))


def test_ciphers_reads_all_three_forms():
    cases = (
        ("+USECPRF: 0,2,0", ("legacy", 0)),
        ("+USECPRF: 0,2,33", ("legacy", 33)),
        ('+USECPRF: 0,2,99,"C0","2B"', ("iana", 0xC02B)),
        ('+USECPRF: 0,2,99,"00","9c"', ("iana", 0x009C)),
        ('+USECPRF: 0,2,100,"C02A;C02C"', ("list", [0xC02A, 0xC02C])),
        ('+USECPRF: 0,2,100,"1301"', ("list", [0x1301])),
    )
    for answer, want in cases:
        uart, at, p = rig(answering(answer))
        assert p.ciphers() == want, answer
        assert bytes(uart.written) == wire("+USECPRF=0,2")


def test_list_falls_back_to_legacy_0_when_emptied():
    store = Store()
    uart, at, p = rig(store)
    p.add_cipher([0xC02A, 0xC02C])
    assert p.ciphers() == ("list", [0xC02A, 0xC02C])
    p.remove_cipher(0xC02A)
    assert p.ciphers() == ("list", [0xC02C])
    p.remove_cipher(0xC02C)
    assert p.ciphers() == ("legacy", 0)
    p.cipher_suite_iana(0xC02B)
    assert p.ciphers() == ("iana", 0xC02B)


def test_cipher_list_adds_missing_then_removes_extra():
    store = Store()
    uart, at, p = rig(store)
    p.add_cipher([0xC02A, 0xC02C])
    start = len(uart.written)
    p.cipher_list([0xC02C, 0xC02F])
    assert bytes(uart.written[start:]) == wire("+USECPRF=0,2",
                                               '+USECPRF=0,2,100,"C0","2F",0',
                                               '+USECPRF=0,2,100,"C0","2A",1')
    assert p.ciphers() == ("list", [0xC02C, 0xC02F])


def test_cipher_list_from_another_form_only_adds():
    store = Store()
    uart, at, p = rig(store)
    p.cipher_suite_iana(0xC02B)
    start = len(uart.written)
    p.cipher_list([0xC02B, 0xC030])
    assert bytes(uart.written[start:]) == wire("+USECPRF=0,2",
                                               '+USECPRF=0,2,100,"C0","2B",0',
                                               '+USECPRF=0,2,100,"C0","30",0')
    assert p.ciphers() == ("list", [0xC02B, 0xC030])


# -- refusals before any byte ---------------------------------------------

def test_bad_values_raise_before_any_byte():
    uart, at, p = rig()
    b64 = "QUJD"
    bad = (
        lambda: SecurityProfile(at, 5),
        lambda: SecurityProfile(at, -1),
        lambda: SecurityProfile(at, "0"),
        lambda: SecurityProfile(at, True),
        lambda: p.validation_level(4),
        lambda: p.validation_level(-1),
        lambda: p.validation_level("1"),
        lambda: p.validation_level(True),
        lambda: p.validation_level(1.0),
        lambda: p.tls_version(5),
        lambda: p.cipher_suite(34),
        lambda: p.cipher_suite(99),
        lambda: p.cipher_suite(100),
        lambda: p.cipher_suite(-1),
        lambda: p.cipher_suite_iana(0xC001),      # not in Table 26
        lambda: p.cipher_suite_iana(0x10000),
        lambda: p.cipher_suite_iana(-1),
        lambda: p.cipher_suite_iana("C02B"),
        lambda: p.cipher_suite_iana(True),
        lambda: p.cipher_suite_iana([0xC02B]),
        lambda: p.add_cipher([]),
        lambda: p.add_cipher([0xC02B, 0xC02B]),
        lambda: p.add_cipher([0xC02B, 0x1234]),  # the good first one is not sent
        lambda: p.remove_cipher([0xC02B, "C02C"]),
        lambda: p.cipher_list([]),
        lambda: p.cipher_list([0xC02B, 0xC001]),  # refused before its read
        lambda: p.ca_name("c" * 201),
        lambda: p.ca_name('a"b'),
        lambda: p.ca_name("a\r\nAT+CFUN=0"),
        lambda: p.ca_name("a\x00"),
        lambda: p.ca_name("caf\u00e9"),
        lambda: p.ca_name(b"ca"),
        lambda: p.ca_name(5),
        lambda: p.server_hostname("h" * 257),
        lambda: p.client_cert_name("c" * 201),
        lambda: p.client_key_name("k" * 201),
        lambda: p.key_password("x" * 129),
        lambda: p.key_password(None),
        lambda: p.key_password('pa"ss'),
        lambda: p.psk("k" * 65),
        lambda: p.psk("ab" * 64 + "ab", True),
        lambda: p.psk("abc", True),           # odd number of hex digits
        lambda: p.psk("zz", True),
        lambda: p.psk("0x12", True),
        lambda: p.psk("ab", 1),               # hex must be a bool
        lambda: p.psk(None),
        lambda: p.psk_identity("i" * 129),
        lambda: p.psk_identity("ab" * 128 + "ab", True),
        lambda: p.psk_identity("a b", True),
        lambda: p.sni("s" * 129),
        lambda: p.psk_from_rot(2),
        lambda: p.psk_from_rot("1"),
        lambda: p.pinning("c" * 201, 0),
        lambda: p.pinning("c", 3),
        lambda: p.pinning("c", "0"),
        lambda: p.session_status(3),
        lambda: p.session_type(2),
        lambda: p.session_type(12),
        lambda: p.session_data(4, b64),
        lambda: p.session_data(0, b64),
        lambda: p.session_data(3, "QU*D"),
        lambda: p.session_data(3, "QU JD"),
        lambda: p.session_data(3, "A" * 8193),
        lambda: p.session_data(3, b64, b64),
        lambda: p.session_data(3, b"QUJD"),
        lambda: p.session_data(2, SID),
        lambda: p.session_data(2, "A" * 45, MS),
        lambda: p.session_data(2, SID, "B" * 65),
        lambda: p.session_data(2, "", MS),
        lambda: p.session_data(5, ""),
        lambda: p.session_data(15, "A" * 8193),
        lambda: p.ztp(3),
        lambda: p.alpn("a" * 256),
        lambda: p.database(3),
        lambda: p.apply({"nonsense": 1}),
        lambda: p.apply({"ca_name": None}),
        lambda: p.apply({"cipher_suite": 1, "cipher_suite_iana": 0xC02B}),
        lambda: p.apply({"cipher_list": [0xC02B], "add_cipher": 0xC02C}),
        lambda: p.apply({"validation_level": 1, "ca_name": "ok", "database": 7}),
        lambda: p.apply({"ca_name": "ok", "psk": ("abc", True)}),
        lambda: p.apply({"pinning": ("c", 5)}),
        lambda: p.apply({"session_data": (3, "QU*D")}, True),
    )
    for i, call in enumerate(bad):
        raises(ValueError, call)
        assert uart.written == b"", (i, bytes(uart.written))
    assert uart.commands == []


# -- strict parsing of answers --------------------------------------------

def test_malformed_answers_raise_protocol_error():
    cases = (
        ("validation_level", (), ()),                           # no line
        ("validation_level", (), ("+USECPRF: 0,0,2", "+USECPRF: 0,0,2")),
        ("validation_level", (), ("+USECPRF: 1,0,2",)),         # other profile
        ("validation_level", (), ("+USECPRF: 0,1,2",)),         # other op
        ("validation_level", (), ("+USECMNG: 0,0,2",)),
        ("validation_level", (), ("+USECPRF: 0,0,4",)),         # out of range
        ("validation_level", (), ('+USECPRF: 0,0,"2"',)),       # str for int
        ("validation_level", (), ("+USECPRF: 0,0,2,1",)),       # extra field
        ("validation_level", (), ("+USECPRF: 0,0,-1",)),
        ("validation_level", (), ("+USECPRF: 0,0, 2",)),
        ("validation_level", (), ("+USECPRF: 0,0,",)),
        ("validation_level", (), ("+USECPRF: 0,0",)),
        ("validation_level", (), ("+USECPRF: 0,0,0x1",)),
        ("tls_version", (), ("+USECPRF: 0,1,5",)),
        ("ca_name", (), ("+USECPRF: 0,3,5",)),                  # int for str
        ("ca_name", (), ('+USECPRF: 0,3,"abc',)),               # unterminated
        ("ca_name", (), ('+USECPRF: 0,3,"a"b"',)),
        ("ca_name", (), ('+USECPRF: 0,3,"%s"' % ("c" * 201),)),
        ("ca_name", (), ("+USECPRF: 0,3,abc",)),
        ("psk_identity", (), ('+USECPRF: 0,9,"abc",2',)),
        ("psk_identity", (), ('+USECPRF: 0,9,"%s"' % ("i" * 129),)),
        ("psk_from_rot", (), ("+USECPRF: 0,11,2",)),
        ("pinning", (), ('+USECPRF: 0,12,"c"',)),
        ("pinning", (), ('+USECPRF: 0,12,"c",3',)),
        ("pinning", (), ('+USECPRF: 0,12,0,0',)),
        ("ciphers", (), ("+USECPRF: 0,2,34",)),
        ("ciphers", (), ('+USECPRF: 0,2,99,"C0"',)),
        ("ciphers", (), ('+USECPRF: 0,2,99,"C0","2G"',)),
        ("ciphers", (), ('+USECPRF: 0,2,99,"C0","+1"',)),
        ("ciphers", (), ('+USECPRF: 0,2,100,"C02A;C0"',)),
        ("ciphers", (), ('+USECPRF: 0,2,100,"C02A,C02C"',)),
        ("ciphers", (), ("+USECPRF: 0,2,100,5",)),
        ("ciphers", (), ('+USECPRF: 0,2,"0"',)),
        ("session_status", (), ("+USECPRF: 0,13,0,3",)),
        ("session_status", (), ("+USECPRF: 0,13,1,1",)),       # other tag
        ("session_type", (), ("+USECPRF: 0,13,1,2",)),
        ("session_data", (3,), ('+USECPRF: 0,13,3,"QUJD",5',)),  # size mismatch
        ("session_data", (3,), ('+USECPRF: 0,13,3,"QU*D",4',)),
        ("session_data", (3,), ('+USECPRF: 0,13,3,"QUJD"',)),
        ("session_data", (2,), ('+USECPRF: 0,13,2,"%s"' % SID,)),
        ("session_data", (2,), ('+USECPRF: 0,13,2,"%s","%s"' % (SID + "A", MS),)),
        ("ztp", (), ("+USECPRF: 0,14,3",)),
        ("alpn", (), ('+USECPRF: 0,15,"%s"' % ("a" * 256),)),
        ("database", (), ("+USECPRF: 0,16,3",)),
    )
    for name, args, lines in cases:
        uart, at, p = rig(answering(*lines), line_max=512)
        raises(ProtocolError, getattr(p, name), *args)
        # the module answered OK: the engine is in sync for the next command
        uart.responder = answering("+USECPRF: 0,0,1")
        assert p.validation_level() == 1, (name, lines)


def test_module_refusal_is_a_cme_error():
    uart, at, p = rig(lambda line: reply("+CME ERROR: operation not supported"))
    err = raises(CmeError, p.tls_version, 4)
    assert err.text == "operation not supported"


# -- whole configurations ---------------------------------------------------

CONFIG = {
    "validation_level": 3,
    "tls_version": 3,
    "cipher_list": [0xC02B, 0xC02F],
    "ca_name": "ca_iname",
    "server_hostname": "server.example",
    "client_cert_name": "cc_iname",
    "client_key_name": "pk_iname",
    "key_password": "xxxxx",
    "psk": ("00aBfF", True),
    "psk_identity": (PSK_ID, False),
    "sni": "sni.example",
    "psk_from_rot": True,
    "pinning": ("my_srv_cert", 1),
    "session_status": 1,
    "session_type": 1,
    "ztp": 2,
    "alpn": "h2",
    "database": 1,
}


def test_apply_then_read_all_round_trips():
    store = Store()
    uart, at, p = rig(store)
    p.apply(CONFIG)
    got = p.read_all()
    want = dict(CONFIG)
    del want["key_password"]
    del want["psk"]
    assert got == want, got
    # read_all() feeds apply() as is
    other = SecurityProfile(at, 1)
    other.apply(got)
    assert other.read_all() == got


def test_apply_sends_in_op_order_after_checking_all():
    uart, at, p = rig(Store())
    p.apply({"database": 2, "add_cipher": [0xC02A], "remove_cipher": 0xC02A,
             "session_data": (3, "QUJD"), "tls_version": 3,
             "key_password": "pw", "validation_level": 0})
    assert bytes(uart.written) == wire("+USECPRF=0,0,0", "+USECPRF=0,1,3",
                                       '+USECPRF=0,2,100,"C0","2A",0',
                                       '+USECPRF=0,2,100,"C0","2A",1',
                                       '+USECPRF=0,7,"pw"',
                                       '+USECPRF=0,13,3,"QUJD",4',
                                       "+USECPRF=0,16,2")


def test_apply_reset_first_and_cipher_list_from_factory():
    store = Store()
    uart, at, p = rig(store)
    p.add_cipher([0xC02A])
    start = len(uart.written)
    p.apply({"cipher_list": [0xC02B], "sni": "s"}, reset=True)
    # no read: after the reset the list is empty
    assert bytes(uart.written[start:]) == wire("+USECPRF=0",
                                               '+USECPRF=0,2,100,"C0","2B",0',
                                               '+USECPRF=0,10,"s"')
    assert p.ciphers() == ("list", [0xC02B])


def test_apply_stops_at_a_module_refusal():
    def responder(line):
        return reply("+CME ERROR: 4") if line == b"AT+USECPRF=0,1,4" else OK
    uart, at, p = rig(responder)
    raises(CmeError, p.apply, {"validation_level": 1, "tls_version": 4, "sni": "s"})
    assert uart.commands == [b"AT+USECPRF=0,0,1", b"AT+USECPRF=0,1,4"]


def test_secrets_never_reach_the_trace():
    lines = []

    def responder(line):
        if line == b"AT+USECPRF=0,9":
            return reply('+USECPRF: 0,9,"%s"' % PSK_ID, "OK")
        if line == b"AT+USECPRF=0,13,3":
            return reply('+USECPRF: 0,13,3,"%s",332' % TICKET, "OK")
        if line.startswith(b"AT+USECPRF=0,13,5,"):
            return PromptReply(b">", 4, lambda data: OK)
        return OK

    uart, at, p = rig(responder, trace=lines.append)
    p.key_password("hunter22")
    p.psk(PSK)
    p.psk("00aBfF", True)
    p.psk_identity(PSK_ID)
    assert p.psk_identity() == (PSK_ID, False)
    p.session_data(2, SID, MS)
    p.session_data(3, TICKET)
    assert p.session_data(3) == TICKET
    p.session_data(5, "QUJD")
    p.ca_name("visible")
    text = "\n".join(lines)
    for secret in ("hunter22", PSK, "00aBfF", PSK_ID, SID, MS, TICKET, "QUJD"):
        assert secret not in text, secret
    assert "visible" in text   # the trace does work


def test_apply_with_too_few_arguments_never_reads():
    # an empty tuple (or a bare tag for session_data) would call the getter:
    # refused before any byte is written
    for config in ({"psk_identity": ()}, {"pinning": ()}, {"session_data": (3,)},
                   {"session_data": 3}):
        uart, at, p = rig(pid=1)
        raises(ValueError, p.apply, config)
        assert bytes(uart.written) == b"", config


def test_malformed_secret_answer_is_not_repeated_in_the_error():
    secret = "SECRETTICKETb64=="
    uart, at, p = rig(answering('+USECPRF: 0,13,3,"%s", 17' % secret), line_max=600)
    exc = raises(ProtocolError, p.session_data, 3)
    assert secret not in str(exc)


def test_ciphers_reads_form_99_as_one_four_digit_string():
    # ubxlib documents the read-back of form 99 as one string: "C02A"
    for answer, want in (('+USECPRF: 0,2,99,"C02A"', ("iana", 0xC02A)),
                         ('+USECPRF:0,2,99,"009c"', ("iana", 0x009C))):
        uart, at, p = rig(answering(answer))
        assert p.ciphers() == want, answer
    for answer in ('+USECPRF: 0,2,99,"C02"', '+USECPRF: 0,2,99,"C02AB"', '+USECPRF: 0,2,99,"G02A"'):
        uart, at, p = rig(answering(answer))
        raises(ProtocolError, p.ciphers)


def test_hostnames_are_checked_as_make_provision_checks_them():
    why = " is not a hostname (letters, digits, '-' and dots; no spaces)"
    uart, at, p = rig()
    for setter, bad in (("server_hostname", "bad host.com"), ("sni", "bad host.com"),
                        ("server_hostname", "-lead.example.com"),
                        ("sni", "a..b"), ("server_hostname", "x" * 64 + ".com"),
                        ("server_hostname", "under_score.com")):
        exc = raises(ValueError, getattr(p, setter), bad)
        assert str(exc) == setter + ": " + repr(bad) + why, str(exc)
    exc = raises(ValueError, p.apply, {"server_hostname": "www.example .com"})
    assert str(exc) == "server_hostname: 'www.example .com'" + why, str(exc)
    assert not uart.written
    # hostnames, an IPv4 address, a trailing dot, and "" (no name) are taken
    for good in ("www.example.com", "a-b.c", "1.2.3.4", "example.com.", "x" * 63, ""):
        p.server_hostname(good)
        p.sni(good)
    assert uart.commands[-1] == b'AT+USECPRF=0,10,""'
