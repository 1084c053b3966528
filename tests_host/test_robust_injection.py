"""Injection: every string parameter of every command, with a quote, CR, LF,
NUL, 0x1A, DEL, non-ASCII and over-long values, raises ValueError with zero
bytes on the UART (FakeUart.written), on the MicroPython unix port.

Each parameter also gets a valid value (and one of exactly its maximum
length), which must reach the wire: the check can fail.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import toolchain

ROOT = Path(__file__).resolve().parent.parent
DEVICE = ROOT / "tests_device"
MICROPYTHON = Path(sys.executable).parent / "micropython"

# Runs on the device: one fresh Module on a FakeUart per case.
DRIVER = r'''
import json, sys
import ubxsec
from fakeuart import FakeUart, reply
from ubxsec.session import SessionKeeper

DER = b"\x30\x03\x02\x01\x05"
KEY = b"\x30\x03\x02\x01\x00"

def restore(m, tag, data):
    with open("sess.json", "w") as f:
        json.dump({"v": 1, "id": 0, "tag": tag, "data": data}, f)
    SessionKeeper(m.at).restore("sess.json")

def calls(m, v):
    c = m.certs
    p = m.profile(0)
    with open("c.der", "wb") as f:
        f.write(DER)
    return {
        "import_bytes.name": lambda: c.import_bytes(DER, 0, v),
        "import_bytes.password": lambda: c.import_bytes(KEY, 2, "Key", v),
        "import_file.name": lambda: c.import_file("c.der", 0, v),
        "import_file.password": lambda: c.import_file("c.der", 2, "Key", v),
        "import_from_module_file.name": lambda: c.import_from_module_file("f.der", 0, v),
        "import_from_module_file.filename": lambda: c.import_from_module_file(v, 0, "Nm"),
        "import_from_module_file.password": lambda: c.import_from_module_file("f.der", 2, "K", v),
        "upload.module_filename": lambda: c.upload(b"abc", v),
        "remove.name": lambda: c.remove(0, v),
        "md5.name": lambda: c.md5(0, v),
        "profile.ca_name": lambda: p.ca_name(v),
        "profile.server_hostname": lambda: p.server_hostname(v),
        "profile.client_cert_name": lambda: p.client_cert_name(v),
        "profile.client_key_name": lambda: p.client_key_name(v),
        "profile.key_password": lambda: p.key_password(v),
        "profile.psk": lambda: p.psk(v),
        "profile.psk_hex": lambda: p.psk(v, hex=True),
        "profile.psk_identity": lambda: p.psk_identity(v),
        "profile.psk_identity_hex": lambda: p.psk_identity(v, hex=True),
        "profile.sni": lambda: p.sni(v),
        "profile.pinning": lambda: p.pinning(v, 1),
        "profile.alpn": lambda: p.alpn(v),
        "profile.session_id": lambda: p.session_data(2, v, "QUJD"),
        "profile.master_secret": lambda: p.session_data(2, "QUJD", v),
        "profile.session_data_3": lambda: p.session_data(3, v),
        "profile.session_data_5": lambda: p.session_data(5, v),
        "profile.session_data_12": lambda: p.session_data(12, v),
        "profile.session_data_13": lambda: p.session_data(13, v),
        "profile.session_data_15": lambda: p.session_data(15, v),
        "apply.sni": lambda: p.apply({"sni": v}),
        "apply.psk": lambda: p.apply({"ca_name": "ok", "psk": v}),
        "apply.session_data": lambda: p.apply({"session_data": (3, v)}),
        "session.restore": lambda: restore(m, 3, [v]),
        "session.restore_id": lambda: restore(m, 2, [v, "QUJD"]),
        "at.command": lambda: m.at.command('+USECPRF=0,10,"%s"' % v),
    }

out = []
for cid, value in json.load(open(sys.argv[1])):
    uart = FakeUart(lambda line: reply(b"OK"))
    m = ubxsec.Module(uart, timeout_ms=20)
    m.at.guard_ms = 0
    m.at.probe_ms = 20
    try:
        calls(m, value)[cid]()
        err = None
    except Exception as exc:
        err = type(exc).__name__
    out.append([cid, err, len(uart.written)])
print(json.dumps(out))
'''

# parameter -> (maximum length, a valid value made of characters it takes)
PARAMS = {
    "import_bytes.name": (200, "n"), "import_bytes.password": (128, "p"),
    "import_file.name": (200, "n"), "import_file.password": (128, "p"),
    "import_from_module_file.name": (200, "n"), "import_from_module_file.filename": (63, "f"),
    "import_from_module_file.password": (128, "p"), "upload.module_filename": (63, "f"),
    "remove.name": (200, "n"), "md5.name": (200, "n"),
    "profile.ca_name": (200, "n"), "profile.server_hostname": (253, "h"),
    "profile.client_cert_name": (200, "n"), "profile.client_key_name": (200, "n"),
    "profile.key_password": (128, "p"), "profile.psk": (64, "k"),
    "profile.psk_hex": (128, "a"), "profile.psk_identity": (128, "i"),
    "profile.psk_identity_hex": (256, "a"), "profile.sni": (128, "s"),
    "profile.pinning": (200, "n"), "profile.alpn": (255, "h"),
    "profile.session_id": (44, "Q"), "profile.master_secret": (64, "Q"),
    "profile.session_data_3": (8192, "Q"), "profile.session_data_5": (8192, "Q"),
    "profile.session_data_12": (8192, "Q"), "profile.session_data_13": (8192, "Q"),
    "profile.session_data_15": (8192, "Q"),
    "apply.sni": (128, "s"), "apply.psk": (64, "k"), "apply.session_data": (8192, "Q"),
    "session.restore": (8192, "Q"), "session.restore_id": (44, "Q"),
    "at.command": (None, "s"),
}

HOSTS = ("profile.server_hostname", "profile.sni", "apply.sni")

BAD_CHARS = {"quote": '"', "CR": "\r", "LF": "\n", "NUL": "\x00", "SUB": "\x1a",
             "DEL": "\x7f", "latin1": "\xe9", "euro": "\u20ac", "emoji": "\U0001f512"}


def cases():
    bad, good = [], []
    for cid, (limit, ch) in PARAMS.items():
        base = ch * 4
        good.append((cid, base))
        for label, c in BAD_CHARS.items():
            if cid == "at.command" and label == "quote":
                continue  # the raw engine sends commands that hold quoted strings
            bad.append((cid, base[:2] + c + base[2:], label))
        if limit is not None:
            # hostnames (server_hostname, sni): labels of 63 at most, dotted
            good.append((cid, ((ch * 63 + ".") * 5)[:limit] if cid in HOSTS else ch * limit))
            bad.append((cid, ch * (limit + 2), "over-long"))
    return bad, good


def run_driver(tmp_path, items):
    toolchain.require(MICROPYTHON)
    (tmp_path / "driver.py").write_text(DRIVER)
    (tmp_path / "cases.json").write_text(json.dumps([[cid, v] for cid, v, *_ in items]))
    env = dict(os.environ, MICROPYPATH="%s:%s" % (ROOT / "lib", DEVICE))
    proc = subprocess.run([str(MICROPYTHON), "-X", "heapsize=4M", "driver.py", "cases.json"],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_bad_values_raise_valueerror_and_send_nothing(tmp_path):
    bad, _ = cases()
    results = run_driver(tmp_path, bad)
    assert len(results) == len(bad)
    wrong = ["%s with %s: %s, %d bytes written" % (cid, label, err, written)
             for (cid, _, label), (_, err, written) in zip(bad, results)
             if err != "ValueError" or written != 0]
    assert not wrong, "\n".join(wrong)


def test_valid_values_reach_the_wire(tmp_path):
    _, good = cases()
    results = run_driver(tmp_path, good)
    wrong = ["%s (%d chars): %s, %d bytes written" % (cid, len(v), err, written)
             for (cid, v), (_, err, written) in zip(good, results)
             if err == "ValueError" or written == 0]
    assert not wrong, "\n".join(wrong)
