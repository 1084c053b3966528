"""The simulator's module models (ubxsim.models): each series' table of
differences from the spec, in the handlers (a Device of that model, called
the way the engine calls it) and on the wire (a simulator with --model).

Credentials are made here with the test PKI (pki.py): long internal names,
and PEMs whose base64 body is one line.
"""

import datetime
import hashlib
import re

import pytest

import pki
from fixtures_sim import AtClient, final_result, info_lines
from ubxsim import build_device, models
from ubxsim.cme import CmeError
from ubxsim.command import SET, Prompt

ALL = sorted(models.MODELS)
REAL = [name for name in ALL if name != "spec"]
NAMES = (30, 34, 36, 43, 58, 64, 65, 200, 201)   # 34/36/43/58: seen on real modules


@pytest.fixture(scope="module")
def issued():
    return pki.TestPki().client


def make(tmp_path, model, sub="state"):
    return build_device(str(tmp_path / sub), ("basic", "filesystem", "usecmng"), model)


def usecmng(dev, *params):
    return dev.handlers["+USECMNG"](dev, SET, list(params))


def ulstfile(dev):
    return dev.handlers["+ULSTFILE"](dev, SET, [0])


def import_data(dev, kind, name, data):
    prompt = usecmng(dev, 0, kind, name, len(data))
    assert isinstance(prompt, Prompt)
    return prompt.on_data(data)


def ready(dev):
    """A file system that has been used: SARA-R422 imports only then."""
    ulstfile(dev)
    return dev


def refusal(fn, *args):
    with pytest.raises(CmeError) as info:
        fn(*args)
    return info.value


def answers(dev, error):
    """How the model renders a refusal for AT+CMEE=0, 1 and 2."""
    return [dev.model.result_line(error, cmee) for cmee in (0, 1, 2)]


def one_line(pem):
    """The whole PEM on one line: BEGIN, base64 body and END, no line break."""
    return b"".join(pem.split(b"\n"))


def body_one_line(pem):
    """BEGIN line, the whole base64 body on one line, END line."""
    lines = pem.strip().split(b"\n")
    return lines[0] + b"\n" + b"".join(lines[1:-1]) + b"\n" + lines[-1] + b"\n"


# -- the table itself ------------------------------------------------------------

def test_the_spec_model_is_the_default_and_the_spec_to_the_letter(tmp_path):
    dev = build_device(None, ("basic", "usecmng"))
    spec = models.MODELS["spec"]
    assert dev.model is spec
    assert (spec.prompt, spec.md5_upper, spec.name_max, spec.expiry) == (b">", False, 30, "date")
    assert spec.blank_before_ok is False
    assert spec.errors == {} and spec.texts == {} and spec.fs_first_use is None


def test_an_unknown_model_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown model 'sara-x'.*lena-r8"):
        models.get("sara-x")


@pytest.mark.parametrize("model, cgmm", [("spec", "SARA-R510S"), ("sara-r5", "SARA-R510M8S"),
                                         ("sara-r410m", "SARA-R410M-02B"),
                                         ("sara-r422", "SARA-R422"), ("lena-r8", "LENA-R8001"),
                                         ("sara-u2", "SARA-U201")])
def test_each_model_names_its_series(tmp_path, model, cgmm):
    dev = make(tmp_path, model)
    assert dev.handlers["+CGMM"](dev, "action", []) == [cgmm]
    assert dev.handlers["I"](dev, "action", [])[0].startswith(cgmm)


# -- MD5 letter case -----------------------------------------------------------

@pytest.mark.parametrize("model", ALL)
def test_md5_answers_in_the_models_letter_case(tmp_path, issued, model):
    dev = ready(make(tmp_path, model))
    want = hashlib.md5(issued.der).hexdigest()
    want = want.upper() if model in ("sara-r410m", "lena-r8") else want
    assert import_data(dev, 1, "cc", issued.der) == ['+USECMNG: 0,1,"cc","%s"' % want]
    assert usecmng(dev, 4, 1, "cc") == ['+USECMNG: 4,1,"cc","%s"' % want]


# -- internal name length ------------------------------------------------------

@pytest.mark.parametrize("model", ALL)
def test_long_names_import_up_to_the_models_limit_then_text_too_long(tmp_path, issued, model):
    dev = ready(make(tmp_path, model))
    limit = {"spec": 30, "sara-r410m": 64, "sara-u2": 64}.get(model, 200)
    for length in NAMES:
        name = ("n%d_" % length + "x" * length)[:length]
        if length <= limit:
            assert import_data(dev, 1, name, issued.der)[0].startswith('+USECMNG: 0,1,"%s"' % name)
            assert usecmng(dev, 4, 1, name)
            assert ('"CC","%s"' % name) in "\n".join(usecmng(dev, 3, 1))
            usecmng(dev, 2, 1, name)
        else:
            exc = refusal(usecmng, dev, 0, 1, name, len(issued.der))
            assert exc.code == 24, (model, length)       # text too long, before the prompt


