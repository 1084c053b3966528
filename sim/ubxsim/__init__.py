"""ubxsim: a simulator of a u-blox cellular module's security AT commands.

`python -m ubxsim --link PATH` serves the module on a pty; build_device()
assembles the command families into a Device.
"""

import importlib

from .device import Device
from .models import DEFAULT as DEFAULT_MODEL

FAMILIES = ("basic", "clock", "filesystem", "usecmng", "usecprf", "http")


def build_device(state_dir=None, families=FAMILIES, model=DEFAULT_MODEL):
    """A Device of `model` (models.py) with every family in `families`
    registered, in order."""
    device = Device(state_dir, model)
    for family in families:
        module = importlib.import_module("." + family, __name__)
        module.register(device)
    return device
