"""+USECPRF / +UUSECPRF in the simulator: handler level, persistence, session URCs."""

import base64
import copy
import json
import os

import pytest

from ubxsim import ciphers, usecprf
from ubxsim.cme import CmeError, INCORRECT_PARAMETERS, NOT_ALLOWED, NOT_SUPPORTED
from ubxsim.command import ACTION, READ, SET, TEST, parse_params
from ubxsim.device import Device
from ubxsim.profile import CIPHER_IANA, CIPHER_LEGACY, CIPHER_LIST, Profile

BAD, UNSUPPORTED = INCORRECT_PARAMETERS, NOT_SUPPORTED


def make_device(state_dir):
    dev = Device(state_dir=state_dir)
    dev.urcs = []
    dev.urc_sink = dev.urcs.append
    usecprf.register(dev)
    return dev


@pytest.fixture
def dev(tmp_path):
    return make_device(str(tmp_path / "state"))


def at(dev, text):
    """Run `AT+USECPRF=<text>` at handler level; return the information lines."""
    return dev.handlers["+USECPRF"](dev, SET, parse_params(text))


def snapshot(dev):
    return copy.deepcopy(dev.profiles.profiles)


def rejected(dev, text, code=BAD):
    """The command fails with `code` and leaves every profile as it was."""
    before = snapshot(dev)
    with pytest.raises(CmeError) as err:
        at(dev, text)
    assert err.value.code == code, err.value.detail
    assert dev.profiles.profiles == before
    return err.value


def read(dev, pid, op, *tag):
    suffix = "".join(",%d" % t for t in tag)
    lines = at(dev, "%d,%d%s" % (pid, op, suffix))
    assert len(lines) == 1
    return lines[0]


# --- forms -------------------------------------------------------------------

def test_test_form_answers_exactly():
    d = make_device(None)
    assert d.handlers["+USECPRF"](d, TEST, []) == ["+USECPRF: (0-4),(0-16)"]


@pytest.mark.parametrize("kind", [READ, ACTION])
def test_forms_without_syntax_are_errors(dev, kind):
    with pytest.raises(CmeError) as err:
        dev.handlers["+USECPRF"](dev, kind, [])
    assert err.value.code == UNSUPPORTED


def test_register_builds_five_factory_profiles(dev):
    assert sorted(dev.profiles.profiles) == [0, 1, 2, 3, 4]
    assert all(p == Profile() for p in dev.profiles.profiles.values())
    assert "session" in dev.controls
    assert dev.profiles.drop_sessions in dev.restart_hooks


FACTORY_READS = {
    0: "1", 1: "0", 2: "0", 3: '""', 4: '""', 5: '""', 6: '""', 9: '""', 10: '""',
    11: "0", 12: '"",0', 14: "0", 15: '""', 16: "0",
}


@pytest.mark.parametrize("op", sorted(FACTORY_READS))
@pytest.mark.parametrize("pid", [0, 4])
def test_factory_read_of_every_readable_op(dev, pid, op):
    assert read(dev, pid, op) == "+USECPRF: %d,%d,%s" % (pid, op, FACTORY_READS[op])


@pytest.mark.parametrize("op", [7, 8])
def test_secrets_are_write_only(dev, op):
    at(dev, '0,%d,"s3cret"' % op)
    err = rejected(dev, "0,%d" % op, NOT_ALLOWED)
    assert "s3cret" not in str(err)


@pytest.mark.parametrize("text", ["5,0,1", "5", "9,0", '"0",0,1', ",0,1", "-1,0,1"])
def test_profile_id_out_of_range(dev, text):
    rejected(dev, text)


@pytest.mark.parametrize("text", ["0,17", "0,17,0", '0,"0",1', "0,,1", "0,99,1"])
def test_op_code_out_of_range_or_wrong_type(dev, text):
    rejected(dev, text)


def test_empty_parameter_list_is_rejected(dev):
    with pytest.raises(CmeError) as err:
        dev.handlers["+USECPRF"](dev, SET, [])
    assert err.value.code == BAD


# --- number ops --------------------------------------------------------------

NUMBER_OPS = {0: 3, 1: 3, 11: 1, 14: 2, 16: 2}  # op -> highest allowed value


@pytest.mark.parametrize("op,top", sorted(NUMBER_OPS.items()))
def test_number_op_every_allowed_value(dev, op, top):
    for value in range(top + 1):
        assert at(dev, "1,%d,%d" % (op, value)) == []
        assert read(dev, 1, op) == "+USECPRF: 1,%d,%d" % (op, value)
    assert read(dev, 0, op) == "+USECPRF: 0,%d,%s" % (op, FACTORY_READS[op])


