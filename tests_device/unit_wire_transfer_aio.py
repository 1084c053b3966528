"""Every test of unit_wire_transfer.py again, through the asyncio front end
(ubxsec.aio.AsyncEngine; frontend.py)."""

import frontend

frontend.use("aio")

from unit_wire_transfer import *  # noqa: E402,F401,F403 - the same test functions
