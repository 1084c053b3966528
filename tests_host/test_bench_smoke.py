"""The benchmark machinery runs end to end on tiny sizes and writes every
key bench/results.json promises. No timing is asserted: only that each
figure was measured (present, of the right type, positive where a real
measurement cannot be zero)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RUN = ROOT / "bench" / "run.py"

HEAP_KEYS = {"import_peak_1k", "import_peak_8k", "min_heap_demo_flow", "ram_after_import"}
IMPORT_KEYS = {"size", "format", "baud", "seconds", "wire_seconds", "ratio"}
BUDGETS = ("zero allocation", "does not grow", "0 B per KB on both boards", "48 KB heap",
           "working heap", "wire time", ".mpy")
BOARD_KEYS = {"import_peak_1k", "import_peak_8k", "ram_after_import", "ram_after_import_all",
              "flow_working_heap", "min_heap_demo_flow", "alloc_bytes_per_kb_der",
              "alloc_bytes_per_kb_pem"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    for tool in ("micropython", "mpy-cross"):
        if not (BIN / tool).exists():
            pytest.skip("%s not installed (make setup)" % tool)
    out = tmp_path_factory.mktemp("bench") / "results.json"
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--out", str(out)],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def _check_figures(fig):
    assert fig["import"], "no import measured"
    for row in fig["import"]:
        assert set(row) == IMPORT_KEYS
        assert row["format"] in ("pem", "der")
        assert row["baud"] in (115200, 921600)
        assert row["seconds"] > 0
        assert row["wire_seconds"] == pytest.approx(row["size"] * 10 / row["baud"], rel=1e-3)
        assert row["ratio"] == pytest.approx(row["seconds"] / row["wire_seconds"], rel=1e-2)
    assert {(r["format"], r["baud"]) for r in fig["import"]} == \
        {(f, b) for f in ("pem", "der") for b in (115200, 921600)}
    assert set(fig["heap"]) == HEAP_KEYS
    for key in HEAP_KEYS:
        assert isinstance(fig["heap"][key], int) and fig["heap"][key] > 0, key
    assert isinstance(fig["alloc_bytes_per_kb_der"], (int, float))
    assert fig["mpy_bytes"] > 0
    lat = fig["urc_latency_ms"]
    assert lat["received"] > 0 and lat["p50"] <= lat["p99"]


def test_every_key_is_measured_for_the_library(results):
    res, _ = results
    _check_figures(res)


def test_naive_figures_sit_beside_ours(results):
    res, _ = results
    _check_figures(res["naive"])


def test_every_board_has_its_figures(results):
    res, _ = results
    assert set(res["boards"]) == {"unix64", "wasm32"}
    for board, fig in res["boards"].items():
        assert BOARD_KEYS <= set(fig), board
        for key in ("import_peak_1k", "ram_after_import", "ram_after_import_all",
                    "min_heap_demo_flow", "flow_working_heap"):
            assert isinstance(fig[key], int) and fig[key] > 0, (board, key)
        assert fig["md5"]["fallback_bytes_per_s"] > 0
    assert res["boards"]["wasm32"]["md5"]["hashlib_bytes_per_s"] is None   # the port has none
    assert res["boards"]["unix64"]["md5"]["hashlib_bytes_per_s"] > 0


def test_a_verdict_for_every_budget(results):
    res, stdout = results
    names = [b["budget"] for b in res["budgets"]]
    for word in BUDGETS:
        assert any(word in n for n in names), word
    for b in res["budgets"]:
        assert b["pass"] in (True, False, None)
        verdict = "SKIP" if b["pass"] is None else ("PASS" if b["pass"] else "FAIL")
        assert "%s %s" % (verdict, b["budget"]) in stdout


def test_zero_alloc_irq_check_ran(results):
    res, _ = results
    irq = res["irq"]
    assert irq["irq_calls"] > 0 and irq["md5_ok"]
