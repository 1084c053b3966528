"""Rules of the simulator's TLS client (sim/ubxsim/tls.py) that
test_sim_tls.py leaves open (issue 19 item 17): TLS version 0 ("any") is TLS
1.2 only, and the host name check (op 4, or the server name when op 4 is
empty) follows RFC 6125 as the module does: letter case and a final dot
ignored, a wildcard covers one left-most label, the SAN names a certificate
has replace its CN. Each pair is set right (+UUHTTPCR result 1) and wrong
(0) against a local HTTPS server, as test_sim_tls.py does.
"""

import ssl

import pytest

import test_sim_tls as base
from pki import _issue
from test_sim_tls import HOST, at, https_get, reason, trust

# test_sim_tls.py's fixtures: its device, its PKI, its local HTTPS server
device, pki, serve = base.device, base.pki, base.serve

TLS12_13 = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
TLS13 = (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)


# ---------------------------------------------------------------- TLS version (op 1)

@pytest.mark.parametrize("version", [0, 3])
def test_any_version_never_negotiates_tls_1_3_with_a_server_that_offers_it(
        device, pki, serve, version):
    server = serve(versions=TLS12_13)
    trust(device, pki)
    at(device, "AT+USECPRF=2,1,%d" % version)
    assert https_get(device) == 1
    assert server.wait(1)[0]["version"] == "TLSv1.2"


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_no_version_connects_to_a_tls_1_3_only_server(device, pki, serve, version):
    server = serve(versions=TLS13)
    trust(device, pki)
    at(device, "AT+USECPRF=2,1,%d" % version)
    if version in (1, 2):
        at(device, "AT+USECPRF=2,2,21")  # 0xC009, usable below TLS 1.2
    assert https_get(device) == 0
    assert server.wait(1)[0]["version"] is None


# ---------------------------------------------------------------- host name (op 4)

@pytest.fixture
def leaf(pki):
    """leaf(cn, hosts): a server certificate from the test intermediate."""
    return lambda cn, hosts: _issue(cn, pki.intermediate, hosts=hosts)


@pytest.mark.parametrize("configured", ["SERVER.TEST", "Server.Test", "server.test."])
def test_host_name_check_ignores_letter_case_and_a_final_dot(device, pki, serve, configured):
    serve()
    trust(device, pki, level=2)
    at(device, 'AT+USECPRF=2,4,"%s"' % configured)
    assert https_get(device) == 1


@pytest.mark.parametrize("level, expected", [(2, 1), (3, 1)])
def test_a_certificate_name_in_capitals_matches(device, pki, serve, leaf, level, expected):
    serve(leaf=leaf("SERVER.TEST", ("SERVER.Test",)))
    if level == 3:
        device.controls["nitz"]()  # level 3 checks dates at the module's clock: set it
    trust(device, pki, level=level)
    at(device, 'AT+USECPRF=2,4,"%s"' % HOST)
    assert https_get(device) == expected


@pytest.mark.parametrize("configured, expected", [
    ("a.wild.test", 1), ("A.Wild.Test", 1),
    ("a.b.wild.test", 0),   # a wildcard covers one label
    ("wild.test", 0),       # and never the bare domain
    ("wild", 0),            # nor a name of one label
])
def test_a_wildcard_covers_one_left_most_label(device, pki, serve, leaf, configured, expected):
    serve(leaf=leaf("wildcard", ("*.wild.test",)))
    trust(device, pki, level=2)
    at(device, 'AT+USECPRF=2,4,"%s"' % configured)
    assert https_get(device) == expected
    if not expected:
        assert "does not match host" in reason(device)


def test_san_names_replace_the_common_name(device, pki, serve, leaf):
    serve(leaf=leaf(HOST, ("elsewhere.test",)))
    trust(device, pki, level=2)
    at(device, 'AT+USECPRF=2,4,"%s"' % HOST)
    assert https_get(device) == 0
    assert "does not match host" in reason(device)


@pytest.mark.parametrize("cn, expected", [(HOST, 1), ("Server.Test", 1), ("elsewhere.test", 0)])
def test_without_san_the_common_name_is_checked(device, pki, serve, leaf, cn, expected):
    serve(leaf=leaf(cn, ()))
    trust(device, pki, level=2)
    at(device, 'AT+USECPRF=2,4,"%s"' % HOST)
    assert https_get(device) == expected


def test_level_2_without_op_4_refuses_a_certificate_for_another_host(device, pki, serve):
    serve(leaf=pki.wrong_host)
    trust(device, pki, level=2)
    assert https_get(device) == 0
    assert "does not match host %r" % HOST in reason(device)
