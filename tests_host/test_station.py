"""tools/station.py on four virtual rigs: every board provisioned in
parallel, one record per device keyed by chip ID with no secret in it;
killed once two boards are recorded and run again, it resumes: four
records, the recorded boards skipped, no credential imported twice (counted
in each simulator's event log); one board's failure never stops the others."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import harness

DATA = harness.TESTS_DEVICE / "data"
STATION = harness.ROOT / "tools" / "station.py"
SECRETS = ("rig-key-pw", "0a1b2c3d", "station-identity")


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "station.json"
    path.write_text(json.dumps({
        "certificates": [
            {"file": str(DATA / "thawte.pem"), "type": "CA", "name": "StationCA"},
            {"file": str(DATA / "cc_ec.der"), "type": "CC", "name": "StationCC"},
            {"file": str(DATA / "ec_key_enc.der"), "type": "PK", "name": "StationPK",
             "password": "rig-key-pw"},
        ],
        "profiles": {"2": {"validation_level": 1, "ca_name": "StationCA",
                           "client_cert_name": "StationCC", "client_key_name": "StationPK",
                           "key_password": "rig-key-pw", "psk": ["0a1b2c3d", True],
                           "psk_identity": "station-identity"}},
    }))
    return path


def _rigs(sim_factory, vboard_factory, tmp_path, n):
    rigs = []
    for i in range(n):
        sim = sim_factory(baud=115200, state=tmp_path / ("module%d" % i), extra_args=["--verbose"])
        board = vboard_factory(uart=sim.link, flash=tmp_path / ("flash%d" % i))
        rigs.append((sim, board))
    return rigs


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _imports(sim):
    """Names imported, from the simulator's event log (one line per import)."""
    names = []
    for line in sim.stderr().splitlines():
        if line.startswith("ubxsim: import op "):
            names.append(line.split()[6].strip('"'))
    return names


def test_station_four_rigs_killed_after_two_then_resumed(sim_factory, vboard_factory, tmp_path, config):
    rigs = _rigs(sim_factory, vboard_factory, tmp_path, 4)
    record = tmp_path / "records.jsonl"
    env = {k: v for k, v in os.environ.items() if k not in ("BOARD", "PORT", "PORTS")}
    cmd = [sys.executable, str(STATION), str(config), "--record", str(record), "--jobs", "2",
           "--ports"] + [board.connect for _, board in rigs]

    first = subprocess.Popen(cmd, cwd=str(harness.ROOT), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while first.poll() is None and len(_records(record)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)        # killed after the second board
    except ProcessLookupError:
        pass
    first.wait(30)
    recorded = _records(record)
    assert len(recorded) == 2 and all(r["result"] == "ok" for r in recorded), recorded
    imports_before = [len(_imports(sim)) for sim, _ in rigs]
    assert sum(imports_before) >= 6, imports_before     # two boards' three credentials at least

    again = subprocess.run(cmd, cwd=str(harness.ROOT), env=env, capture_output=True, text=True,
                           timeout=900)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "4 board(s): 2 provisioned, 2 skipped (already recorded), 0 failed" in again.stdout, again.stdout

    records = _records(record)
    assert len(records) == 4 and all(r["result"] == "ok" for r in records), records
    assert sorted(r["chip_id"] for r in records) == sorted(sim.control("chip_id") for sim, _ in rigs)
    for rec in records:
        assert [c["md5"] for c in rec["credentials"]][0] == "8ccadc0b22cef5be72ac411a11a8d812"
        assert rec["profiles"]["2"]["ca_name"] == "StationCA" and "psk_identity" not in rec["profiles"]["2"]
        assert rec["tool"].startswith("ubxsec-station ") and rec["time"].endswith("Z")
    text = record.read_text()
    for secret in SECRETS:
        assert secret not in text, secret
    for sim, _ in rigs:                # every credential imported once, on every module
        assert sorted(_imports(sim)) == ["StationCA", "StationCC", "StationPK"], _imports(sim)
        assert "rig-key-pw" not in sim.stderr()     # the event log names, never a password


def test_one_board_failing_never_stops_the_others(sim_factory, vboard_factory, tmp_path, config):
    (sim, board), = _rigs(sim_factory, vboard_factory, tmp_path, 1)
    record = tmp_path / "records.jsonl"
    proc = subprocess.run([sys.executable, str(STATION), str(config), "--record", str(record),
                           "--ports", str(tmp_path / "no-such-board"), board.connect],
                          cwd=str(harness.ROOT), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 board(s): 1 provisioned, 0 skipped (already recorded), 1 failed" in proc.stdout, proc.stdout
    assert "FAILED %s" % (tmp_path / "no-such-board") in proc.stdout
    results = sorted((r["port"], r["result"][:6]) for r in _records(record))
    assert results == sorted([(board.connect, "ok"), (str(tmp_path / "no-such-board"), "failed")])
    assert sorted(_imports(sim)) == ["StationCA", "StationCC", "StationPK"]
