"""Raspberry Pi Pico (RP2040) wired to the module's main UART.

Wiring (UART0; the module's logic is 1.8 V on SARA-R5-class modules: put a
level translator such as a TXB0104 between the 3.3 V Pico and the module):

    Pico GP0  (pin 1, UART0 TX)  ->  module TXD  (DTE data in)
    Pico GP1  (pin 2, UART0 RX)  <-  module RXD  (DTE data out)
    Pico GP2  (pin 4, UART0 CTS) <-  module CTS  (optional flow control)
    Pico GP3  (pin 5, UART0 RTS) ->  module RTS  (optional flow control)
    Pico GND  (pin 3)            --  module GND

rp2 only accepts CTS on a GPIO n with n % 4 == 2 and RTS with n % 4 == 3.
"""

from micropython import const
from machine import UART, Pin

UART_ID = const(0)
TX_PIN = const(0)
RX_PIN = const(1)
CTS_PIN = const(2)
RTS_PIN = const(3)
BAUD = const(115200)
# the C driver's own RX ring; the library's ring sits behind it
RXBUF = const(1024)


def uart(baudrate=BAUD, flow_control=False, rxbuf=RXBUF):
    if flow_control:
        return UART(UART_ID, baudrate=baudrate, bits=8, parity=None, stop=1,
                    tx=Pin(TX_PIN), rx=Pin(RX_PIN), rxbuf=rxbuf, timeout=0,
                    cts=Pin(CTS_PIN), rts=Pin(RTS_PIN), flow=UART.RTS | UART.CTS)
    return UART(UART_ID, baudrate=baudrate, bits=8, parity=None, stop=1,
                tx=Pin(TX_PIN), rx=Pin(RX_PIN), rxbuf=rxbuf, timeout=0)