@pytest.mark.parametrize("op,top", sorted(NUMBER_OPS.items()))
def test_number_op_rejections(dev, op, top):
    at(dev, "0,%d,1" % op)
    too_high = top + 2 if op == 1 else top + 1  # op 1 value 4 is its own case
    rejected(dev, "0,%d,%d" % (op, too_high))
    rejected(dev, '0,%d,"1"' % op)
    rejected(dev, "0,%d,1,0" % op)
    rejected(dev, "0,%d,1," % op)
    assert read(dev, 0, op) == "+USECPRF: 0,%d,1" % op


def test_tls13_is_not_supported(dev):
    at(dev, "0,1,3")
    rejected(dev, "0,1,4", UNSUPPORTED)
    assert read(dev, 0, 1) == "+USECPRF: 0,1,3"


# --- string ops --------------------------------------------------------------

STRING_OPS = {3: 200, 4: 256, 5: 200, 6: 200, 7: 128, 10: 128, 15: 255}
FIELDS = {3: "ca_name", 4: "hostname", 5: "client_cert_name", 6: "client_key_name",
          7: "key_password", 10: "sni", 15: "alpn"}


@pytest.mark.parametrize("op,limit", sorted(STRING_OPS.items()))
def test_string_op_length_edge(dev, op, limit):
    longest = "".join(chr(0x21 + i % 90) for i in range(limit)).replace('"', "q")
    at(dev, '2,%d,"%s"' % (op, longest))
    assert getattr(dev.profiles.profiles[2], FIELDS[op]) == longest
    if op != 7:
        assert read(dev, 2, op) == '+USECPRF: 2,%d,"%s"' % (op, longest)
    rejected(dev, '2,%d,"%s"' % (op, "x" * (limit + 1)))
    assert getattr(dev.profiles.profiles[2], FIELDS[op]) == longest


@pytest.mark.parametrize("op", sorted(STRING_OPS))
def test_string_op_rejections(dev, op):
    at(dev, '0,%d,"name"' % op)
    rejected(dev, "0,%d,5" % op)
    rejected(dev, '0,%d,"a","b"' % op)
    rejected(dev, '0,%d,"tab\there"' % op)
    rejected(dev, '0,%d,"name",' % op)
    assert getattr(dev.profiles.profiles[0], FIELDS[op]) == "name"


@pytest.mark.parametrize("op", sorted(STRING_OPS))
def test_string_op_empty_clears(dev, op):
    at(dev, '0,%d,"name"' % op)
    at(dev, '0,%d,""' % op)
    assert getattr(dev.profiles.profiles[0], FIELDS[op]) == ""


def test_key_password_is_stored_not_shown(dev):
    at(dev, '0,7,"xxxxx"')
    assert dev.profiles.profiles[0].key_password == "xxxxx"


# --- cipher suites (op 2) ----------------------------------------------------

# 10, 11, 12, 15, 16 by the note; 9 and 14 name suites outside the applicability list
SUPPORTED_LEGACY = [n for n in range(34) if n not in (9, 10, 11, 12, 14, 15, 16)]


@pytest.mark.parametrize("number", SUPPORTED_LEGACY)
def test_legacy_cipher_every_supported_number(dev, number):
    at(dev, "0,2,%d" % number)
    assert read(dev, 0, 2) == "+USECPRF: 0,2,%d" % number
    p = dev.profiles.profiles[0]
    assert (p.cipher_mode, p.legacy_cs, p.iana_suites) == (CIPHER_LEGACY, number, [])


@pytest.mark.parametrize("number", [9, 10, 11, 12, 14, 15, 16])
def test_legacy_cipher_unsupported_numbers(dev, number):
    at(dev, "0,2,5")
    rejected(dev, "0,2,%d" % number, UNSUPPORTED)
    assert read(dev, 0, 2) == "+USECPRF: 0,2,5"


@pytest.mark.parametrize("text", ["0,2,34", "0,2,98", "0,2,101", "0,2,99", '0,2,99,"C0"',
                                  "0,2,100", '0,2,100,"C0","2A"', '0,2,"0"', "0,2,1,0",
                                  '0,2,99,"C0","2B",0', '0,2,100,"C0","2A",2',
                                  '0,2,100,"C0","2A","0"', '0,2,100,"C0","2A",0,0'])
def test_cipher_malformed_forms(dev, text):
    at(dev, "0,2,1")
    rejected(dev, text)


def test_spec_example_iana_single_suite(dev):
    assert at(dev, '0,2,99,"C0","2B"') == []
    assert read(dev, 0, 2) == '+USECPRF: 0,2,99,"C0","2B"'
    p = dev.profiles.profiles[0]
    assert (p.cipher_mode, p.iana_suites) == (CIPHER_IANA, [0xC02B])


def test_iana_bytes_accept_lower_case_and_read_upper(dev):
    at(dev, '0,2,99,"c0","2b"')
    assert read(dev, 0, 2) == '+USECPRF: 0,2,99,"C0","2B"'


