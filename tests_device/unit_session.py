"""+UUSECPRF parsing and SessionKeeper (capture, save, restore) against
the scripted FakeUart."""

import gc
import json

from ubxsec.at import AtEngine
from ubxsec.errors import ProtocolError
from ubxsec.ring import Ring
from ubxsec.session import SessionKeeper, parse_urc
from fakeuart import FakeUart, PromptReply, reply, OK
from checks import exists, raises, remove, scratch_path, wire

# the spec's examples
SID = "VWY5UENs0Hh3VWR1MjB2WTVMYVZ5TTdE0WpMeWZWeHo="
MS = "SHVSODByUit0My9OMEtIT2ZsVVFRcUsyTkdvaz0nWVFhRzdQZUpndG9IMzN4ZTBo"
TICKET = "MIHOAgECAgMAzKgEMDZV" + "A" * 308 + "yQ=="   # 332 chars, as the spec's
BIG = "A" * 8192    # the largest data; made once, before the heap fragments

# the spec's tag 12 example
ENC_SID = ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh/Ljgstf1cLaEO2D8IMbxHcQlGfhVxC0in6a"
           "GVlSJGBWCAAKJo6Qw5Q+ugXaRZFquG0O69WeHnPRBkcwY2SN4bwnDbyR+709i0pt2nlaYMSCL77MAA=")


PATH = scratch_path("ubxsec_unit_session.json")


def _clean():
    remove(PATH, PATH + ".tmp")


def keeper(responder=None, trace=None, line_max=512, ring=1024):
    """(fake uart, engine, keeper). responder(line) -> bytes; OK if None."""
    uart = FakeUart(responder or (lambda line: OK))
    at = AtEngine(uart, Ring(ring, uart), timeout_ms=300, trace=trace,
                  line_max=line_max, probe_ms=100, quiet_ms=10)
    return uart, at, SessionKeeper(at)


def urc(uart, at, *lines):
    for line in lines:
        uart.inject(b"\r\n" + line.encode() + b"\r\n")
    at.poll()


def module(answers):
    """Responder: the read answers given, OK for everything else."""
    def responder(line):
        text = answers.get(line.decode())
        if text is None:
            return OK
        if isinstance(text, PromptReply):
            return text
        return reply(text, "OK")
    return responder


# -- URC parsing -------------------------------------------------------------

def test_parse_urc_every_tag():
    gc.collect()
    cases = (
        ("+UUSECPRF: 0,13,0,2", (0, 0, 2)),
        ("+UUSECPRF: 4,13,0,0", (4, 0, 0)),
        ("+UUSECPRF:1,13,1,1", (1, 1, 1)),
        ("+UUSECPRF: 0,13,1,13", (0, 1, 13)),
        ('+UUSECPRF: 0,13,2,"%s","%s"' % (SID, MS), (0, 2, (SID, MS))),
        ('+UUSECPRF: 0,13,3,"%s",332' % TICKET, (0, 3, TICKET)),
        ('+UUSECPRF: 2,13,12,"%s",156' % ENC_SID, (2, 12, ENC_SID)),
        ('+UUSECPRF: 0,13,13,"%s",8192' % BIG, (0, 13, BIG)),
        ('+UUSECPRF: 0,13,5,"QUJD",4', (0, 5, "QUJD")),
        ('+UUSECPRF: 0,13,15,"",0', (0, 15, "")),
    )
    for line, want in cases:
        assert parse_urc(line) == want, line


def test_parse_urc_refuses_malformed_lines():
    gc.collect()
    bad = (
        "", "+UUSECPRF:", "+UUSECPRF: ", "+USECPRF: 0,13,0,2", "+UUSECPRF: 5,13,0,2",
        "+UUSECPRF: 0,12,0,2", "+UUSECPRF: 0,13,4,1", "+UUSECPRF: 0,13,0",
        "+UUSECPRF: 0,13,0,3", "+UUSECPRF: 0,13,0,1,0", "+UUSECPRF: 0,13,0,2,",
        "+UUSECPRF: 0,13,1,2", '+UUSECPRF: "0",13,0,2', '+UUSECPRF: 0,13,"0",2',
        '+UUSECPRF: 0,13,0,"2"', '+UUSECPRF: 0,13,3,"QUJD",5', '+UUSECPRF: 0,13,3,"QUJD"',
        '+UUSECPRF: 0,13,3,"QU*D",4', '+UUSECPRF: 0,13,2,"%s"' % SID,
        '+UUSECPRF: 0,13,2,"%s","%s"' % (SID, MS + "A"),
        '+UUSECPRF: 0,13,13,"%s",8193' % (BIG + "A"), '+UUSECPRF: 0,13,3,"QUJD,4',
    )
    for line in bad:
        raises(ProtocolError, parse_urc, line)


