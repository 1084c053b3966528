"""Raspberry Pi Pico (RP2040) wired to the module's main UART.

Wiring (UART0; the module's logic is 1.8 V on SARA-R5-class modules: put a
level translator such as a TXB0104 between the 3.3 V Pico and the module):

    Pico GP0  (pin 1, UART0 TX)  ->  module TXD  (DTE data in)
    Pico GP1  (pin 2, UART0 RX)  <-  module RXD  (DTE data out)
    Pico GP2  (pin 4, UART0 CTS) <-  module CTS  (flow control: see below)
    Pico GP3  (pin 5, UART0 RTS) ->  module RTS  (flow control: see below)
    Pico GND  (pin 3)            --  module GND

rp2 only accepts CTS on a GPIO n with n % 4 == 2 and RTS with n % 4 == 3.

RTS/CTS: wire it, and use uart(flow_control=True) (or set FLOW_CONTROL =
True below), whenever the application writes flash while the module may
talk (saving a TLS session, a log or any file), runs above 115200 baud, or
can leave the UART unread longer than its buffers last (RXBUF bytes: 89 ms
at 115200). Without it, bytes are lost without a trace: rp2 erases and
programs flash with interrupts off (the 32-byte hardware FIFO lasts 2.8 ms
at 115200), and when the driver's rxbuf is full it stops draining the FIFO
and ignores the overrun. With it, the UART itself drops RTS as its FIFO
fills, interrupts or not, and the module waits. The library also drains the
line before its own flash write (SessionKeeper.save), but it cannot stop a
URC the module starts sending during the write.

Flow control off: leave GP2/GP3 unconnected and either tie the module's RTS
input to its active (low) level or turn the module's flow control off with
AT&K0; a floating CTS input would hold the Pico's TX.
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
# True once GP2/GP3 are wired to the module's CTS/RTS (see above)
FLOW_CONTROL = False


def uart(baudrate=BAUD, flow_control=None, rxbuf=RXBUF):
    if flow_control is None:
        flow_control = FLOW_CONTROL
    if flow_control:
        return UART(UART_ID, baudrate=baudrate, bits=8, parity=None, stop=1,
                    tx=Pin(TX_PIN), rx=Pin(RX_PIN), rxbuf=rxbuf, timeout=0,
                    cts=Pin(CTS_PIN), rts=Pin(RTS_PIN), flow=UART.RTS | UART.CTS)
    return UART(UART_ID, baudrate=baudrate, bits=8, parity=None, stop=1,
                tx=Pin(TX_PIN), rx=Pin(RX_PIN), rxbuf=rxbuf, timeout=0)