@pytest.mark.parametrize("b1,b2", [("C", "2B"), ("C00", "2B"), ("C0", "2G"), ("", "2B"),
                                   ("0xC0", "2B"), (" C0", "2B")])
def test_iana_bytes_must_be_two_hex_digits(dev, b1, b2):
    rejected(dev, '0,2,99,"%s","%s"' % (b1, b2))
    rejected(dev, '0,2,100,"%s","%s",0' % (b1, b2))


def test_iana_bytes_must_be_strings(dev):
    rejected(dev, '0,2,99,0,"2B"')
    rejected(dev, '0,2,99,"C0",22')


@pytest.mark.parametrize("b1,b2", [("C0", "01"), ("FF", "FF"), ("00", "01")])
def test_iana_code_outside_table_26(dev, b1, b2):
    rejected(dev, '0,2,99,"%s","%s"' % (b1, b2))


@pytest.mark.parametrize("b1,b2", [("00", "00"), ("13", "01"), ("C0", "2E"), ("CC", "A8"),
                                   ("00", "93"), ("00", "B6")])
def test_iana_suite_not_applicable_to_module(dev, b1, b2):
    rejected(dev, '0,2,99,"%s","%s"' % (b1, b2), UNSUPPORTED)
    rejected(dev, '0,2,100,"%s","%s",0' % (b1, b2), UNSUPPORTED)


@pytest.mark.parametrize("code", sorted(ciphers.APPLICABILITY))
def test_every_applicable_suite_selectable(dev, code):
    b1, b2 = ciphers.code_bytes(code)
    at(dev, '3,2,99,"%s","%s"' % (b1, b2))
    assert dev.profiles.profiles[3].iana_suites == [code]


def test_spec_example_cipher_list_and_fallback(dev):
    assert at(dev, '0,2,100,"C0","2A",0') == []
    assert at(dev, '0,2,100,"C0","2C",0') == []
    assert read(dev, 0, 2) == '+USECPRF: 0,2,100,"C02A;C02C"'
    p = dev.profiles.profiles[0]
    assert (p.cipher_mode, p.iana_suites) == (CIPHER_LIST, [0xC02A, 0xC02C])
    assert at(dev, '0,2,100,"C0","2A",1') == []
    assert read(dev, 0, 2) == '+USECPRF: 0,2,100,"C02C"'
    assert at(dev, '0,2,100,"C0","2C",1') == []
    assert read(dev, 0, 2) == "+USECPRF: 0,2,0"
    assert (p.cipher_mode, p.legacy_cs, p.iana_suites) == (CIPHER_LEGACY, 0, [])


def test_cipher_list_duplicate_add_is_ok_and_unchanged(dev):
    at(dev, '0,2,100,"C0","2A",0')
    at(dev, '0,2,100,"C0","2C",0')
    assert at(dev, '0,2,100,"c0","2a",0') == []
    assert read(dev, 0, 2) == '+USECPRF: 0,2,100,"C02A;C02C"'


def test_cipher_list_remove_absent_is_an_error(dev):
    at(dev, '0,2,100,"C0","2A",0')
    rejected(dev, '0,2,100,"C0","2C",1')
    assert read(dev, 0, 2) == '+USECPRF: 0,2,100,"C02A"'


@pytest.mark.parametrize("setup", ["0,2,7", '0,2,99,"C0","2C"'])
def test_cipher_list_remove_outside_list_mode_is_an_error(dev, setup):
    at(dev, setup)
    before = read(dev, 0, 2)
    rejected(dev, '0,2,100,"C0","2C",1')
    assert read(dev, 0, 2) == before


def test_cipher_last_configured_method_wins(dev):
    at(dev, '0,2,100,"C0","2A",0')
    at(dev, "0,2,30")
    assert read(dev, 0, 2) == "+USECPRF: 0,2,30"
    at(dev, '0,2,100,"C0","2C",0')  # a new list: the old one was discarded
    assert read(dev, 0, 2) == '+USECPRF: 0,2,100,"C02C"'
    at(dev, '0,2,99,"C0","2B"')
    assert read(dev, 0, 2) == '+USECPRF: 0,2,99,"C0","2B"'
    at(dev, '0,2,100,"C0","30",0')
    assert read(dev, 0, 2) == '+USECPRF: 0,2,100,"C030"'
    at(dev, '0,2,99,"00","9C"')
    assert read(dev, 0, 2) == '+USECPRF: 0,2,99,"00","9C"'
    at(dev, "0,2,0")
    assert dev.profiles.profiles[0].iana_suites == []


