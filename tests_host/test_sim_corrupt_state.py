"""A corrupt state directory is lost NVM: the simulator starts and restarts on factory values."""

import os

from fixtures_sim import AtClient, final_result, info_lines


def test_restart_with_corrupt_profiles_file_answers(sim_factory, tmp_path):
    state = tmp_path / "nvm"
    sim = sim_factory(state=str(state), boot_seconds=0)
    at = AtClient(sim.link)
    try:
        at.send("ATE0")
        assert final_result(at.send('AT+USECPRF=0,10,"sni.test"')) == "OK"
        (state / "profiles" / "profiles.json").write_text('{"0": ')
        assert final_result(at.send("AT+CFUN=16")) == "OK"
        sim.wait_booted()
        at.send("ATE0")
        raw = at.send("AT+USECPRF=0,10")
        assert info_lines(raw) == ['+USECPRF: 0,10,""'] and final_result(raw) == "OK"
    finally:
        at.close()
    assert sim.proc.poll() is None
    assert "unreadable" in sim.stderr()


def test_start_with_corrupt_credentials_file(sim_factory, tmp_path):
    state = tmp_path / "nvm"
    os.makedirs(state / "credentials")
    (state / "credentials" / "credentials.json").write_text('{"entries": [{"type": 0}]}')
    sim = sim_factory(state=str(state))
    at = AtClient(sim.link)
    try:
        raw = at.send("AT+USECMNG=3,0")
        assert final_result(raw) == "OK"
    finally:
        at.close()
    assert "unreadable" in sim.stderr()
