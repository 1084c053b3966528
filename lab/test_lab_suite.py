"""The device suite (tests_host/test_device_suite.py) on this worker's
labgrid place: lab/conftest.py has set PORT (the place's NetworkSerialPort,
rfc2217://) and RIG_CONTROL (the simulator's control channel) from it."""

from test_device_suite import *  # noqa: F401,F403 - its tests and fixtures, as they are