def test_cipher_list_can_hold_every_applicable_suite(dev):
    for code in ciphers.APPLICABILITY:
        at(dev, '4,2,100,"%s","%s",0' % ciphers.code_bytes(code))
    expected = ";".join("%04X" % c for c in ciphers.APPLICABILITY)
    assert read(dev, 4, 2) == '+USECPRF: 4,2,100,"%s"' % expected


# --- PSK (op 8) and PSK identity (op 9) ----------------------------------------

@pytest.mark.parametrize("op,field,ascii_max,hex_max", [(8, "psk", 64, 128),
                                                          (9, "psk_identity", 128, 256)])
def test_psk_length_edges(dev, op, field, ascii_max, hex_max):
    p = dev.profiles.profiles[0]
    at(dev, '0,%d,"%s"' % (op, "a" * ascii_max))
    assert getattr(p, field) == b"a" * ascii_max
    at(dev, '0,%d,"%s",0' % (op, "b" * ascii_max))
    assert getattr(p, field) == b"b" * ascii_max
    rejected(dev, '0,%d,"%s"' % (op, "c" * (ascii_max + 1)))
    rejected(dev, '0,%d,"%s",0' % (op, "c" * (ascii_max + 1)))
    at(dev, '0,%d,"%s",1' % (op, "0F" * (hex_max // 2)))
    assert getattr(p, field) == b"\x0f" * (hex_max // 2)
    rejected(dev, '0,%d,"%s",1' % (op, "0F" * (hex_max // 2) + "A"))
    rejected(dev, '0,%d,"%s",1' % (op, "0F" * (hex_max // 2 + 1)))
    assert getattr(p, field) == b"\x0f" * (hex_max // 2)


@pytest.mark.parametrize("op", [8, 9])
@pytest.mark.parametrize("args", ['"ABC",1', '"0G",1', '"00 11",1', '"ab",2', '"ab","1"',
                                  '"caf\u00e9"', '"ab",', '"ab",0,0', "12", '"ab",-1'])
def test_psk_rejections(dev, op, args):
    at(dev, '0,%d,"keep"' % op)
    with pytest.raises(CmeError):
        at(dev, "0,%d,%s" % (op, args))
    field = "psk" if op == 8 else "psk_identity"
    assert getattr(dev.profiles.profiles[0], field) == b"keep"


def test_spec_example_psk_and_identity(dev):
    assert at(dev, '0,8,"0sFpZ0AZqE0N6Ti9s0qt40ZP5Eqx"') == []
    assert at(dev, '0,9,"0ceEZ0AZqP0K60i9o04xz0ZP8zyu0Eqx"') == []
    p = dev.profiles.profiles[0]
    assert p.psk == b"0sFpZ0AZqE0N6Ti9s0qt40ZP5Eqx"
    assert read(dev, 0, 9) == '+USECPRF: 0,9,"0ceEZ0AZqP0K60i9o04xz0ZP8zyu0Eqx"'


def test_hex_psk_is_decoded_in_either_case(dev):
    at(dev, '0,8,"00aBfF",1')
    assert dev.profiles.profiles[0].psk == b"\x00\xab\xff"


def test_psk_identity_read_forms_round_trip(dev):
    at(dev, '0,9,"0001ff22",1')
    line = read(dev, 0, 9)
    assert line == '+USECPRF: 0,9,"0001FF22",1'
    at(dev, '0,9,"other"')
    at(dev, line.split(": ", 1)[1])  # the read answer, sent back as a set
    assert dev.profiles.profiles[0].psk_identity == b"\x00\x01\xff\x22"
    at(dev, '0,9,"6964",1')  # printable: read back as ASCII
    assert read(dev, 0, 9) == '+USECPRF: 0,9,"id"'


# --- server certificate pinning (op 12) ----------------------------------------

def test_pinning_set_and_read(dev):
    assert at(dev, '0,12,"my_srv_cert",0') == []
    assert read(dev, 0, 12) == '+USECPRF: 0,12,"my_srv_cert",0'
    for level in (1, 2):
        at(dev, '0,12,"c",%d' % level)
        assert read(dev, 0, 12) == '+USECPRF: 0,12,"c",%d' % level
    at(dev, '0,12,"%s",0' % ("n" * 200))
    assert dev.profiles.profiles[0].pin_name == "n" * 200


@pytest.mark.parametrize("args", ['"c",3', '"c"', '"c",0,0', '0,0', '"c","0"', '"%s",0' % ("n" * 201),
                                  '"c",', ',0'])
def test_pinning_rejections(dev, args):
    at(dev, '0,12,"keep",1')
    rejected(dev, "0,12,%s" % args)


# --- session resumption (op 13) -----------------------------------------------

TICKET_B64 = base64.b64encode(bytes(range(249))).decode()  # 332 characters, as the spec's


def test_session_factory_reads(dev):
    assert read(dev, 0, 13, 0) == "+USECPRF: 0,13,0,0"
    assert read(dev, 0, 13, 1) == "+USECPRF: 0,13,1,1"
    assert read(dev, 0, 13, 3) == '+USECPRF: 0,13,3,"",0'


def test_spec_example_session_status(dev):
    assert at(dev, "0,13,0,1") == []
    assert read(dev, 0, 13, 0) == "+USECPRF: 0,13,0,1"
    at(dev, "0,13,0,2")
    assert read(dev, 0, 13, 0) == "+USECPRF: 0,13,0,2"
    at(dev, "0,13,0,0")
    assert read(dev, 0, 13, 0) == "+USECPRF: 0,13,0,0"


def test_session_type_only_ticket_allowed(dev):
    assert at(dev, "0,13,1,1") == []
    assert read(dev, 0, 13, 1) == "+USECPRF: 0,13,1,1"
    for defined in (0, 3, 10, 11, 13):
        rejected(dev, "0,13,1,%d" % defined, UNSUPPORTED)
    for undefined in (2, 4, 12, 14):
        rejected(dev, "0,13,1,%d" % undefined)


@pytest.mark.parametrize("tag", [2, 5, 12, 13, 15])
def test_session_tags_defined_but_unsupported(dev, tag):
    rejected(dev, "0,13,%d" % tag, UNSUPPORTED)
    rejected(dev, '0,13,%d,"QUJD",4' % tag, UNSUPPORTED)


@pytest.mark.parametrize("text", ["0,13", "0,13,4", "0,13,16", '0,13,"0"', "0,13,0,3",
                                  '0,13,0,"1"', "0,13,0,1,0", "0,13,1", "0,13,1,", "0,13,0,",
                                  '0,13,3,"QUJD"', '0,13,3,"QUJD",5', '0,13,3,"QUJD","4"',
                                  '0,13,3,4,4', '0,13,3,"QU*D",4', '0,13,3,"QUJ",3',
                                  '0,13,3,"QUJD",4,0'])
def test_session_rejections(dev, text):
    if text == "0,13,1":  # a read, not an error
        assert at(dev, text) == ["+USECPRF: 0,13,1,1"]
        return
    at(dev, "0,13,0,1")
    rejected(dev, text)


def test_session_ticket_data_set_and_read(dev):
    at(dev, "0,13,0,1")
    assert at(dev, '0,13,3,"%s",%d' % (TICKET_B64, len(TICKET_B64))) == []
    assert read(dev, 0, 13, 3) == '+USECPRF: 0,13,3,"%s",332' % TICKET_B64
    assert read(dev, 0, 13, 0) == "+USECPRF: 0,13,0,2"
    offer = dev.profiles.session_to_resume(0)
    assert offer == usecprf.SessionOffer(1, bytes(range(249)))
    at(dev, '0,13,3,"",0')  # clearing: nothing to offer, enabled again
    assert read(dev, 0, 13, 3) == '+USECPRF: 0,13,3,"",0'
    assert read(dev, 0, 13, 0) == "+USECPRF: 0,13,0,1"
    assert dev.profiles.session_to_resume(0) is None


def test_session_ticket_data_size_edge(dev):
    top = "A" * 8192
    at(dev, '1,13,3,"%s",8192' % top)
    assert dev.profiles.profiles[1].sess_data[3] == (top, 8192)
    rejected(dev, '1,13,3,"%s",8193' % ("A" * 8193))
    rejected(dev, '1,13,3,"%s",8192' % ("A" * 8193))


def test_session_data_while_disabled_is_kept_but_not_offered(dev):
    at(dev, '0,13,3,"QUJD",4')
    assert read(dev, 0, 13, 0) == "+USECPRF: 0,13,0,0"
    assert dev.profiles.session_to_resume(0) is None
    at(dev, "0,13,0,1")
    assert dev.profiles.session_to_resume(0).data == b"ABC"


def test_session_established_ticket_emits_status_urc(dev):
    at(dev, "2,13,0,1")
    urcs = dev.profiles.session_established(2, b"\x01" * 32, b"\x02" * 48, b"ticket-bytes")
    assert urcs == ["+UUSECPRF: 2,13,0,2"]
    assert dev.urcs == ["+UUSECPRF: 2,13,0,2"]
    b64 = base64.b64encode(b"ticket-bytes").decode()
    assert read(dev, 2, 13, 3) == '+USECPRF: 2,13,3,"%s",%d' % (b64, len(b64))
    assert read(dev, 2, 13, 0) == "+USECPRF: 2,13,0,2"
    assert dev.profiles.session_to_resume(2) == usecprf.SessionOffer(1, b"ticket-bytes")
    assert dev.profiles.session_to_resume(1) is None


def test_session_established_while_disabled_does_nothing(dev):
    before = snapshot(dev)
    assert dev.profiles.session_established(0, b"\x01" * 32, b"\x02" * 48, b"t") == []
    assert dev.urcs == [] and dev.profiles.profiles == before


def test_session_established_without_ticket_stores_nothing(dev):
    at(dev, "0,13,0,1")
    assert dev.profiles.session_established(0, b"\x01" * 32, b"\x02" * 48, None) == []
    assert dev.urcs == []
    assert read(dev, 0, 13, 0) == "+USECPRF: 0,13,0,1"


def test_session_established_by_session_id_reports_but_does_not_store(dev):
    at(dev, "0,13,0,1")
    dev.profiles.profiles[0].sess_type = 0  # not settable by AT; the rule still holds
    sid, secret = bytes(range(32)), bytes(range(48))
    urcs = dev.profiles.session_established(0, sid, secret, b"ignored")
    assert urcs == ["+UUSECPRF: 0,13,1,0",
                    '+UUSECPRF: 0,13,2,"%s","%s"' % (base64.b64encode(sid).decode(),
                                                     base64.b64encode(secret).decode())]
    assert dev.urcs == urcs
    assert dev.profiles.profiles[0].sess_data == {}
    assert dev.profiles.session_to_resume(0) is None


def test_session_control_verb_triggers_the_urc(dev):
    at(dev, "1,13,0,1")
    result = dev.controls["session"](profile_id=1)
    assert result == {"urcs": ["+UUSECPRF: 1,13,0,2"]}
    assert json.loads(json.dumps(result)) == result
    assert dev.urcs == ["+UUSECPRF: 1,13,0,2"]
    assert dev.profiles.session_to_resume(1).data == usecprf.TEST_TICKET
    dev.controls["session"](profile_id=1, ticket="c0ffee")
    assert dev.profiles.session_to_resume(1).data == b"\xc0\xff\xee"
    assert dev.controls["session"](profile_id=1, ticket=None) == {"urcs": []}
    with pytest.raises(ValueError):
        dev.controls["session"](profile_id=5)


def test_session_established_too_large_ticket_is_not_stored(dev):
    at(dev, "0,13,0,1")
    assert dev.profiles.session_established(0, b"", b"", bytes(6145)) == []  # 8196 b64 chars
    assert dev.profiles.session_established(0, b"", b"", bytes(6144)) == ["+UUSECPRF: 0,13,0,2"]


# --- reset ---------------------------------------------------------------------

def test_reset_restores_factory_values_of_one_profile(dev):
    for pid in (1, 2):
        at(dev, "%d,0,3" % pid)
        at(dev, '%d,2,100,"C0","2A",0' % pid)
        at(dev, '%d,4,"host"' % pid)
        at(dev, '%d,8,"psk"' % pid)
        at(dev, '%d,12,"pin",2' % pid)
        at(dev, "%d,13,0,1" % pid)
        at(dev, '%d,13,3,"QUJD",4' % pid)
    live = dev.profiles.profiles[1]
    assert at(dev, "1") == []
    assert dev.profiles.profiles[1] is live and live == Profile()
    assert read(dev, 1, 0) == "+USECPRF: 1,0,1"
    assert read(dev, 1, 2) == "+USECPRF: 1,2,0"
    assert dev.profiles.profiles[2].hostname == "host"


def test_reset_is_persisted(tmp_path):
    state = str(tmp_path)
    first = make_device(state)
    at(first, '0,3,"ThawteCA"')
    at(first, "0")
    assert make_device(state).profiles.profiles[0] == Profile()


# --- restart and persistence ---------------------------------------------------

def configure_everything(d):
    for text in ["3,0,3", "3,1,3", '3,2,100,"C0","2A",0', '3,2,100,"C0","2C",0',
                 '3,3,"ca"', '3,4,"host"', '3,5,"cc"', '3,6,"pk"', '3,7,"pw"', '3,8,"00ff",1',
                 '3,9,"ident"', '3,10,"sni"', "3,11,1", '3,12,"pin",1', "3,14,2",
                 '3,15,"h2"', "3,16,1", "3,13,0,1", '3,13,3,"QUJD",4']:
        at(d, text)


def expected_after_power_cycle(d):
    kept = copy.deepcopy(d.profiles.profiles[3])
    kept.sess_status, kept.sess_type, kept.sess_data = 0, 1, {}
    return kept


@pytest.mark.parametrize("state", ["disk", "memory"])
def test_restart_keeps_settings_and_drops_sessions(tmp_path, state):
    d = make_device(str(tmp_path) if state == "disk" else None)
    configure_everything(d)
    assert d.profiles.session_to_resume(3) is not None
    kept = expected_after_power_cycle(d)
    d.restart()
    assert d.profiles.profiles[3] == kept
    assert read(d, 3, 2) == '+USECPRF: 3,2,100,"C02A;C02C"'
    assert read(d, 3, 13, 0) == "+USECPRF: 3,13,0,0"
    assert read(d, 3, 13, 3) == '+USECPRF: 3,13,3,"",0'
    assert d.profiles.session_to_resume(3) is None


def test_settings_survive_a_new_process(tmp_path):
    first = make_device(str(tmp_path))
    configure_everything(first)
    kept = expected_after_power_cycle(first)
    second = make_device(str(tmp_path))
    assert second.profiles.profiles[3] == kept
    assert second.profiles.profiles[0] == Profile()


def test_state_file_holds_no_session_data(tmp_path):
    d = make_device(str(tmp_path))
    configure_everything(d)
    with open(os.path.join(str(tmp_path), "profiles", usecprf.STATE_FILE)) as f:
        saved = json.load(f)
    assert "QUJD" not in json.dumps(saved)
    assert not {"sess_status", "sess_type", "sess_data"} & saved["3"].keys()
    assert saved["3"]["psk"] == "00ff"


def test_failed_command_writes_nothing(tmp_path):
    d = make_device(str(tmp_path))
    at(d, '0,4,"host"')
    path = os.path.join(str(tmp_path), "profiles", usecprf.STATE_FILE)
    with open(path) as f:
        before = f.read()
    rejected(d, '0,4,"%s"' % ("h" * 257))
    with open(path) as f:
        assert f.read() == before


# --- spec example sequences ----------------------------------------------------

def test_spec_example_generic_read(dev):
    assert at(dev, "0,0,0") == []
    assert at(dev, "0,0") == ["+USECPRF: 0,0,0"]


def test_spec_example_thawte_profile(dev):
    assert at(dev, "2,0,1") == []
    assert at(dev, '2,3,"ThawteCA"') == []
    assert read(dev, 2, 0) == "+USECPRF: 2,0,1"
    assert read(dev, 2, 3) == '+USECPRF: 2,3,"ThawteCA"'


@pytest.mark.parametrize("text", ["0,0,2", "0,2,2", '0,3,"ca_iname"', '0,4,"server_hostname"',
                                  '0,5,"cc_iname"', '0,6,"pk_iname"', '0,7,"xxxxx"',
                                  '0,10,"server_sni"', "0,11,0", '0,12,"my_srv_cert",0',
                                  "0,13,0,1", "0,14,0", "0,16,1"])
def test_spec_set_examples_answer_ok(dev, text):
    assert at(dev, text) == []


def test_spec_example_alpn(dev):
    assert at(dev, '0,15,"FTP"') == []
    assert read(dev, 0, 15) == '+USECPRF: 0,15,"FTP"'


def test_spec_example_ztp_and_database(dev):
    at(dev, "0,14,2")
    assert read(dev, 0, 14) == "+USECPRF: 0,14,2"
    at(dev, "0,16,2")
    assert read(dev, 0, 16) == "+USECPRF: 0,16,2"


# --- cipher data -----------------------------------------------------------------

def test_cipher_tables_as_the_spec_gives_them():
    assert len(ciphers.TABLE_26) == 165
    assert len(ciphers.APPLICABILITY) == 63
    assert set(ciphers.APPLICABILITY) <= set(ciphers.SUITES)
    assert sorted(ciphers.BY_LEGACY) == list(range(1, 34))
    assert ciphers.BY_LEGACY[30] == 0xC02B and ciphers.BY_LEGACY[5] == 0x000A
    assert ciphers.SUITES[0xC02C].default and not ciphers.SUITES[0xC02A].default
    assert ciphers.SUITES[0x009F].name == "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"
    assert ciphers.DEFAULT_CODES[0] == 0x009C and ciphers.DEFAULT_CODES[-1] == 0xC0AF
    assert len(ciphers.DEFAULT_CODES) == 34
    assert ciphers.suites_for_legacy(0) == ciphers.DEFAULT_CODES
    assert ciphers.suites_for_legacy(31) == (0xC02C,)
    assert not ciphers.legacy_supported(12) and ciphers.legacy_supported(13)


# --- on the wire (the simulator on a pty) ----------------------------------------

def wire(at, cmd):
    """(information lines, final result) of one command on the wire."""
    from fixtures_sim import final_result, info_lines
    raw = at.send(cmd)
    return info_lines(raw), final_result(raw)


def test_wire_test_form_and_generic_example(at):
    assert wire(at, "AT+USECPRF=?") == (["+USECPRF: (0-4),(0-16)"], "OK")
    assert wire(at, "AT+USECPRF=0,0,0") == ([], "OK")
    assert wire(at, "AT+USECPRF=0,0") == (["+USECPRF: 0,0,0"], "OK")


def test_wire_cipher_examples(at):
    assert wire(at, 'AT+USECPRF=0,2,99,"C0","2B"') == ([], "OK")
    assert wire(at, "AT+USECPRF=0,2") == (['+USECPRF: 0,2,99,"C0","2B"'], "OK")
    assert wire(at, 'AT+USECPRF=0,2,100,"C0","2A",0') == ([], "OK")
    assert wire(at, 'AT+USECPRF=0,2,100,"C0","2C",0') == ([], "OK")
    assert wire(at, "AT+USECPRF=0,2") == (['+USECPRF: 0,2,100,"C02A;C02C"'], "OK")
    assert wire(at, 'AT+USECPRF=0,2,100,"C0","2A",1') == ([], "OK")
    assert wire(at, 'AT+USECPRF=0,2,100,"C0","2C",1') == ([], "OK")
    assert wire(at, "AT+USECPRF=0,2") == (["+USECPRF: 0,2,0"], "OK")


def test_wire_thawte_alpn_ztp_database_examples(at):
    assert wire(at, "AT+USECPRF=2,0,1") == ([], "OK")
    assert wire(at, 'AT+USECPRF=2,3,"ThawteCA"') == ([], "OK")
    assert wire(at, "AT+USECPRF=2,3") == (['+USECPRF: 2,3,"ThawteCA"'], "OK")
    assert wire(at, 'AT+USECPRF=0,15,"FTP"') == ([], "OK")
    assert wire(at, "AT+USECPRF=0,15") == (['+USECPRF: 0,15,"FTP"'], "OK")
    assert wire(at, "AT+USECPRF=0,14,2") == ([], "OK")
    assert wire(at, "AT+USECPRF=0,14") == (["+USECPRF: 0,14,2"], "OK")
    assert wire(at, "AT+USECPRF=0,16,2") == ([], "OK")
    assert wire(at, "AT+USECPRF=0,16") == (["+USECPRF: 0,16,2"], "OK")


def test_wire_errors_follow_cmee(at):
    assert wire(at, "AT+USECPRF=0,1,4") == ([], "ERROR")
    assert wire(at, "AT+CMEE=1") == ([], "OK")
    assert wire(at, "AT+USECPRF=5,0,1") == ([], "+CME ERROR: 50")
    assert wire(at, "AT+CMEE=2") == ([], "OK")
    assert wire(at, "AT+USECPRF=0,1,4") == ([], "+CME ERROR: operation not supported")
    assert wire(at, 'AT+USECPRF=0,8,"k"') == ([], "OK")
    assert wire(at, "AT+USECPRF=0,8") == ([], "+CME ERROR: operation not allowed")


def test_wire_session_urc_and_restart(sim_factory, tmp_path):
    from fixtures_sim import AtClient
    sim = sim_factory(state=str(tmp_path / "nvm"), boot_seconds=0)
    at = AtClient(sim.link)
    try:
        assert wire(at, "AT+USECPRF=1,13,0,1") == ([], "OK")
        assert wire(at, 'AT+USECPRF=1,4,"host.example"') == ([], "OK")
        assert sim.control("session", profile_id=1) == {"urcs": ["+UUSECPRF: 1,13,0,2"]}
        assert at.read_until(rb"\+UUSECPRF: [^\r]*\r\n").endswith(b"\r\n+UUSECPRF: 1,13,0,2\r\n")
        assert wire(at, "AT+USECPRF=1,13,0") == (["+USECPRF: 1,13,0,2"], "OK")
        sim.control("restart")
        sim.wait_booted()
        at.read_for(0.1)  # whatever the boot sends
        assert wire(at, "AT+USECPRF=1,13,0") == (["+USECPRF: 1,13,0,0"], "OK")
        assert wire(at, "AT+USECPRF=1,13,3") == (['+USECPRF: 1,13,3,"",0'], "OK")
        assert wire(at, "AT+USECPRF=1,4") == (['+USECPRF: 1,4,"host.example"'], "OK")
    finally:
        at.close()
    sim.stop()
    again = sim_factory(state=str(tmp_path / "nvm"))
    at = AtClient(again.link)
    try:
        assert wire(at, "AT+USECPRF=1,4") == (['+USECPRF: 1,4,"host.example"'], "OK")
    finally:
        at.close()


def test_wire_session_ticket_of_the_largest_size_fits_one_command_line(at):
    # <session_data_b64_size> may be 8192: the whole line must be accepted
    data = base64.b64encode(bytes(range(256)) * 24)[:8192].decode()
    assert len(data) == 8192
    assert wire(at, "AT+USECPRF=0,13,3,\"%s\",8192" % data) == ([], "OK")
    assert wire(at, "AT+USECPRF=0,13,3") == (['+USECPRF: 0,13,3,"%s",8192' % data], "OK")
