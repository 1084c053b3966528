"""An 8 KB import at 9600 baud on the virtual rig: its wire time (8.5 s) is
longer than the command timeout (5 s), so the timeout of an import must
grow with its size at the UART's baud rate, which the library reads from
the UART. It used to raise AtTimeout while the module stored the item."""

import hashlib

from cryptography.hazmat.primitives.asymmetric import ec

import harness
from test_sim_usecmng import cert_der_of_size


def _der_8k():
    # an ECDSA signature's length varies: some keys cannot hit the size exactly
    for _ in range(10):
        try:
            return cert_der_of_size(ec.generate_private_key(ec.SECP256R1()), 8192)
        except AssertionError:
            pass
    raise AssertionError("no 8192-byte certificate in 10 keys")


def test_8k_import_at_9600_baud_with_the_default_timeout(rig_factory, tmp_path):
    rig = rig_factory(baud=9600)
    der = _der_8k()
    local = tmp_path / "big.der"
    local.write_bytes(der)
    target = harness.Target(rig.connect)
    harness.deploy(target, harness.compile_lib(target.mpy_info(), tmp_path / "mpy"), "virtual",
                   extra=[(str(local), "/big.der")])
    out = target.exec("import ubxsec\nfrom board import uart\n"
                      "m = ubxsec.Module(uart(baudrate=9600), timeout_ms=5000)\n"
                      "print(m.certs.baud, m.certs.import_file('/big.der', ubxsec.CC, 'Big'))",
                      timeout=120)
    assert out.split() == ["9600", hashlib.md5(der).hexdigest()], out
