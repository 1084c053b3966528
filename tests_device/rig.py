"""The module the on-rig tests (tests_device/test_*.py) talk to.

One ubxsec.Module per run, on the UART of the board that /board.py selects
(one line, e.g. `from boards.pico import uart`; the HIL harness writes it).
Without /board.py, the virtual board's wiring (boards.virtual) is used.
"""

import time

from ubxsec.errors import AtTimeout

_module = None
_series = None

# 3GPP TS 27.007's verbose texts for the codes the tests meet
TEXTS = {3: "operation not allowed", 4: "operation not supported", 20: "memory full",
         22: "not found", 24: "text string too long", 50: "incorrect parameters"}

# How real series answer where they differ from the spec, keyed by their
# AT+CGMM answer (the simulator's models copy them: sim/ubxsim/models.py).
#   md5_missing      MD5 of a name not stored: (code, verbose text; None when
#                    the number comes in both AT+CMEE modes)
#   texts            verbose texts other than 3GPP's
#   full_store_plain an 11th import is refused with a bare ERROR before the `>`
#   expiry_datetime  the list gives a user certificate's expiry as notAfter,
#                    "YYYY/MM/DD hh:mm:ss" (the spec: the date of notAfter + 1 s)
SERIES = {
    "SARA-R510M8S": {"expiry_datetime": True},
    "SARA-R410M-02B": {"full_store_plain": True},
    "SARA-R422": {"md5_missing": (4, None)},
    "LENA-R8001": {"md5_missing": (50, "parameters are invalid"),
                   "texts": {50: "parameters are invalid"}},
}


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


def series():
    """The module's AT+CGMM answer (its series), asked once."""
    global _series
    if _series is None:
        # the answer is bare text: name what it starts with (any other line is a URC)
        lines = module().at.command("+CGMM", info=("SARA-", "LENA-", "LARA-", "TOBY-", "LISA-"))
        _series = lines[-1] if lines else ""
    return _series


def quirk(key, default=None):
    return SERIES.get(series(), {}).get(key, default)


def text(code):
    """The module's verbose text for a +CME ERROR code."""
    return quirk("texts", {}).get(code, TEXTS[code])


def md5_missing():
    """(code, verbose text or None) of the MD5 of a name that is not stored."""
    return quirk("md5_missing", (22, text(22)))


def expiry(date, date_time):
    """How the list shows a user certificate's expiry: `date` (the date of
    notAfter + 1 s) or `date_time` (notAfter itself) on the series that do."""
    return date_time if quirk("expiry_datetime") else date


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


# -- leaving the rig as it was found ---------------------------------------------
# A real module keeps its state between runs (and AT+UDWNFILE appends to a file
# that exists): every test removes what it creates, and cleanup.py removes what
# an interrupted run left. What the tests create is named here.
PREFIX = "rig"                  # certificates and keys: rigThawte, rigErrCC, ...
FILE_PREFIX = "rig_"            # module files: rig_thawte.pem, rig_err.pem, ...
PROFILES = (1, 2, 3, 4)         # the profiles the tests use (0 is the demo's)
BOARD_FILES = ("rig_lf.pem", "rig_bad.pem", "rig_session.json", "ubxsec_rig_session.json")


def module_files():
    """The names in the module's file system (AT+ULSTFILE)."""
    names = []
    for line in module().at.command("+ULSTFILE=0"):
        body = line[len("+ULSTFILE:"):].strip()
        names += [n.strip('"') for n in body.split(",") if n.strip('"')]
    return names


def delete_module_file(name):
    """AT+UDELFILE; a file that is not there is no error."""
    from ubxsec.errors import CmeError
    try:
        module().at.command('+UDELFILE="%s"' % name)
    except CmeError:
        pass
