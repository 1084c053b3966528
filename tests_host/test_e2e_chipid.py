"""End to end: code deployed with mpremote on the virtual board asks the
simulator for its chip ID over the board's UART (boards/virtual.py)."""

import re
from pathlib import Path

from mpremote_run import mpremote

ROOT = Path(__file__).resolve().parent.parent

# Runs on the board: the UART's soft IRQ moves bytes into a buffer; the main
# loop waits for the final result code.
ASK_CHIP_ID = """\
import time
from boards.virtual import uart
u = uart()
got = bytearray()
buf = bytearray(64)
def on_rx(port):
    n = port.readinto(buf)
    while n:
        got.extend(buf[:n])
        n = port.readinto(buf)
u.irq(on_rx, u.IRQ_RXIDLE)
u.write(b"AT+USECCHIP\\r")
t = time.ticks_ms()
while not (got.endswith(b"OK\\r\\n") or got.endswith(b"ERROR\\r\\n")):
    if time.ticks_diff(time.ticks_ms(), t) > 5000:
        break
    time.sleep_ms(2)
u.deinit()
print(repr(bytes(got)))
"""


def test_chip_id_through_the_virtual_board(rig, tmp_path):
    script = tmp_path / "chipid.py"
    script.write_text(ASK_CHIP_ID)
    out = mpremote(rig.connect, "mkdir", ":lib/boards", "+",
                   "cp", str(ROOT / "boards" / "virtual.py"), ":lib/boards/virtual.py", "+",
                   "run", str(script))
    answer = eval(out.strip().splitlines()[-1])  # noqa: S307 - the board printed a bytes literal
    expected_id = rig.sim.control("chip_id")
    lines = [l for l in re.split(rb"[\r\n]+", answer) if l]
    # echo is on by default (V.250): the command comes back first
    assert lines == [b"AT+USECCHIP", b'+USECCHIP: "%s"' % expected_id.encode(), b"OK"]
    assert re.fullmatch(rb'\+USECCHIP: "[0-9A-F]{16}"', lines[1])
