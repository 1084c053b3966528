"""URCs interleaved with every kind of exchange (virtual rig only).

The host (UrcSide in tests_host/test_device_suite.py) sends numbered URCs
`+UUSEQ: <n>` through the simulator's control channel every few
milliseconds, whatever the device is doing: while it is idle, while a
command line is on its way, between a '>' prompt and the data, inside a
transfer, before and after each response. It also makes the simulator send
bursts `+UUBURST: 1`, `+UUBURST: 2` (twice over) after random bytes received
inside '>' transfers and between the lines of responses. Meanwhile the tests below import, list, remove and
configure, and every answer must be what it is without URCs. The handlers
check that every URC arrives whole and in order: +UUSEQ numbers without a
gap, bursts as 1,2 pairs. The last test prints the tallies for the host to
compare with what the simulator sent. Tests run in name order (runner.py):
test_0 waits for the host's URCs before the others start.
"""

import time

from ubxsec.certs import CA, CC, PK, SC, Entry
from ubxsec.errors import CmeError
import rig
from checks import data_path, data_file

THAWTE_MD5 = "8ccadc0b22cef5be72ac411a11a8d812"  # from the spec's example


def thawte():
    # asked after the handlers are on: the host's URCs start with the first command
    return Entry("CA", "rigUrcCA", "thawte Primary Root CA",
                 rig.expiry("2036/07/17", "2036/07/16 23:59:59"))
ARM_MS = 10000


class Tally:
    """What the URC handlers saw."""

    def __init__(self):
        self.seq_count = 0
        self.seq_last = None
        self.seq_gaps = []        # (expected, got)
        self.burst_count = 0
        self.burst_next = "1"
        self.burst_bad = []       # lines out of the 1,2 order

    def on_seq(self, line):
        n = int(line[len("+UUSEQ:"):])
        if self.seq_last is not None and n != self.seq_last + 1:
            self.seq_gaps.append((self.seq_last + 1, n))
        self.seq_last = n
        self.seq_count += 1

    def on_burst(self, line):
        if line != "+UUBURST: " + self.burst_next:
            self.burst_bad.append(line)
        self.burst_next = "2" if line.endswith("1") else "1"
        self.burst_count += 1

    def check(self):
        assert not self.seq_gaps, "URCs lost or reordered: %r" % self.seq_gaps[:5]
        assert not self.burst_bad, "burst lines out of order: %r" % self.burst_bad[:5]
        assert self.burst_next == "1", "a burst ended half way"


tally = Tally()
m = rig.module()
m.on_urc("+UUSEQ:", tally.on_seq)
m.on_urc("+UUBURST:", tally.on_burst)
m.start()   # ATE0: the host starts its URCs once it sees echo off


def discard(kind, name):
    try:
        m.certs.remove(kind, name)
    except CmeError:
        pass


def in_sync():
    """The engine took no line for a response, dropped none as stray, and
    every URC had its handler; the handlers saw no disorder."""
    assert m.at.stray == 0, "%d stray lines" % m.at.stray
    assert m.at.urc_dropped == 0 and m.at.urc_errors == 0, (m.at.urc_dropped, m.at.urc_error)
    tally.check()


def test_0_urcs_arrive_while_idle():
    deadline = time.ticks_add(time.ticks_ms(), ARM_MS)
    while tally.seq_count < 3:
        assert time.ticks_diff(deadline, time.ticks_ms()) > 0, "no +UUSEQ from the host"
        m.poll()
        time.sleep_ms(5)
    in_sync()


def test_1_stream_imports_under_urcs():
    c = m.certs
    try:
        for _ in range(2):
            assert c.import_file(data_path("thawte.pem"), CA, "rigUrcCA") == THAWTE_MD5
            assert c.import_bytes(data_file("thawte.der"), SC, "rigUrcSC") == THAWTE_MD5
            assert c.import_bytes(bytearray(data_file("pk_rsa.pem")), PK, "rigUrcPK") \
                == c.der_md5(data_path("pk_rsa.pem"), PK)
            got = c.import_file(data_path("ec_key_enc.der"), PK, "rigUrcEnc", password="rig-key-pw")
            assert got == c.md5(PK, "rigUrcEnc")
            in_sync()
    finally:
        for kind, name in ((CA, "rigUrcCA"), (SC, "rigUrcSC"), (PK, "rigUrcPK"), (PK, "rigUrcEnc")):
            discard(kind, name)
    in_sync()


def test_2_upload_and_module_file_import_under_urcs():
    c = m.certs
    try:
        assert c.upload(data_file("thawte.pem"), "rig_urc.pem") == 1516
        assert c.import_from_module_file("rig_urc.pem", CA, "rigUrcCA",
                                         expect_md5=THAWTE_MD5) == THAWTE_MD5
        assert thawte() in c.list(CA)
    finally:
        discard(CA, "rigUrcCA")
        rig.delete_module_file("rig_urc.pem")   # a second upload would append to it
    in_sync()


def test_3_list_md5_remove_under_urcs():
    c = m.certs
    c.import_bytes(data_file("cc_ec.der"), CC, "rigUrcCC")
    try:
        for _ in range(10):
            names = [e.name for e in c.list()]
            assert "rigUrcCC" in names and "ubx_digicert_global_root_ca" in names
            assert [e.name for e in c.list(CC)] == ["rigUrcCC"]
            assert c.md5(CC, "rigUrcCC") == c.der_md5(data_file("cc_ec.der"), CC)
    finally:
        c.remove(CC, "rigUrcCC")
    assert "rigUrcCC" not in [e.name for e in c.list()]
    in_sync()


def test_4_profile_commands_under_urcs():
    p = m.profile(3)
    config = {"validation_level": 2, "tls_version": 3, "cipher_list": [0xC02B, 0xC02F],
              "ca_name": "rigUrcCA", "server_hostname": "urc.example", "sni": "urc.example",
              "psk": ("00aBfF", True), "psk_identity": ("rig-id", False),
              "pinning": ("rigUrcSC", 2), "ztp": 1, "alpn": "h2", "database": 2}
    try:
        for _ in range(3):
            p.apply(config, reset=True)
            got = p.read_all()
            assert got["cipher_list"] == [0xC02B, 0xC02F]
            assert got["pinning"] == ("rigUrcSC", 2)
            assert got["psk_identity"] == ("rig-id", False)
            assert (got["validation_level"], got["ztp"], got["alpn"], got["database"]) == (2, 1, "h2", 2)
            p.remove_cipher([0xC02B, 0xC02F])
            assert p.ciphers() == ("legacy", 0)
            in_sync()
    finally:
        p.reset()
    in_sync()


def test_5_refusals_under_urcs():
    c = m.certs
    for _ in range(5):
        try:
            c.md5(CA, "rigUrcMissing")
        except CmeError as exc:
            code, text = rig.md5_missing()
            assert exc.code == code or (text is not None and exc.text == text), exc
        else:
            raise AssertionError("md5 of a missing entry answered")
        assert len(m.chip_id()) > 0
    in_sync()


def test_9_every_urc_reached_its_handler():
    m.poll()
    in_sync()
    assert tally.seq_count > 3
    assert tally.burst_count % 4 == 0
    print("HOST burst-urcs %d" % tally.burst_count)
    print("HOST seq-urcs %d" % tally.seq_count)
