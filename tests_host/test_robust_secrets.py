"""Secrets stay out of traces: a trace taken on the unix port while the
library imports an encrypted private key, sets the key password, a PSK (text
and hex), a PSK identity and session data, and receives session data in a
+UUSECPRF URC, holds none of those values (nor the key's bytes)."""

import base64
import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from test_robust_faults import DeviceProc


@pytest.fixture
def device():
    dev = DeviceProc()
    yield dev
    dev.close()


def _b64(n):
    return base64.b64encode(secrets.token_bytes(n)).decode()


def test_trace_holds_no_secret(sim_factory, device, tmp_path):
    sim = sim_factory(baud=0, families=("basic", "filesystem", "usecmng", "usecprf"))
    key_password = "kp-" + secrets.token_hex(8)
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(key_password.encode()))
    key_path = tmp_path / "key.der"
    key_path.write_bytes(key)
    values = {
        "key_password": key_password,
        "psk": "psk-" + secrets.token_hex(10),
        "psk_hex": secrets.token_hex(16).upper(),
        "psk_identity": "id-" + secrets.token_hex(10),
        "ticket": _b64(96),
        "session_id": _b64(32),
        "master_secret": _b64(48),
    }
    urc_id, urc_secret = _b64(32), _b64(48)
    assert device.call("open", link=sim.link, timeout_ms=3000, trace=True)["ok"]
    sim.control("urc", line='+UUSECPRF: 0,13,2,"%s","%s"' % (urc_id, urc_secret))
    out = device.call("secrets", key_path=str(key_path), key_name="SecretKey", **values)
    assert out["ok"], out
    # the module takes all but session IDs (it allows session tags 0, 1, 3)
    assert out["refused"] == {"session_id": "CmeError"}, out
    trace = "\n".join(out["trace"])

    # the trace saw the traffic: the import, each setting and the URC
    assert "-> AT+USECMNG=0,2," in trace and "=> [%d bytes]" % len(key) in trace
    for op in (7, 8, 9, 13):  # the settings were sent
        assert "-> AT+USECPRF=0,%d," % op in trace, trace
    assert "<- +UUSECPRF: <redacted>" in trace, trace

    print("\n" + trace)
    leaks = {name: v for name, v in dict(values, urc_id=urc_id, urc_secret=urc_secret).items()
             if v in trace or v.lower() in trace}
    assert not leaks, "secrets in the trace: %s\n%s" % (sorted(leaks), trace)
    for form in (key.hex(), key.hex().upper(), base64.b64encode(key).decode()):
        assert form[:32] not in trace