# -- PEM with its body on one line -------------------------------------------------

@pytest.mark.parametrize("model", ALL)
def test_one_line_pems_are_stored_or_refused_with_the_modules_error(tmp_path, issued, model):
    dev = ready(make(tmp_path, model))
    want = dev.model.md5(hashlib.md5(issued.der).hexdigest())
    whole, body = one_line(issued.pem), body_one_line(issued.pem)
    assert b"\n" not in whole and len(body.split(b"\n")[1]) > 64
    for form, data in (("whole", whole), ("body", body)):
        if model == "lena-r8":
            exc = refusal(import_data, dev, 1, "cc1", data)
            assert answers(dev, exc) == ["ERROR", "+CME ERROR: 50",
                                         "+CME ERROR: USECMNG invalid certificate/key format"]
        elif model == "spec" and form == "whole":
            exc = refusal(import_data, dev, 1, "cc1", data)      # strict RFC 7468 parser
            assert answers(dev, exc) == ["ERROR", "+CME ERROR: 50",
                                         "+CME ERROR: incorrect parameters"]
        else:
            assert import_data(dev, 1, "cc1", data) == ['+USECMNG: 0,1,"cc1","%s"' % want], form
    # the usual 64-character lines are taken everywhere
    assert import_data(dev, 1, "cc2", issued.pem)[0].endswith('"%s"' % want)


# -- first use of the file system ----------------------------------------------------

def test_sara_r422_refuses_imports_with_1912_until_ulstfile_has_run(tmp_path, issued):
    dev = make(tmp_path, "sara-r422")
    for _ in range(2):                 # not a one-off: until the file system is used
        exc = refusal(usecmng, dev, 0, 0, "ca", len(issued.der))
        assert answers(dev, exc) == ["ERROR", "+CME ERROR: 1912", "+CME ERROR: 1912"]
    ulstfile(dev)
    assert import_data(dev, 0, "ca", issued.der)[0].startswith('+USECMNG: 0,0,"ca"')
    # the file system's state lives in the state directory, as a real one's would
    assert import_data(make(tmp_path, "sara-r422"), 0, "ca", issued.der)
    fresh = make(tmp_path, "sara-r422", sub="fresh")
    assert refusal(usecmng, fresh, 0, 0, "ca", len(issued.der)).code == 1912
    assert refusal(usecmng, build_device(None, ("filesystem", "usecmng"), "sara-r422"),
                   0, 0, "ca", 10).code == 1912


@pytest.mark.parametrize("model", [m for m in ALL if m != "sara-r422"])
def test_other_models_import_on_a_file_system_never_used(tmp_path, issued, model):
    assert import_data(make(tmp_path, model), 0, "ca", issued.der)


# -- MD5 of a name that is not stored ------------------------------------------------

@pytest.mark.parametrize("model, wire", [
    ("spec", ["ERROR", "+CME ERROR: 22", "+CME ERROR: not found"]),
    ("sara-r5", ["ERROR", "+CME ERROR: 22", "+CME ERROR: not found"]),
    ("sara-r410m", ["ERROR", "+CME ERROR: 22", "+CME ERROR: not found"]),
    ("sara-r422", ["ERROR", "+CME ERROR: 4", "+CME ERROR: 4"]),
    ("lena-r8", ["ERROR", "+CME ERROR: 50", "+CME ERROR: parameters are invalid"]),
    ("sara-u2", ["ERROR", "+CME ERROR: 22", "+CME ERROR: not found"]),
])
def test_md5_of_a_missing_name_is_the_series_own_answer(tmp_path, model, wire):
    dev = make(tmp_path, model)
    assert answers(dev, refusal(usecmng, dev, 4, 0, "missing")) == wire


def test_verbose_texts_follow_the_series(tmp_path, issued):
    """LENA-R8 words incorrect parameters its own way; the others say 3GPP's text."""
    for model, text in (("lena-r8", "parameters are invalid"), ("sara-r5", "incorrect parameters")):
        dev = make(tmp_path, model, sub=model)
        exc = refusal(import_data, dev, 0, "bad", b"\x30\x03\x02\x01\x00")   # not a certificate
        assert answers(dev, exc)[1:] == ["+CME ERROR: 50", "+CME ERROR: %s" % text]


# -- a full store --------------------------------------------------------------------

@pytest.mark.parametrize("model", ALL)
def test_an_eleventh_entry_before_the_prompt(tmp_path, issued, model):
    dev = ready(make(tmp_path, model))
    for i in range(10):
        import_data(dev, 1, "fill%d" % i, issued.der)
    exc = refusal(usecmng, dev, 0, 1, "one_more", len(issued.der))
    if model == "sara-r410m":
        assert answers(dev, exc) == ["ERROR"] * 3      # a bare ERROR whatever AT+CMEE says
    else:
        assert answers(dev, exc) == ["ERROR", "+CME ERROR: 20", "+CME ERROR: memory full"]
    assert import_data(dev, 1, "fill0", issued.der)    # overwriting is still allowed


