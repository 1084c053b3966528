"""The module clock (+CCLK, +CTZR, network time) and what the HTTP client
reports when a request fails (+UHTTPER), against a real local HTTPS server.

Validation level 3 checks certificate dates at the module's clock: a valid
certificate fails while the clock is at its power-on date and passes once it
is set; a clock set past a certificate's end fails it, whatever the host's
time. Handlers are called in-process, as in test_sim_tls.py.
"""

import datetime
import socket

import pytest

from ubxsim import build_device, clock, http
from ubxsim.cme import CmeError
from ubxsim.command import READ, SET, parse_params

from fixtures_sim import AtClient, final_result, info_lines
from test_sim_tls import (HOST, at, device, https_get, import_credential,  # noqa: F401
                          pki, reason, serve, trust)


def cclk(dev):
    (line,) = dev.handlers["+CCLK"](dev, READ, [])
    assert line.startswith('+CCLK: "') and line.endswith('"')
    return line[8:-1]


def set_cclk(dev, text):
    return dev.handlers["+CCLK"](dev, SET, parse_params('"%s"' % text))


def uhttper(dev, pid=0):
    (line,) = at(dev, "AT+UHTTPER=%d" % pid)
    return line


def module_time(when):
    return clock.render(when, 0)


NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


# ---------------------------------------------------------------- +CCLK

@pytest.mark.parametrize("model, start", [("spec", "15/01/01,00:00:0"),
                                          ("sara-r410m", "80/01/06,00:00:0"),
                                          ("lena-r8", "00/01/01,00:00:0")])
def test_clock_starts_at_the_models_date(model, start):
    dev = build_device(None, model=model)
    assert cclk(dev).startswith(start) and cclk(dev).endswith("+00")
    assert dev.model.describe()["clock_start"].startswith(start)


def test_cclk_set_reads_back_and_runs_on():
    dev = build_device(None)
    assert set_cclk(dev, "26/12/07,10:00:00+04") == []
    assert cclk(dev)[:17] in ("26/12/07,10:00:00", "26/12/07,10:00:01")
    assert cclk(dev).endswith("+04")
    # local time 10:00 at +04 (quarter hours: one hour) is 09:00 UTC
    assert dev.clock.now().replace(microsecond=0) - datetime.datetime(
        2026, 12, 7, 9, 0, tzinfo=datetime.timezone.utc) < datetime.timedelta(seconds=2)
    set_cclk(dev, "99/12/31,23:59:59-08")
    assert dev.clock.now().year == 2000   # yy 99 is 1999, local; 23:59:59-08 is 01:59:59 UTC


@pytest.mark.parametrize("text", ["26/13/01,00:00:00+00", "26/02/30,00:00:00+00",
                                  "26/12/07 10:00:00+00", "26/12/07,10:00:00+97",
                                  "26/12/07,10:00:00", "2026/12/07,10:00:00+00",
                                  "26/12/07,24:00:00+00"])
def test_cclk_refuses_what_is_not_a_time(text):
    dev = build_device(None)
    with pytest.raises(CmeError) as err:
        set_cclk(dev, text)
    assert err.value.code == 50
    assert cclk(dev).startswith("15/01/01")


def test_a_restart_brings_the_power_on_date_back():
    dev = build_device(None)
    set_cclk(dev, "26/12/07,10:00:00+00")
    dev.handlers["+CTZR"](dev, SET, [2])
    dev.restart()
    assert cclk(dev).startswith("15/01/01")
    assert dev.handlers["+CTZR"](dev, READ, []) == ["+CTZR: 0"]


@pytest.mark.parametrize("mode, urc", [
    (0, None),
    (1, '+CTZV: +04,"26/01/02,04:04:05+04"'),
    (2, '+CTZE: +04,1,"26/01/02,04:04:05+04"'),
])
def test_network_time_sets_the_clock_and_reports_as_ctzr_asks(mode, urc):
    dev = build_device(None)
    sent = []
    dev.urc_sink = sent.append
    dev.handlers["+CTZR"](dev, SET, [mode])
    out = dev.controls["nitz"](time="2026-01-02T03:04:05Z", tz=4, dst=1)
    assert out["source"] == "nitz" and out["cclk"][:8] == "26/01/02"
    assert sent == ([] if urc is None else [urc[:-7] + sent[0][-7:]])
    if urc is not None:   # the seconds may have moved on by one
        assert sent[0][:-6] == urc[:-6]


def test_ctzr_refuses_other_modes():
    dev = build_device(None)
    with pytest.raises(CmeError):
        dev.handlers["+CTZR"](dev, SET, [5])


def test_nitz_and_cclk_over_the_wire(sim_factory):
    sim = sim_factory(boot_seconds=0)
    link = AtClient(sim.link)
    try:
        link.send("ATE0")
        assert info_lines(link.send("AT+CCLK?"))[0].startswith('+CCLK: "15/01/01,00:00:')
        assert final_result(link.send("AT+CTZR=1")) == "OK"
        sim.control("nitz", time="2026-03-04T05:06:07Z", tz=-8)
        seen = link.read_until(rb"\+CTZV: [^\r]*\r\n", timeout=5)
        assert b'+CTZV: -08,"26/03/04,03:06:0' in seen   # -08: two hours behind UTC
        assert info_lines(link.send("AT+CCLK?"))[0].startswith('+CCLK: "26/03/04,03:06:')
    finally:
        link.close()


# ---------------------------------------------------------------- level 3 at the module's clock

