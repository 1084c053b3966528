"""The virtual board (MicroPython unix port, boards/unix) wired to the simulator.

Wiring: the launcher links the board's /dev/uart0 to the module's pty
(`launch.py --uart SIMLINK`), so UART id 0 is the module's main UART. A pty
has no pins, no baud clock and no RTS/CTS lines: baudrate is recorded (the
simulator paces the line at its own --baud) and flow control is refused.
The UART class is boards/unix/lib/vuart.py (unix64) or boards/wasm32/lib/vuart.py
(wasm32: poll mode, no irq()), installed in /lib at boot by each board.
"""

from micropython import const
from vuart import UART

UART_ID = const(0)
BAUD = const(115200)
# the driver's own RX buffer, as on the Pico; the library's ring sits behind it
RXBUF = const(1024)


def uart(baudrate=BAUD, flow_control=False, rxbuf=RXBUF):
    if flow_control:
        raise ValueError("the virtual board's UART has no RTS/CTS lines")
    return UART(UART_ID, baudrate=baudrate, bits=8, parity=None, stop=1, rxbuf=rxbuf, timeout=0)
