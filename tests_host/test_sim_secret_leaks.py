"""Secrets given to the module stay in it: not in logs, not in a world-readable file."""

import os
import stat

from fixtures_sim import CORE_FAMILIES, AtClient, final_result
from ubxsim import usecprf
from ubxsim.command import SET, parse_params
from ubxsim.device import Device

SECRET = "s3cretPSK"


def test_profiles_file_is_owner_only(tmp_path):
    dev = Device(state_dir=str(tmp_path))
    usecprf.register(dev)
    dev.handlers["+USECPRF"](dev, SET, parse_params('0,8,"%s"' % SECRET))
    state_dir = os.path.join(str(tmp_path), "profiles")
    path = os.path.join(state_dir, usecprf.STATE_FILE)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert SECRET.encode().hex() in open(path).read()  # the file is the one holding it
    assert os.listdir(state_dir) == [usecprf.STATE_FILE]  # no temp file left behind


def test_bad_command_line_is_not_logged_with_its_secrets(sim_factory):
    sim = sim_factory(families=CORE_FAMILIES + ("usecmng", "usecprf"), extra_args=["--verbose"])
    client = AtClient(sim.link)
    try:
        assert final_result(client.send('AT+USECPRF=0,8,"%s";1' % SECRET)) == "ERROR"
        assert final_result(client.send('AT+USECMNG=0,2,"k",10,"%s"junk' % SECRET)) == "ERROR"
        assert final_result(client.send("AT")) == "OK"
    finally:
        client.close()
    log = sim.stderr()
    assert "command line error" in log  # the log is on, and the errors were logged
    assert SECRET not in log
