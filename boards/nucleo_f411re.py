"""ST NUCLEO-F411RE wired to the module's main UART.

MicroPython's NUCLEO_F411RE firmware defines only UART 2 (PA2/PA3: the
ST-LINK virtual COM port that carries the REPL) and UART 6 (PC6/PC7), so
the module goes on UART 6. Wiring (the module's logic is 1.8 V on SARA-R5-class
modules: use a level translator between the 3.3 V board and the module):

    PC6 (CN10-4,  USART6 TX)              ->  module TXD  (DTE data in)
    PC7 (CN10-19, Arduino D9, USART6 RX)  <-  module RXD  (DTE data out)
    GND (CN10-9)                          --  module GND
    module RTS: tie low (or to a GPIO driven low), module CTS: leave open

No hardware flow control: USART6's RTS/CTS pins (PG8/PG15) do not exist on
the F411RE's 64-pin package and the firmware configures none; keep the baud
rate modest and the RX buffer large instead.

stm32's default UART rxbuf is only 64 bytes: a modem needs far more. When
the rxbuf is full, stm32 stops taking bytes in (it disables the RX
interrupt) and what the module sends meanwhile is lost: read the UART often
(the library's IRQ handler does). Writing the internal flash stalls the CPU
while a sector is erased; the library drains the line before its own flash
write (SessionKeeper.save), keep the application's writes away from module
traffic too.

MicroPython mounts this board's flash at /flash alone (sys.path '',
'.frozen', '/flash', '/flash/lib'): `make deploy` puts the library in
/flash/lib and board.py in /flash.
"""

from micropython import const
from machine import UART

UART_ID = const(6)
BAUD = const(115200)
RXBUF = const(1024)


def uart(baudrate=BAUD, flow_control=False, rxbuf=RXBUF):
    if flow_control:
        raise ValueError("NUCLEO-F411RE: UART 6 has no RTS/CTS pins")
    return UART(UART_ID, baudrate=baudrate, bits=8, parity=None, stop=1,
                flow=0, rxbuf=rxbuf, timeout=0)
