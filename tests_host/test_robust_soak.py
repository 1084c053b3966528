"""Soak: many transactions through the library on the unix port, with URCs
interleaved, against the simulator.

The transactions (tests_device/robust_import.py, op "soak") cycle through
AT+USECCHIP, the MD5 of a pre-installed root, a profile setting written and
read back, a read after a poll, and every 50th an import of the Thawte DER
(URC bursts land inside its data). A host thread meanwhile sends URCs through
the simulator's control channel. After warm-up the live heap (after a
collection) is sampled; it must stay flat within 1 KB, no received byte may be
lost (ring or driver), and every URC handler call must succeed.

SOAK_TRANSACTIONS sets the count (default 1000; `make soak` runs 10000).
"""

import os
import threading

import pytest

from test_robust_faults import DEVICE, DeviceProc

TRANSACTIONS = int(os.environ.get("SOAK_TRANSACTIONS", "1000"))
WARMUP = max(200, TRANSACTIONS // 10)
SAMPLES = 10
DRIFT_LIMIT = 1024
URC = "+UUSIMFAULT: 1"


@pytest.fixture
def device():
    dev = DeviceProc(heapsize="256K")
    yield dev
    dev.close()


class UrcSender(threading.Thread):
    """Sends a URC through the control channel every few milliseconds."""

    def __init__(self, sim, interval=0.01):
        super().__init__(daemon=True)
        self.sim = sim
        self.interval = interval
        self.sent = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.wait(self.interval):
            self.sim.control("urc", line=URC)
            self.sent += 1


def test_soak_heap_flat_no_loss(sim_factory, device):
    sim = sim_factory(baud=0, families=("basic", "filesystem", "usecmng", "usecprf"),
                      faults={"seed": 3, "urc_burst": {"p": 0.002, "where": ["transfer"],
                                                       "count": 2, "lines": [URC]}})
    assert device.call("open", link=sim.link, timeout_ms=2000)["ok"]
    sender = UrcSender(sim)
    sender.start()
    every = (TRANSACTIONS - WARMUP) // SAMPLES
    try:
        out = device.call("soak", wait_s=600, count=TRANSACTIONS, every=every, warmup=WARMUP,
                          root="ubx_digicert_global_root_ca", urc_prefix="+UUSIMFAULT",
                          path=str(DEVICE / "data" / "thawte.der"))
    finally:
        sender.halt.set()
        sender.join()
    bursts = sim.control("faults")["fired"].get("urc_burst", 0)
    heap = out.get("heap", [])
    drift = max(heap) - min(heap) if heap else None
    print("\nsoak: %d transactions %s, URCs sent %d (+%d bursts), handled %s; heap after "
          "warm-up %s, drift %s bytes; lost %s/%s" % (
              TRANSACTIONS, out.get("kinds"), sender.sent, bursts, out.get("urcs"), heap, drift,
              out.get("ring_lost"), out.get("overruns")))
    assert out["ok"], out
    assert sum(out["kinds"]) == TRANSACTIONS
    assert len(heap) == SAMPLES + 1
    assert drift <= DRIFT_LIMIT, heap
    assert out["ring_lost"] == 0 and out["overruns"] == 0
    assert out["urc_errors"] == 0
    # URCs really were interleaved, and none was taken for a response
    assert out["urcs"] > 0 and out["urcs"] <= sender.sent + 2 * bursts
