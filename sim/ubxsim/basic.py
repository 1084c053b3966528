"""V.250 and identification commands, AT+CMEE, AT+CFUN and +USECCHIP.

The chip ID is immutable for a module: it is drawn once per state directory
and kept in it (a module without a state directory draws one per process).
"""

import os
import secrets

from .cme import CmeError, INCORRECT_PARAMETERS, NOT_SUPPORTED
from .command import ACTION, READ, SET, TEST, quote

MANUFACTURER = "u-blox"
REVISION = "ubxsim 0.1.0"

CFUN_MODES = (0, 1, 4, 15, 16)
CFUN_RESETS = (15, 16)  # module reset (15 also resets the SIM)


class Identity:
    def __init__(self, device):
        self.chip_id = self._load_chip_id(device.state_path("chip"))
        self.cfun = 1

    @staticmethod
    def _load_chip_id(directory):
        if directory is None:
            return secrets.token_hex(8).upper()
        path = os.path.join(directory, "chip_id")
        try:
            with open(path) as f:
                chip_id = f.read().strip()
            if chip_id:
                return chip_id
        except FileNotFoundError:
            pass
        chip_id = secrets.token_hex(8).upper()
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(chip_id + "\n")
        os.replace(tmp, path)
        return chip_id


def _one_int(params, allowed):
    if len(params) != 1 or params[0] not in allowed:
        raise CmeError(INCORRECT_PARAMETERS, "expected one of %s" % (allowed,))
    return params[0]


def echo(device, kind, params):
    # ATE = ATE0 (V.250: a missing value is 0)
    value = params[0] if kind == SET else 0
    if kind not in (SET, ACTION) or value not in (0, 1):
        raise CmeError(INCORRECT_PARAMETERS, "ATE0 or ATE1")
    device.echo = bool(value)
    return []


def info(device, kind, params):
    value = params[0] if kind == SET else 0
    if kind not in (SET, ACTION):
        raise CmeError(INCORRECT_PARAMETERS)
    if value == 0:
        return [device.model.type_number]
    if value == 9:
        return [REVISION]
    raise CmeError(NOT_SUPPORTED, "ATI%d" % value)


def fixed_text(text):
    def handler(device, kind, params):
        if kind == TEST:
            return []
        if kind != ACTION:
            raise CmeError(INCORRECT_PARAMETERS)
        return [text]
    return handler


def cmee(device, kind, params):
    if kind == TEST:
        return ["+CMEE: (0-2)"]
    if kind == READ:
        return ["+CMEE: %d" % device.cmee]
    if kind == SET:
        device.cmee = _one_int(params, (0, 1, 2))
        return []
    raise CmeError(INCORRECT_PARAMETERS)


def cfun(device, kind, params):
    identity = device.identity
    if kind == TEST:
        return ["+CFUN: (0,1,4,15,16),(0-1)"]
    if kind == READ:
        return ["+CFUN: %d,0" % identity.cfun]
    if kind != SET or not 1 <= len(params) <= 2:
        raise CmeError(INCORRECT_PARAMETERS)
    if params[0] not in CFUN_MODES or (len(params) == 2 and params[1] not in (None, 0, 1)):
        raise CmeError(INCORRECT_PARAMETERS)
    if params[0] in CFUN_RESETS:
        device.request_restart()
    else:
        identity.cfun = params[0]
    return []


def usecchip(device, kind, params):
    if kind == TEST:
        return []
    if kind != ACTION:
        raise CmeError(INCORRECT_PARAMETERS, "AT+USECCHIP takes no parameters")
    return ["+USECCHIP: %s" % quote(device.identity.chip_id)]


def register(device):
    device.identity = Identity(device)

    def reset_volatile():
        device.identity.cfun = 1
    device.restart_hooks.append(reset_volatile)
    device.controls["chip_id"] = lambda: device.identity.chip_id
    device.register("E", echo)
    device.register("I", info)
    device.register("+CGMI", fixed_text(MANUFACTURER))
    device.register("+CGMM", fixed_text(device.model.cgmm))
    device.register("+CGMR", fixed_text(REVISION))
    device.register("+CMEE", cmee)
    device.register("+CFUN", cfun)
    device.register("+USECCHIP", usecchip)
