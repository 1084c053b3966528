"""Every test of unit_at.py and unit_at_contract.py again, through the
asyncio front end (ubxsec.aio.AsyncEngine) on the late, piecewise fake UART
(frontend.py)."""

import frontend

frontend.use("aio")

from unit_at import *  # noqa: E402,F401,F403 - the same test functions
from unit_at_contract import *  # noqa: E402,F401,F403