# -- capturing ------------------------------------------------------------------

def test_urcs_update_the_keeper_and_bad_ones_are_counted():
    uart, at, k = keeper()
    urc(uart, at, "+UUSECPRF: 1,13,0,1", "+UUSECPRF: 1,13,0,9", "+UUSECPRF: 3,13,1,0",
        '+UUSECPRF: 3,13,2,"%s","%s"' % (SID, MS))
    assert k.status(1) == 1
    assert k.malformed == 1
    assert not k.has_data(1)
    assert k.has_data(3)
    k.forget(3)
    assert not k.has_data(3)
    for bad in (-1, 5, "0", True):
        raises(ValueError, k.status, bad)
        raises(ValueError, k.save, bad, PATH)
    assert at.urc_dropped == 0 and at.urc_errors == 0
    assert uart.written == b""   # a handler never sends
    assert "QUJD" not in repr(k) and SID not in repr(k)


def test_ticket_is_read_on_save_then_restored_after_power_cycle():
    _clean()
    answers = {"AT+USECPRF=0,13,1": "+USECPRF: 0,13,1,1",
               "AT+USECPRF=0,13,3": '+USECPRF: 0,13,3,"%s",332' % TICKET}
    uart, at, k = keeper(module(answers))
    urc(uart, at, "+UUSECPRF: 0,13,0,2")
    assert k.status(0) == 2 and not k.has_data(0)
    k.save(0, PATH)
    assert bytes(uart.written) == wire("+USECPRF=0,13,1", "+USECPRF=0,13,3")
    assert not exists(PATH + ".tmp")
    with open(PATH) as f:
        doc = json.load(f)
    assert doc["tag"] == 3 and doc["data"] == [TICKET] and doc["id"] == 0
    # power cycle: a new engine and keeper, the module knows nothing
    uart2, at2, k2 = keeper()
    k2.restore(PATH)
    assert bytes(uart2.written) == wire("+USECPRF=0,13,0,1", "+USECPRF=0,13,1,1",
                                        '+USECPRF=0,13,3,"%s",332' % TICKET)
    assert k2.has_data(0)
    _clean()


def test_a_ticket_is_found_without_urcs():
    # e.g. the MCU restarted, the module did not: ask it for the status
    _clean()
    answers = {"AT+USECPRF=2,13,0": "+USECPRF: 2,13,0,2",
               "AT+USECPRF=2,13,1": "+USECPRF: 2,13,1,1",
               "AT+USECPRF=2,13,3": '+USECPRF: 2,13,3,"QUJD",4'}
    uart, at, k = keeper(module(answers))
    k.save(2, PATH)
    assert bytes(uart.written) == wire("+USECPRF=2,13,0", "+USECPRF=2,13,1",
                                       "+USECPRF=2,13,3")
    with open(PATH) as f:
        assert json.load(f) == {"v": 1, "id": 2, "tag": 3, "data": ["QUJD"]}
    _clean()


def test_session_id_comes_from_urcs_only():
    _clean()
    uart, at, k = keeper()
    urc(uart, at, "+UUSECPRF: 1,13,1,0", '+UUSECPRF: 1,13,2,"%s","%s"' % (SID, MS))
    k.save(1, PATH)
    assert uart.written == b""
    uart2, at2, k2 = keeper()
    k2.restore(PATH)
    assert bytes(uart2.written) == wire("+USECPRF=1,13,0,1", "+USECPRF=1,13,1,0",
                                        '+USECPRF=1,13,2,"%s","%s"' % (SID, MS))
    _clean()


def test_restore_to_another_profile_and_encrypted_id():
    _clean()
    uart, at, k = keeper()
    urc(uart, at, '+UUSECPRF: 2,13,12,"%s",156' % ENC_SID)
    k.save(2, PATH)
    uart2, at2, k2 = keeper()
    k2.restore(PATH, 4)
    assert bytes(uart2.written) == wire("+USECPRF=4,13,0,1", "+USECPRF=4,13,1,10",
                                        '+USECPRF=4,13,12,"%s",156' % ENC_SID)
    _clean()


def test_psk_ticket_is_restored_through_the_prompt():
    _clean()
    data = "QUJD" * 600
    answers = {"AT+USECPRF=0,13,1": "+USECPRF: 0,13,1,3",
               "AT+USECPRF=0,13,5": '+USECPRF: 0,13,5,"%s",%d' % (data, len(data)),
               "AT+USECPRF=0,13,5,2400": PromptReply(b">", 2400, lambda d: OK)}
    uart, at, k = keeper(module(answers), line_max=2600, ring=4096)  # a long line
    urc(uart, at, "+UUSECPRF: 0,13,0,2")
    k.save(0, PATH)
    start = len(uart.written)
    k.restore(PATH)
    assert bytes(uart.written[start:]) == (wire("+USECPRF=0,13,0,1", "+USECPRF=0,13,1,3")
                                           + b"AT+USECPRF=0,13,5,2400\r" + data.encode())
    _clean()


