"""Session resumption through +UUSECPRF URCs (virtual rig only).

A device cannot make the module finish a TLS handshake by AT commands alone,
so the host (SessionSide in tests_host/test_device_suite.py) stands in for
one: every 50 ms it tells the simulator that a handshake on profile 4 ended
with the session ticket TICKET. The module stores it and sends
`+UUSECPRF: 4,13,0,2` when session resumption is enabled on profile 4, and
does nothing while it is disabled. Tests run in name order (runner.py): the
ticket captured by test_1 is restored by the later ones; the last one resets
profiles 2 and 4 and checks that the URCs stop. It prints
`HOST session-urcs <n>`: the status URCs for profile 4 that reached the
handler, which the host compares with those the simulator sent.
"""

import json
import os
import time
from binascii import b2a_base64

from ubxsec.session import SessionKeeper
from ubxsec.trace import Trace
import rig

PROFILE = 4
# the host sends the same bytes (SessionSide.TICKET)
TICKET = bytes([(i * 13 + 5) & 0xFF for i in range(96)])
TICKET_B64 = b2a_base64(TICKET).decode().strip()
PATH = "rig_session.json"
WAIT_MS = 10000

m = rig.module()
keeper = SessionKeeper(m.at)   # one per engine: it owns "+UUSECPRF:"
STATUS_URC = "+UUSECPRF: %d,13,0,2" % PROFILE
status_urcs = [0]


def _count_then_keep(line):
    # counts what reached the engine's handler, then the keeper does its job
    if line == STATUS_URC:
        status_urcs[0] += 1
    keeper._on_urc(line)


m.at.on_urc("+UUSECPRF:", _count_then_keep)


def wait_for_status(profile_id, status):
    """Poll for URCs until the keeper has seen `status` for the profile."""
    deadline = time.ticks_add(time.ticks_ms(), WAIT_MS)
    while keeper.status(profile_id) != status:
        assert time.ticks_diff(deadline, time.ticks_ms()) > 0, \
            "no +UUSECPRF status %d for profile %d" % (status, profile_id)
        m.poll()
        time.sleep_ms(10)


def test_1_a_ticket_urc_is_captured_and_saved():
    p = m.profile(PROFILE)
    p.reset()
    keeper.forget(PROFILE)
    p.session_status(1)
    wait_for_status(PROFILE, 2)
    assert not keeper.has_data(PROFILE)   # a ticket URC carries no data
    assert keeper.capture(PROFILE)        # so it is read from the profile
    assert p.session_data(3) == TICKET_B64
    keeper.save(PROFILE, PATH)
    with open(PATH) as f:
        doc = json.load(f)
    assert doc == {"v": 1, "id": PROFILE, "tag": 3, "data": [TICKET_B64]}
    assert keeper.malformed == 0


def test_2_the_ticket_is_given_back_after_a_power_cycle():
    p = m.profile(PROFILE)
    rig.power_cycle(m)
    assert p.session_status() == 0        # the module forgot it
    assert p.session_data(3) == ""
    keeper.restore(PATH)
    assert p.session_type() == 1
    assert p.session_data(3) == TICKET_B64
    assert p.session_status() == 2


def test_3_a_saved_ticket_goes_to_another_profile():
    q = m.profile(2)
    q.reset()
    try:
        keeper.restore(PATH, 2)
        assert q.session_data(3) == TICKET_B64
        assert q.session_status() == 2
    finally:
        q.reset()
    assert q.session_status() == 0 and q.session_data(3) == ""


def test_4_the_trace_never_shows_the_ticket():
    lines = []
    m.at.trace = Trace(lines.append)
    try:
        keeper.forget(PROFILE)
        wait_for_status(PROFILE, 2)       # URCs go on while resumption is enabled
        assert keeper.capture(PROFILE)
    finally:
        m.at.trace = None
    assert "<- +UUSECPRF: <redacted>" in lines, lines
    assert any(l.startswith("-> AT+USECPRF=") for l in lines), lines   # the read was traced
    for line in lines:
        assert TICKET_B64[:16] not in line, line


def test_9_a_reset_profile_stops_the_urcs():
    try:
        m.profile(2).reset()
        m.profile(PROFILE).reset()
        assert m.profile(PROFILE).session_status() == 0
        assert m.profile(PROFILE).session_data(3) == ""
        # the host still reports a handshake every 50 ms: with resumption
        # disabled the module stores nothing and sends nothing
        keeper.forget(PROFILE)
        deadline = time.ticks_add(time.ticks_ms(), 500)
        while time.ticks_diff(deadline, time.ticks_ms()) > 0:
            m.poll()
            time.sleep_ms(10)
        assert keeper.status(PROFILE) is None, keeper.status(PROFILE)
        assert m.profile(PROFILE).session_data(3) == ""
        assert keeper.malformed == 0
    finally:
        m.profile(2).reset()
        m.profile(PROFILE).reset()
        os.remove(PATH)
        print("HOST session-urcs %d" % status_urcs[0])
