"""The virtual board's friendly REPL as a person types into it: CR LF line
ends as a board sends them, UTF-8 typed in reaches the code, and UART(0)
asked for twice is one driver (as on a Pico), so a second reader never
splits the module's answers."""

import time

import pytest
import serial

PROMPT = b">>> "


class Repl:
    def __init__(self, link):
        self.port = serial.Serial(link, baudrate=115200, timeout=0.05)
        self.port.write(b"\x02")          # friendly REPL
        self.read_to_prompt()

    def read_to_prompt(self, timeout=10.0):
        out = b""
        deadline = time.monotonic() + timeout
        while not out.endswith(PROMPT):
            if time.monotonic() > deadline:
                raise AssertionError("no prompt after %r" % out)
            out += self.port.read(4096)
        return out

    def type(self, line):
        """Type line + Enter; the output between the echo and the next prompt."""
        data = line.encode() + b"\r"
        self.port.write(data)
        out = self.read_to_prompt()
        head, sep, rest = out.partition(b"\r\n")   # the echo ends at the first CR LF
        assert sep, out
        return rest[:-len(PROMPT)]

    def close(self):
        self.port.close()


@pytest.fixture
def repl(rig):
    r = Repl(rig.connect)
    yield r
    r.close()


def test_output_lines_end_in_cr_lf(repl):
    out = repl.type("for i in range(3): print(i)\r")   # the Enter ends the block
    assert out == b"... \r\n0\r\n1\r\n2\r\n", out
    out = repl.type("print('a\\nb')")
    assert out == b"a\r\nb\r\n", out


def test_typed_utf8_reaches_the_code(repl):
    out = repl.type("s = 'café ✓'; print(s, len(s), len(s.encode()))")
    assert out == "café ✓ 6 9\r\n".encode(), out


def test_uart0_twice_is_one_driver_that_gets_whole_answers(repl):
    assert repl.type("from vuart import UART; a = UART(0, rxbuf=512); b = UART(0, rxbuf=512)") == b""
    assert repl.type("print(a is b)") == b"True\r\n"
    out = repl.type("import time; b.write(b'AT\\r'); time.sleep_ms(300); print(a.read())")
    assert out.endswith(b"b'AT\\r\\r\\nOK\\r\\n'\r\n"), out
