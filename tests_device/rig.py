"""The module the on-rig tests (tests_device/test_*.py) talk to.

One ubxsec.Module per run, on the UART of the board that /board.py selects
(one line, e.g. `from boards.pico import uart`; the HIL harness writes it).
Without /board.py, the virtual board's wiring (boards.virtual) is used.
"""

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
