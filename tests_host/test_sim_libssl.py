"""The ctypes bridge to libssl: the right library, checked layout, clean failures."""

import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from ubxsim import libssl

ROOT = Path(__file__).resolve().parent.parent

MAPS = """\
7f00-7f10 r--p 00000000 fe:00 1  /opt/py/lib/python3.12/lib-dynload/_ssl.so
7f10-7f20 r--p 00000000 fe:00 2  /opt/openssl-3.2/lib/libssl.so.3
7f20-7f30 r-xp 0001f000 fe:00 2  /opt/openssl-3.2/lib/libssl.so.3
7f30-7f40 r--p 00000000 fe:00 3  /usr/lib/x86_64-linux-gnu/libcrypto.so.3
7f40-7f50 rw-p 00000000 00:00 0
"""


def test_the_libssl_mapped_for_ssl_is_the_one_taken():
    assert libssl.linked_libssl(MAPS) == "/opt/openssl-3.2/lib/libssl.so.3"


@pytest.mark.parametrize("maps", [
    MAPS.replace("libssl.so.3", "libfoo.so"),                                  # none
    MAPS + "7f50-7f60 r--p 00000000 fe:00 4  /usr/lib/libssl.so.1.1\n",        # two
])
def test_no_single_libssl_is_a_clear_error(maps):
    with pytest.raises(libssl.LibsslUnavailable, match="one libssl"):
        libssl.linked_libssl(maps)


def test_bridge_uses_the_library_ssl_runs_on():
    bridge = libssl.bridge()
    with open("/proc/self/maps") as f:
        mapped = f.read()
    assert bridge.path in mapped
    assert bridge.OpenSSL_version_num() == ssl.OPENSSL_VERSION_NUMBER


def test_pointers_are_those_of_the_objects():
    bridge = libssl.bridge()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.options |= ssl.OP_NO_TICKET   # an option only this context has
    sslobj = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())
    assert bridge.SSL_CTX_get_options(bridge.ctx_ptr(context)) == int(context.options)
    assert bridge.SSL_get_SSL_CTX(bridge.ssl_ptr(sslobj)) == bridge.ctx_ptr(context)


# A Python whose objects are laid out differently (a debug build has a larger
# PyObject_HEAD) is modelled by moving the head: the bridge must refuse it
# with a clear error, in a child process so that a crash shows as one.
CHILD = r'''
import sys
from ubxsim import libssl
try:
    libssl.Bridge(head=int(sys.argv[1]))
except libssl.LibsslUnavailable as e:
    print("REFUSED", e)
else:
    print("ACCEPTED")
'''


@pytest.mark.parametrize("shift", [8, 16, 4096])
def test_other_layout_fails_cleanly_not_with_a_crash(shift):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "sim"))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(object.__basicsize__ + shift)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, "exit %d (a crash?)\n%s" % (proc.returncode, proc.stderr)
    assert proc.stdout.startswith("REFUSED"), proc.stdout
    assert "unsupported Python" in proc.stdout or "layout" in proc.stdout


def test_unavailable_bridge_is_a_request_failure_not_a_crash(monkeypatch):
    from ubxsim import tls

    def unavailable():
        raise libssl.LibsslUnavailable("test: no libssl")
    monkeypatch.setattr(libssl, "bridge", unavailable)
    monkeypatch.setattr(libssl, "native_psk", lambda: False)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(tls.TlsFailure, match="PSK not available.*no libssl"):
        tls.set_psk_client(context, b"id", b"key")


def test_psk_is_native_where_python_has_it():
    from ubxsim import tls
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.set_psk_client(context, b"ubx-device", b"k" * 16)
    # the ctypes thunk is only there when the ssl module has no PSK API (3.13+ has)
    native = hasattr(ssl.SSLContext, "set_psk_client_callback")
    assert libssl.native_psk() == native
    assert hasattr(context, "_ubx_psk_callback") != native


def test_binary_psk_identity_goes_through_libssl():
    from ubxsim import tls
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.set_psk_client(context, b"\xff\xfeid", b"k" * 16)
    assert hasattr(context, "_ubx_psk_callback")
