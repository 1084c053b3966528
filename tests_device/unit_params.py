"""Parameter checks (ubxsec.params): what may reach a command, and the one
parser of answer fields."""

from ubxsec.errors import ProtocolError
from ubxsec.params import check_int, check_str, fields, quoted
from checks import raises


def test_check_str_takes_printable_ascii_within_the_limits():
    assert check_str("", 4) == ""
    assert check_str(" a~Z", 4) == " a~Z"
    assert quoted("name", 30) == '"name"'
    assert check_str("ab", 4, min_len=2) == "ab"


def test_check_str_refuses_what_could_break_out_of_a_string():
    for bad in ('a"b', "a\rb", "a\nb", "a\x00", "a\x1a", "a\x7f", "caf\u00e9", "12345",
                b"ab", None, 12):
        exc = raises(ValueError, check_str, bad, 4, "name")
        assert "name" in str(exc), exc
    raises(ValueError, check_str, "a", 4, "name", 2)


def test_check_int_takes_only_the_allowed_ints_never_a_bool():
    assert check_int(0, range(5)) == 0
    assert check_int(4, (0, 4)) == 4
    for bad in (True, False, 5, -1, "1", 1.0, None):
        raises(ValueError, check_int, bad, range(5), "level")


def test_fields_of_an_answer():
    assert fields('0,2,"C0","2B"') == [0, 2, "C0", "2B"]
    assert fields('"a,b",12345') == ["a,b", 12345]
    assert fields(' "CA" , "x" ,7', True) == ["CA", "x", "7"]
    for bad in ("1,,2", "-1", "123456", '"open', '"a"x', "1 ,2", "1,"):
        raises(ProtocolError, fields, bad)