def test_level_3_fails_on_an_unset_clock_and_passes_once_set(device, pki, serve):
    serve()
    trust(device, pki, level=3)
    assert https_get(device) == 0
    assert "not yet valid" in reason(device)
    assert uhttper(device) == "+UHTTPER: 0,3,203"
    set_cclk(device, module_time(NOW))
    assert https_get(device) == 1
    assert uhttper(device) == "+UHTTPER: 0,0,0"


def test_level_3_checks_the_module_clock_not_the_hosts(device, pki, serve):
    serve()   # valid today on the host
    trust(device, pki, level=3)
    set_cclk(device, module_time(NOW + datetime.timedelta(days=400)))
    assert https_get(device) == 0
    assert uhttper(device) == "+UHTTPER: 0,3,202"


def test_levels_below_3_ignore_the_clock(device, pki, serve):
    serve()
    trust(device, pki, level=2)
    assert https_get(device) == 1


def test_expired_certificate_by_the_set_clock(device, pki, serve):
    serve(leaf=pki.expired)
    device.controls["nitz"]()
    trust(device, pki, level=3)
    at(device, 'AT+USECPRF=2,4,"expired.test"')
    assert https_get(device) == 0
    assert uhttper(device) == "+UHTTPER: 0,3,202"


# ---------------------------------------------------------------- +UHTTPER causes

def test_unknown_ca_is_73(device, pki, serve):
    serve()
    trust(device, pki, ca=pki.other_root)
    assert https_get(device) == 0
    assert uhttper(device) == "+UHTTPER: 0,3,73"


def test_ca_name_not_on_the_module_is_73(device, pki, serve):
    serve()
    trust(device, pki)
    at(device, 'AT+USECPRF=2,3,"NoSuchCA"')
    assert https_get(device) == 0
    assert uhttper(device) == "+UHTTPER: 0,3,73"


def test_host_name_mismatch_is_201(device, pki, serve):
    serve(leaf=pki.wrong_host)
    trust(device, pki, level=2)
    assert https_get(device) == 0
    assert uhttper(device) == "+UHTTPER: 0,3,201"


def test_missing_client_certificate_is_204(device, pki, serve):
    serve(require_client_cert=True, client_ca=pki.root.pem + pki.intermediate.pem)
    trust(device, pki)
    assert https_get(device) == 0
    assert uhttper(device) == "+UHTTPER: 0,3,204"


def test_client_certificate_sent_is_not_204(device, pki, serve):
    serve(require_client_cert=True, client_ca=pki.root.pem + pki.intermediate.pem)
    trust(device, pki)
    import_credential(device, 1, "Client", pki.client.der)
    import_credential(device, 2, "ClientKey", pki.client.key_der())
    at(device, 'AT+USECPRF=2,5,"Client"')
    at(device, 'AT+USECPRF=2,6,"ClientKey"')
    assert https_get(device) == 1
    assert uhttper(device) == "+UHTTPER: 0,0,0"


def test_other_handshake_failure_is_205(device, pki, serve):
    serve()   # TLS 1.2 only
    trust(device, pki)
    at(device, "AT+USECPRF=2,1,1")   # TLS 1.0 only
    assert https_get(device) == 0
    assert uhttper(device) == "+UHTTPER: 0,3,205"


def test_a_silent_server_is_a_timeout_206(device, pki):
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        device.controls["hosts"](map={HOST: ["127.0.0.1", silent.getsockname()[1]]})
        device.http.timeout = 0.5
        trust(device, pki)
        assert https_get(device) == 0
        assert uhttper(device) == "+UHTTPER: 0,3,206"
    finally:
        silent.close()


def test_connection_refused_is_208(device, pki):
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    device.controls["hosts"](map={HOST: ["127.0.0.1", port]})
    trust(device, pki)
    assert https_get(device) == 0
    assert uhttper(device) == "+UHTTPER: 0,3,208"


def test_uhttper_is_per_profile_and_checked(device):
    assert uhttper(device, 3) == "+UHTTPER: 3,0,0"
    for bad in ("AT+UHTTPER=4", 'AT+UHTTPER="0"', "AT+UHTTPER=0,1"):
        with pytest.raises(CmeError):
            at(device, bad)
    assert http.ERROR_CODES["unknown_ca"] == 73


def test_a_restart_clears_the_last_error(device, pki, serve):
    serve()
    trust(device, pki, ca=pki.other_root)
    assert https_get(device) == 0
    device.restart()
    assert uhttper(device) == "+UHTTPER: 0,0,0"


def test_make_nitz_sets_the_module_clock(sim_factory):
    import subprocess
    from harness import ROOT
    sim = sim_factory(boot_seconds=0)
    proc = subprocess.run(["make", "-s", "nitz", "BOARD_CTL=%s" % sim.control_path,
                           "TIME=2026-05-06T07:08:09Z", "TZ=-4"], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith('module clock 26/05/06,06:08:'), proc.stdout
    assert sim.control("clock")["source"] == "nitz"


def test_without_libssl_level_3_checks_the_leaf_at_the_module_clock(device, pki, serve,
                                                                     monkeypatch):
    from ubxsim import libssl

    def unavailable():
        raise libssl.LibsslUnavailable("test: no libssl")
    monkeypatch.setattr(libssl, "bridge", unavailable)
    serve()
    trust(device, pki, level=3)
    assert https_get(device) == 0
    assert uhttper(device) == "+UHTTPER: 0,3,203"
    assert "not yet valid at the module's time" in reason(device)
    set_cclk(device, module_time(NOW + datetime.timedelta(days=400)))
    assert https_get(device) == 0
    assert uhttper(device) == "+UHTTPER: 0,3,202"
    set_cclk(device, module_time(NOW))
    assert https_get(device) == 1
