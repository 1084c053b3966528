"""Module models: how real module series differ from the spec excerpt.

`ubxsim --model NAME` picks one; "spec" (the default) is the spec to the
letter. Every difference between series lives in this file, one Model per
series; the engine and the command handlers ask the device's model and never
test a series by name. The differences come from public captures of real
modules' traffic (client libraries' issue threads and test code):

- prompt: the bytes of the `>` data-phase prompt. A bare `>` right after the
  echoed command's CR (spec, SARA-R5, SARA-R410M), CRLF then `>` (SARA-R422),
  `> ` with a trailing space (LENA-R8), `>` on a line of its own, CRLF
  before and after it (SARA-U2).
- blank_before_ok: one more CRLF before the final OK, a blank line once the
  V.250 framing is read as lines (SARA-U201 and SARA-U270 captures).
- md5_upper: MD5 strings in upper case (SARA-R410M-02B, LENA-R8).
- name_max: longest internal name an import takes (the spec: 30; a
  SARA-R410M-02B accepted and listed 34, 36 and 43 characters and the MKR NB
  1500's library, on that module, uses names up to 58; a SARA-U201 took 36
  and 43, so the model takes up to 64, the limit chosen for the same
  evidence on SARA-R410M; other series document 200). Longer is +CME
  ERROR 24 (text too long), as in the spec model.
- pem_one_line: a PEM on one line, BEGIN line, base64 body and END line with
  no line break ("join": stored like any PEM, as SARA-R4/R5 do; "spec": the
  spec model's strict parser refuses it, 50). pem_line_max: a PEM with a line
  longer than this is refused with the model's "pem_format" error (LENA-R8
  FW 02.00 requires line endings in PEM).
- fs_first_use: the error an import by byte stream gets before the `>` while
  the module's file system has never been used (SARA-R422: +CME ERROR 1912
  until AT+ULSTFILE has run once; the flag lives in the state directory, as
  a real file system's state would, so a fresh state brings it back).
- errors: what the module answers in named situations where the series
  differs from the spec model:
    md5_missing   AT+USECMNG=4 for a name that is not stored (spec: 22)
    full_store    AT+USECMNG=0 for an 11th entry, before the `>` (spec: 20)
    pem_format    a PEM the series refuses (see pem_line_max)
- texts: verbose (AT+CMEE=2) texts that differ from 3GPP TS 27.007's.
- expiry: how AT+USECMNG=3 lists a user certificate's expiry: "date" (the
  spec's example: the UTC date of notAfter + 1 s) or "datetime"
  ("YYYY/MM/DD hh:mm:ss" equal to notAfter, SARA-R5-class modules).
- clock_start: what AT+CCLK? reads after power-on until AT+CCLK or network
  time (NITZ) sets the clock ("yy/MM/dd,hh:mm:ss+zz", 3GPP TS 27.007; yy 70-99
  is 19yy, 00-69 20yy). A date years in the past, so that validation level 3
  fails until the clock is set, as on a module without network time. The
  dates are choices (the spec excerpt is silent): 2015/01/01 for the spec
  model, the GPS epoch 1980/01/06 for SARA-R410M, 2000/01/01 for LENA-R8.
- cgmm, type_number: what AT+CGMM and ATI answer, so that an application
  (and the device tests) can tell the series apart the way it would on a
  real module.

Numbers the captures do not show are choices, kept sensible: a verbose-only
refusal gets the 3GPP number of the same meaning in AT+CMEE=1 mode (LENA-R8's
"parameters are invalid" and "USECMNG invalid certificate/key format": 50),
and the numeric-only answers SARA-R422 gives (4 for a missing MD5, 1912)
stay numbers in AT+CMEE=2 mode, as captured.
"""

from dataclasses import dataclass, field

from .cme import CmeError, INCORRECT_PARAMETERS, MEMORY_FULL, NOT_SUPPORTED, TEXTS

FS_NOT_READY = 1912  # SARA-R422: the file system was never used


