"""`mpremote mip install` of the packages on the virtual board, from a local
HTTP server serving this checkout (as github:<org>/<repo> would serve it):
the core alone (whose methods backed by an extension then name the package
to install), then extensions, then a board, each followed by a working
import. Also on the board whose flash is mounted at /flash alone (stm32):
mip picks the lib directory from the board's sys.path."""

import functools
import http.server
import threading

import pytest

import harness

CORE_CHECK = """
import ubxsec
from ubxsec import certs, profiles, chip
try:
    import ubxsec.http
    print('http present')
except ImportError:
    print('http absent')
print('core', ubxsec.__version__, ubxsec.__file__)
"""

# methods of core classes whose code is in an extension: without it, an
# ImportError naming the package; with it, the method works (checks only:
# no module is wired to this board)
EXTENSION_CHECK = """
from ubxsec.certs import Certs
from ubxsec.profiles import SecurityProfile
for f in (lambda: Certs(None).der_md5(bytes([0x30, 0])),
          lambda: SecurityProfile(None, 0).session_status(3),
          lambda: SecurityProfile(None, 0).add_cipher(0x1234)):
    try:
        print(f())
    except (ImportError, ValueError) as exc:
        print(type(exc).__name__, exc)
"""

HTTP_CHECK = """
import ubxsec
from ubxsec.http import Http
print('http', ubxsec.http.__file__)
"""

# no module is wired to this board: the board file is imported, not opened
BOARD_CHECK = """
import board
from board import uart
print('board', board.__file__, board.UART_ID, callable(uart))
"""


@pytest.fixture(scope="module")
def checkout_url():
    """http://127.0.0.1:<port>/: the checkout, read-only."""
    handler = functools.partial(_Quiet, directory=str(harness.ROOT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _lines(out):
    return [line.strip() for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("mount,lib", [("/", "/lib"), ("/flash", "/flash/lib")])
def test_mip_installs_core_then_extension_then_board(vboard_factory, checkout_url, mount, lib):
    target = harness.Target(vboard_factory(mount=mount).connect)

    out = target.mpremote("mip", "install", checkout_url + "package.json")
    assert "Installing: %s/ubxsec/at.py" % lib in out, out
    assert "ubxsec/http.py" not in out
    got = _lines(target.exec(CORE_CHECK))
    assert got == ["http absent", "core 0.2.0 %s/ubxsec/__init__.py" % lib], got
    got = _lines(target.exec(EXTENSION_CHECK))
    assert got == ["ImportError ubxsec.modfile: install its package, lib/ubxsec-modfile.json "
                   "(no module named 'ubxsec.modfile')",
                   "ImportError ubxsec.session: install its package, lib/ubxsec-session.json "
                   "(no module named 'ubxsec.session')",
                   "ImportError ubxsec.profiles_more: install its package, "
                   "lib/ubxsec-profiles_more.json (no module named 'ubxsec.profiles_more')"], got
    for name in ("modfile", "session", "profiles_more"):
        out = target.mpremote("mip", "install", checkout_url + "lib/ubxsec-%s.json" % name)
        assert "Installing: %s/ubxsec/%s.py" % (lib, name) in out, out
    got = _lines(target.exec(EXTENSION_CHECK))
    assert got == ["a46c3b54f2c9871cd81daf7a932499c0",   # MD5 of the DER 30 00
                   "ValueError session 3: allowed (0, 1, 2)",
                   "ValueError cipher 0x1234: not in the spec's Table 26"], got

    out = target.mpremote("mip", "install", checkout_url + "lib/ubxsec-http.json")
    assert _lines(out).count("Installing: %s/ubxsec/http.py" % lib) == 1, out
    got = _lines(target.exec(HTTP_CHECK))
    assert got == ["http %s/ubxsec/http.py" % lib], got
    assert _lines(target.exec(CORE_CHECK))[0] == "http present"

    out = target.mpremote("mip", "install", checkout_url + "boards/virtual.json")
    assert "Installing: %s/board.py" % lib in out, out
    got = _lines(target.exec(BOARD_CHECK))
    assert got == ["board %s/board.py 0 True" % lib], got