def test_a_new_ticket_is_read_again():
    _clean()
    answers = {"AT+USECPRF=0,13,1": "+USECPRF: 0,13,1,1",
               "AT+USECPRF=0,13,3": '+USECPRF: 0,13,3,"QUJD",4'}
    uart, at, k = keeper(module(answers))
    urc(uart, at, "+UUSECPRF: 0,13,0,2")
    assert k.capture(0)
    answers["AT+USECPRF=0,13,3"] = '+USECPRF: 0,13,3,"QUJE",4'
    urc(uart, at, "+UUSECPRF: 0,13,0,2")
    k.save(0, PATH)
    with open(PATH) as f:
        assert json.load(f)["data"] == ["QUJE"]
    assert len(uart.commands) == 4
    _clean()


def test_save_without_data_writes_no_file():
    _clean()
    answers = {"AT+USECPRF=0,13,0": "+USECPRF: 0,13,0,1",
               "AT+USECPRF=0,13,1": "+USECPRF: 0,13,1,0",
               "AT+USECPRF=1,13,1": "+USECPRF: 1,13,1,1",
               "AT+USECPRF=1,13,3": '+USECPRF: 1,13,3,"",0'}
    uart, at, k = keeper(module(answers))
    raises(ValueError, k.save, 0, PATH)           # enabled, no session yet
    assert uart.commands == [b"AT+USECPRF=0,13,0"]
    urc(uart, at, "+UUSECPRF: 0,13,0,2")          # session ID type: not kept
    raises(ValueError, k.save, 0, PATH)
    urc(uart, at, "+UUSECPRF: 1,13,0,2")          # a ticket read back empty
    raises(ValueError, k.save, 1, PATH)
    assert not exists(PATH) and not exists(PATH + ".tmp")


def test_save_replaces_an_existing_file():
    _clean()
    with open(PATH, "w") as f:
        f.write("old")
    uart, at, k = keeper()
    urc(uart, at, '+UUSECPRF: 0,13,3,"QUJD",4')
    k.save(0, PATH)
    with open(PATH) as f:
        assert json.load(f)["data"] == ["QUJD"]
    assert not exists(PATH + ".tmp")
    _clean()


def test_bad_files_are_refused_before_any_byte():
    docs = (
        "not json",
        "[1, 2]",
        json.dumps({"v": 2, "id": 0, "tag": 3, "data": ["QUJD"]}),
        json.dumps({"v": 1, "id": 0, "tag": 4, "data": ["QUJD"]}),
        json.dumps({"v": 1, "id": 0, "tag": "3", "data": ["QUJD"]}),
        json.dumps({"v": 1, "id": 0, "tag": 3, "data": "QUJD"}),
        json.dumps({"v": 1, "id": 0, "tag": 3, "data": ["QU*D"]}),
        json.dumps({"v": 1, "id": 0, "tag": 3, "data": ["QUJD", "QUJD"]}),
        json.dumps({"v": 1, "id": 0, "tag": 2, "data": [SID]}),
        json.dumps({"v": 1, "id": 7, "tag": 3, "data": ["QUJD"]}),
        json.dumps({"v": 1, "tag": 3, "data": ["QUJD"]}),
    )
    uart, at, k = keeper()
    for doc in docs:
        with open(PATH, "w") as f:
            f.write(doc)
        raises(ValueError, k.restore, PATH)
        assert uart.written == b"", doc
    _clean()


def test_session_secrets_never_reach_the_trace():
    _clean()
    lines = []
    answers = {"AT+USECPRF=0,13,1": "+USECPRF: 0,13,1,1",
               "AT+USECPRF=0,13,3": '+USECPRF: 0,13,3,"%s",332' % TICKET}
    uart, at, k = keeper(module(answers), trace=lines.append)
    urc(uart, at, "+UUSECPRF: 0,13,0,2", '+UUSECPRF: 1,13,2,"%s","%s"' % (SID, MS))
    k.save(0, PATH)
    k.restore(PATH)
    k.save(1, PATH)
    k.restore(PATH)
    text = "\n".join(lines)
    assert "AT+USECPRF=0,13,1" in text   # the trace does work
    for secret in (TICKET, SID, MS):
        assert secret not in text
    _clean()
