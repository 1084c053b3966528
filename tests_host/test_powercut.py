"""Power cuts during a credential rotation: a sample of tools/powercut.py's cut
points (`make powercut` runs them all), and the simulator's part of a cut:
after SIGKILL it holds what it had stored, and never a stream import whose
data had not all arrived."""

import os
import signal
import sys
from pathlib import Path

import pytest

from fixtures_board import board_missing, boards_under_test
from fixtures_sim import AtClient, SimProcess, info_lines

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import powercut  # noqa: E402


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    work = tmp_path_factory.mktemp("powercut")
    pki = powercut.Pki()
    chain = pki.p.write_server_files(str(work), pki.p.server, "srv")
    server = powercut.HttpsServer(chain, client_ca=pki.p.intermediate.pem + pki.p.root.pem,
                                  require_client_cert=True).start()
    yield powercut.Rig(work, pki, server)
    server.stop()


@pytest.mark.parametrize("rotation", ["ca", "client"])
@pytest.mark.parametrize("board", boards_under_test())
def test_sample_of_cut_points(rig, board, rotation):
    missing = board_missing(board)
    if missing:
        pytest.fail(missing, pytrace=False)
    lines = []
    n, broken = powercut.scenario(rig, board, rotation, sample=3, log=lines.append)
    assert n == 3 and broken == 0, "\n".join(lines)
    # a cut inside the rotation, not only before its first or after its last step
    assert any("-> rolled back" in line or "-> committed" in line for line in lines), lines


def _kill(sim):
    os.kill(sim.proc.pid, signal.SIGKILL)
    sim.proc.wait()
    sim.stop()


def _names(sim):
    at = AtClient(sim.link)
    try:
        at.send("ATE0")
        return [line.split(",")[1] for line in info_lines(at.send("AT+USECMNG=3"))
                if line.startswith('"')]
    finally:
        at.close()


def test_sim_keeps_an_answered_import_and_loses_an_unfinished_one(tmp_path):
    der = powercut.Pki().old_ca.der
    state = tmp_path / "state"
    sim = SimProcess(tmp_path, state=state)
    at = AtClient(sim.link)
    at.send("ATE0")
    at.send_prompt('AT+USECMNG=0,0,"Whole",%d' % len(der))
    assert b"OK" in at.send_data(der)
    at.send_prompt('AT+USECMNG=0,0,"Half",%d' % len(der))
    at.write(der[:len(der) // 2])
    at.close()
    _kill(sim)
    sim = SimProcess(tmp_path, state=state)
    try:
        names = _names(sim)
    finally:
        sim.stop()
    assert '"Whole"' in names and '"Half"' not in names, names