# -- list expiry ---------------------------------------------------------------------

@pytest.mark.parametrize("model", ALL)
def test_list_expiry_form(tmp_path, issued, model):
    dev = ready(make(tmp_path, model))
    import_data(dev, 1, "cc", issued.der)
    after = issued.cert.not_valid_after_utc
    if model == "sara-r5":
        want = after.strftime("%Y/%m/%d %H:%M:%S")             # equal to notAfter
    else:
        want = (after + datetime.timedelta(seconds=1)).strftime("%Y/%m/%d")
    listed = usecmng(dev, 3, 1)
    assert listed == ['"CC","cc","ubx-client","%s"' % want]
    roots = usecmng(dev, 3, 0)
    assert roots and all(len(line.rsplit(",", 1)[1]) == 21 for line in roots)  # "YYYY/MM/DD hh:mm:ss"


# -- on the wire ---------------------------------------------------------------------

PROMPTS = {"spec": b">", "sara-r5": b">", "sara-r410m": b">", "sara-r422": b"\r\n>",
           "lena-r8": b"> ", "sara-u2": b"\r\n>\r\n"}


@pytest.mark.parametrize("model", ALL)
def test_the_prompt_form_and_the_status_on_the_wire(sim_factory, issued, model):
    sim = sim_factory(model=model, families=("basic", "filesystem", "usecmng"))
    assert sim.control("status")["model"] == model
    assert sim.control("model")["prompt"] == PROMPTS[model].decode()
    at = AtClient(sim.link)
    try:
        assert info_lines(at.send("AT+ULSTFILE")) == ["+ULSTFILE:"]
        cmd = 'AT+USECMNG=0,1,"cc",%d' % len(issued.der)
        at.write(cmd + "\r")
        # the prompt comes right after the echoed command's CR, in the model's form
        want = cmd.encode() + b"\r" + PROMPTS[model]
        assert at.read_until(re.escape(want)) == want
        assert at.read_for(0.2) == b""          # nothing after the prompt
        raw = at.send_data(issued.der)
        assert final_result(raw) == "OK"
        md5 = hashlib.md5(issued.der).hexdigest()
        md5 = md5.upper() if model in ("sara-r410m", "lena-r8") else md5
        assert info_lines(raw) == ['+USECMNG: 0,1,"cc","%s"' % md5]
        assert info_lines(at.send("AT+CGMM")) == [sim.control("model")["cgmm"]]
    finally:
        at.close()


@pytest.mark.parametrize("model", ALL)
def test_a_blank_line_before_ok_where_the_series_sends_one(sim_factory, model):
    sim = sim_factory(model=model, families=("basic", "usecmng"))
    assert sim.control("model")["blank_before_ok"] is (model == "sara-u2")
    blank = b"\r\n" if model == "sara-u2" else b""
    at = AtClient(sim.link)
    try:
        at.send("ATE0")
        assert at.send("AT") == blank + b"\r\nOK\r\n"
        assert at.send("AT+CGMM") == (b"\r\n%s\r\n" % sim.control("model")["cgmm"].encode()
                                      + blank + b"\r\nOK\r\n")
        # before OK only: a refusal comes as it always does
        assert at.send('AT+USECMNG=4,0,"missing"') == b"\r\nERROR\r\n"
    finally:
        at.close()


def test_sara_u2_model_table():
    u2 = models.MODELS["sara-u2"]
    assert (u2.cgmm, u2.prompt, u2.blank_before_ok, u2.md5_upper, u2.name_max) == \
        ("SARA-U201", b"\r\n>\r\n", True, False, 64)
    assert (u2.pem_one_line, u2.pem_line_max, u2.fs_first_use, u2.errors, u2.texts, u2.expiry) == \
        ("join", None, None, {}, {}, "date")


def test_the_engine_renders_a_models_refusal_per_cmee(sim_factory):
    sim = sim_factory(model="lena-r8", families=("basic", "usecmng"))
    at = AtClient(sim.link)
    try:
        at.send("ATE0")
        for cmee, want in ((0, "ERROR"), (1, "+CME ERROR: 50"),
                           (2, "+CME ERROR: parameters are invalid")):
            at.send("AT+CMEE=%d" % cmee)
            assert final_result(at.send('AT+USECMNG=4,0,"missing"')) == want
    finally:
        at.close()


def test_an_unknown_model_stops_the_command_line(tmp_path):
    import subprocess
    from fixtures_sim import PYTHON, ROOT
    proc = subprocess.run([PYTHON, "-m", "ubxsim", "--link", str(tmp_path / "x"),
                           "--model", "sara-x"], capture_output=True, text=True, cwd=str(ROOT),
                          timeout=30)
    assert proc.returncode == 2 and "--model" in proc.stderr and "lena-r8" in proc.stderr
