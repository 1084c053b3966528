"""+USECPRF's NVM copy when the disk misbehaves: failed writes, corrupt files."""

import copy
import errno
import os

import pytest

from ubxsim import usecprf
from ubxsim.cme import MEMORY_FAILURE, CmeError
from ubxsim.command import SET, parse_params
from ubxsim.device import Device
from ubxsim.profile import Profile


def make_device(state_dir):
    dev = Device(state_dir=state_dir)
    usecprf.register(dev)
    return dev


def at(dev, text):
    return dev.handlers["+USECPRF"](dev, SET, parse_params(text))


def state_file(tmp_path):
    return os.path.join(str(tmp_path), "profiles", usecprf.STATE_FILE)


def test_failed_save_is_memory_failure_and_changes_nothing(tmp_path, monkeypatch):
    dev = make_device(str(tmp_path))
    at(dev, '0,10,"before.test"')
    before = copy.deepcopy(dev.profiles.profiles)
    saved_text = open(state_file(tmp_path)).read()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "no space left")
    monkeypatch.setattr(usecprf.tempfile, "mkstemp", disk_full)
    for command in ('0,10,"after.test"', "0", '0,13,0,1'):
        with pytest.raises(CmeError) as err:
            at(dev, command)
        assert err.value.code == MEMORY_FAILURE
        assert dev.profiles.profiles == before
    assert open(state_file(tmp_path)).read() == saved_text


CORRUPT = ['{"0": {"sni": "half', "[1, 2]", '{"0": {"psk": "zz"}}', '{"0": []}']


@pytest.mark.parametrize("content", CORRUPT)
def test_corrupt_file_at_power_up_gives_factory_profiles(tmp_path, content, capsys):
    at(make_device(str(tmp_path)), '1,10,"kept.test"')
    with open(state_file(tmp_path), "w") as f:
        f.write(content)
    dev = make_device(str(tmp_path))
    assert dev.profiles.profiles == {pid: Profile() for pid in usecprf.PROFILE_IDS}
    assert "unreadable" in capsys.readouterr().err


def test_corrupt_file_at_restart_gives_factory_profiles(tmp_path, capsys):
    dev = make_device(str(tmp_path))
    at(dev, '1,10,"kept.test"')
    with open(state_file(tmp_path), "w") as f:
        f.write(CORRUPT[0])
    dev.restart()
    assert dev.profiles.profiles[1] == Profile()
    assert "unreadable" in capsys.readouterr().err


def test_a_failing_restart_hook_does_not_stop_the_others(tmp_path):
    dev = Device(state_dir=None)
    ran = []

    def broken():
        raise RuntimeError("hook failed")
    dev.restart_hooks += [broken, lambda: ran.append(True)]
    dev.restart()
    assert ran == [True]
