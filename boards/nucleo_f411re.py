"""ST NUCLEO-F411RE wired to the module's main UART.

USART2 (PA2/PA3) is the ST-LINK virtual COM port that carries the REPL, so
the module goes on USART1. Wiring (the module's logic is 1.8 V on SARA-R5-class
modules: use a level translator between the 3.3 V board and the module):

    PA9  (CN10-21, Arduino D8, USART1 TX)  ->  module TXD  (DTE data in)
    PA10 (CN10-33, Arduino D2, USART1 RX)  <-  module RXD  (DTE data out)
    PA11 (CN10-14, USART1 CTS)             <-  module CTS  (optional flow control)
    PA12 (CN10-12, USART1 RTS)             ->  module RTS  (optional flow control)
    GND                                    --  module GND

stm32's default UART rxbuf is only 64 bytes: a modem needs far more.
"""

from micropython import const
from machine import UART

UART_ID = const(1)
BAUD = const(115200)
RXBUF = const(1024)


def uart(baudrate=BAUD, flow_control=False, rxbuf=RXBUF):
    flow = (UART.RTS | UART.CTS) if flow_control else 0
    return UART(UART_ID, baudrate=baudrate, bits=8, parity=None, stop=1,
                flow=flow, rxbuf=rxbuf, timeout=0)