@dataclass(frozen=True)
class ModuleError:
    """How one refusal goes out: code for AT+CMEE=1; text for AT+CMEE=2
    (None: the number in that mode too); plain: a bare ERROR whatever
    AT+CMEE says."""
    code: int
    text: str | None = ""   # "" = the code's text in the model's table
    plain: bool = False


@dataclass(frozen=True)
class Model:
    name: str
    cgmm: str
    type_number: str
    prompt: bytes = b">"
    blank_before_ok: bool = False
    md5_upper: bool = False
    name_max: int = 30
    pem_one_line: str = "spec"
    pem_line_max: int | None = None
    fs_first_use: ModuleError | None = None
    errors: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    expiry: str = "date"
    clock_start: str = "15/01/01,00:00:00+00"

    # ---- what the handlers and the engine ask --------------------------
    def md5(self, hex_digest):
        return hex_digest.upper() if self.md5_upper else hex_digest.lower()

    def text(self, code):
        return self.texts.get(code, TEXTS.get(code, "unknown"))

    def refusal(self, situation, default_code, detail=""):
        """The CmeError to raise in a named situation (the spec model's
        default_code unless the series answers otherwise)."""
        error = self.errors.get(situation)
        if error is None:
            return CmeError(default_code, detail)
        return model_error(error, detail)

    def result_line(self, error, cmee):
        """The final result code for a refusal (None: a command-line error)."""
        if error is None or cmee == 0 or error.plain:
            return "ERROR"
        if cmee == 1:
            return "+CME ERROR: %d" % error.code
        text = error.own_text if error.own_text != "" else self.text(error.code)
        return "+CME ERROR: %s" % (error.code if text is None else text)

    def describe(self):
        """The model's table as JSON-able data (control channel, README)."""
        return {
            "name": self.name, "cgmm": self.cgmm, "prompt": self.prompt.decode("latin-1"),
            "blank_before_ok": self.blank_before_ok, "md5_upper": self.md5_upper, "name_max": self.name_max,
            "pem_one_line": self.pem_one_line, "pem_line_max": self.pem_line_max,
            "fs_first_use": None if self.fs_first_use is None else self.fs_first_use.code,
            "errors": {k: [e.code, e.text, e.plain] for k, e in self.errors.items()},
            "texts": dict(self.texts), "expiry": self.expiry,
            "clock_start": self.clock_start,
        }


def model_error(error, detail=""):
    exc = CmeError(error.code, detail)
    exc.own_text = error.text
    exc.plain = error.plain
    return exc


MODELS = {m.name: m for m in (
    Model("spec", "SARA-R510S", "SARA-R510S-01B-00"),
    Model("sara-r5", "SARA-R510M8S", "SARA-R510M8S-01B-00",
          name_max=200, pem_one_line="join", expiry="datetime"),
    Model("sara-r410m", "SARA-R410M-02B", "SARA-R410M-02B-04",
          md5_upper=True, name_max=64, pem_one_line="join",
          clock_start="80/01/06,00:00:00+00",
          errors={"full_store": ModuleError(MEMORY_FULL, plain=True)}),
    Model("sara-r422", "SARA-R422", "SARA-R422-00B-00",
          prompt=b"\r\n>", name_max=200, pem_one_line="join",
          fs_first_use=ModuleError(FS_NOT_READY, None),
          errors={"md5_missing": ModuleError(NOT_SUPPORTED, None)}),
    Model("sara-u2", "SARA-U201", "SARA-U201-04B-00",
          prompt=b"\r\n>\r\n", blank_before_ok=True, name_max=64, pem_one_line="join"),
    Model("lena-r8", "LENA-R8001", "LENA-R8001-00C-00",
          prompt=b"> ", md5_upper=True, name_max=200, pem_one_line="join", pem_line_max=64,
          clock_start="00/01/01,00:00:00+00",
          errors={"md5_missing": ModuleError(INCORRECT_PARAMETERS),
                  "pem_format": ModuleError(INCORRECT_PARAMETERS,
                                            "USECMNG invalid certificate/key format")},
          texts={INCORRECT_PARAMETERS: "parameters are invalid"}),
)}
DEFAULT = "spec"


def get(name):
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError("unknown model %r (known: %s)" % (name, ", ".join(MODELS))) from None
