"""The board files (boards/pico.py, boards/nucleo_f411re.py) build the UART
they document, run on the MicroPython unix port against a recording stand-in
for `machine`."""

import os
import subprocess

import toolchain
from harness import BOARDS

MICROPYTHON = toolchain.MICROPYTHON

FAKE_MACHINE = '''
class Pin:
    def __init__(self, n):
        self.n = n
    def __repr__(self):
        return "Pin(%d)" % self.n

class UART:
    RTS = 1
    CTS = 2
    def __init__(self, uart_id, **kw):
        self.made = (uart_id, kw)
'''


def _uart(tmp_path, board, call):
    toolchain.require(MICROPYTHON)
    (tmp_path / "machine.py").write_text(FAKE_MACHINE)
    code = ("import %s as b\nu = b.%s\nid_, kw = u.made\n"
            "print(id_, sorted((k, repr(v)) for k, v in kw.items()))" % (board, call))
    proc = subprocess.run([str(MICROPYTHON), "-c", code],
                          env=dict(os.environ, MICROPYPATH="%s:%s" % (tmp_path, BOARDS)),
                          capture_output=True, text=True, timeout=30)
    return (proc.stdout + proc.stderr).strip()


def test_pico_without_flow_control_by_default(tmp_path):
    out = _uart(tmp_path, "pico", "uart()")
    assert out.startswith("0 ") and "'flow'" not in out and "'cts'" not in out, out
    assert "('rxbuf', '1024')" in out and "('tx', 'Pin(0)')" in out and "('rx', 'Pin(1)')" in out


def test_pico_offers_rts_cts_on_gp2_gp3(tmp_path):
    out = _uart(tmp_path, "pico", "uart(flow_control=True)")
    assert "('cts', 'Pin(2)')" in out and "('rts', 'Pin(3)')" in out and "('flow', '3')" in out, out


def test_pico_flow_control_switch_in_the_board_file(tmp_path):
    out = _uart(tmp_path, "pico", "FLOW_CONTROL\nb.FLOW_CONTROL = True\nu = b.uart()")
    assert "('flow', '3')" in out, out


def test_nucleo_uses_uart6_with_a_large_rxbuf_and_refuses_flow_control(tmp_path):
    out = _uart(tmp_path, "nucleo_f411re", "uart()")
    assert out.startswith("6 ") and "('rxbuf', '1024')" in out and "('flow', '0')" in out, out
    out = _uart(tmp_path, "nucleo_f411re", "uart(flow_control=True)")
    assert "ValueError" in out and "no RTS/CTS" in out, out
