"""The demo's provisioning flow, for the heap budget (-X heapsize=32K).

    micropython -X heapsize=32K flow_demo.py LINK PEM [RXBUF]

LINK is the simulator's pty (or any UART path vuart opens), PEM the Thawte
root (tests_device/data/thawte.pem). Runs: chip ID; import the PEM file as
CA "ThawteCA" (MD5 verified by the library, and checked against the spec's
value here); list; profile 2 with validation level 1 and CA "ThawteCA".
Prints `flow ok` at the end; any failure raises (non-zero exit). Compile
the library (and vuart) to .mpy first to measure what a board would load.
"""

import gc
import sys

from vuart import UART
import ubxsec

THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"


def main(link, pem, rxbuf=1024):
    m = ubxsec.Module(UART(link, 115200, rxbuf=rxbuf, timeout=0))
    chip = m.chip_id()
    assert chip
    md5 = m.certs.import_file(pem, 0, "ThawteCA")
    assert md5 == THAWTE_MD5, md5
    gc.collect()
    names = [e.name for e in m.certs.list()]
    assert "ThawteCA" in names, names
    p = m.profile(2)
    p.validation_level(1)
    p.ca_name("ThawteCA")
    assert p.validation_level() == 1
    assert p.ca_name() == "ThawteCA"
    m.close()
    m.uart.deinit()


main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1024)
print("flow ok")
