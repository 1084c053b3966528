"""What survives a restart: files and the chip ID persist with --state, session settings do not."""


from fixtures_sim import CORE_FAMILIES, AtClient, final_result, info_lines


def start(sim_factory, **opts):
    sim = sim_factory(families=CORE_FAMILIES, **opts)
    return sim, AtClient(sim.link)


def test_files_and_chip_id_survive_a_process_restart(sim_factory, tmp_path):
    state = tmp_path / "state"
    sim, at = start(sim_factory, state=state)
    at.send_prompt('AT+UDWNFILE="keep.pem",4')
    assert final_result(at.send_data(b"data")) == "OK"
    chip = info_lines(at.send("AT+USECCHIP"))
    at.send("AT+CMEE=2")
    at.send("ATE0")
    at.close()
    assert sim.stop() == 0

    sim, at = start(sim_factory, state=state)
    assert info_lines(at.send('AT+URDFILE="keep.pem"')) == ['+URDFILE: "keep.pem",4,"data"']
    assert info_lines(at.send("AT+USECCHIP")) == chip
    # session settings are back to their power-on values
    raw = at.send("AT+CMEE?")
    assert raw.startswith(b"AT+CMEE?\r")
    assert info_lines(raw) == ["+CMEE: 0"]
    at.close()


def test_without_state_nothing_survives_the_process(sim_factory):
    sim, at = start(sim_factory)
    at.send_prompt('AT+UDWNFILE="gone",1')
    at.send_data(b"x")
    at.close()
    sim.stop()
    sim, at = start(sim_factory)
    assert info_lines(at.send("AT+ULSTFILE=")) == ["+ULSTFILE:"]
    at.close()


def test_deleted_file_stays_deleted_after_restart(sim_factory, tmp_path):
    state = tmp_path / "state"
    sim, at = start(sim_factory, state=state)
    at.send_prompt('AT+UDWNFILE="tmp",1')
    at.send_data(b"x")
    at.send('AT+UDELFILE="tmp"')
    at.close()
    sim.stop()
    sim, at = start(sim_factory, state=state)
    assert info_lines(at.send("AT+ULSTFILE=")) == ["+ULSTFILE:"]
    at.close()


def test_module_reset_keeps_files(sim_factory, tmp_path):
    sim, at = start(sim_factory, state=tmp_path / "state")
    at.send_prompt('AT+UDWNFILE="f",2')
    at.send_data(b"ok")
    sim.control("restart")
    assert sim.control("fs_list") == ["f"]
    at.close()
