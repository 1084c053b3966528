"""The module the on-rig tests (tests_device/test_*.py) talk to.

One ubxsec.Module per run, on the UART of the board that /board.py selects
(one line, e.g. `from boards.pico import uart`; the HIL harness writes it).
Without /board.py, the virtual board's wiring (boards.virtual) is used.
"""

import time

from ubxsec.errors import AtTimeout

_module = None


def uart():
    try:
        from board import uart as make
    except ImportError:   # no /board.py on this device
        from boards.virtual import uart as make
    return make()


def module():
    global _module
    if _module is None:
        import ubxsec
        _module = ubxsec.Module(uart())
    return _module


def power_cycle(m):
    """AT+CFUN=16 (module reset), then wait until it answers AT again."""
    m.at.command("+CFUN=16")
    for _ in range(25):
        time.sleep_ms(200)
        try:
            m.at.command("", 500)
            break
        except AtTimeout:
            pass  # still booting: the engine resynchronises
    else:
        raise AssertionError("the module did not come back")
    m.at.command("E0")        # a restart turns echo on and +CME codes off
    m.at.command("+CMEE=2")
