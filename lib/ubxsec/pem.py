"""Incremental PEM -> DER decoding, to know the MD5 the module will report.

The module converts an imported PEM to DER and reports the MD5 of the DER.
PemDecoder is fed the PEM in chunks of any size and boundary (a chunk may
split a line, a CRLF or the BEGIN line); it decodes each base64 group into a
preallocated buffer and hashes the DER as it goes. After reset(), feed()
allocates nothing: no slicing, no line buffering, labels compared byte by
byte.

Accepted (the module's rules): optional whitespace, one
`-----BEGIN <label>-----` line, base64 lines of any length,
`-----END <label>-----` with the same label, optional whitespace. Lines end
in LF or CRLF. The whole object may also be one line, with no line end
after BEGIN or before END (public client code sends that form; most series
store it, LENA-R8 refuses it: the module decides). Refused with
ValueError, as the module refuses them: anything else before BEGIN or after
END, a second object, RFC 1421 extension headers (Proc-Type, DEK-Info), an
`EC PARAMETERS` block, blank lines or spaces inside the block, a CR not
followed by LF, bad base64 (foreign characters, misplaced padding, a partial
group), an empty body, a truncated input. The module itself does not accept
the surrounding whitespace: certs.py trims it before sending.
"""

from micropython import const

try:
    from hashlib import md5 as new_md5
except ImportError:  # firmware without a TLS library
    from .md5 import MD5 as new_md5

_OUT = const(96)  # DER staging buffer: a multiple of 3, so whole groups fill it exactly
_OUT_NATIVE = const(384)  # its size where base64 runs natively (pem_viper)
_LINE = const(80)  # longest BEGIN/END line kept (labels are short)

# character classes for the body; 0..63 are base64 digit values
_PAD = const(64)
_SPACE = const(65)  # space, tab
_CR = const(66)
_LF = const(67)
_DASH = const(68)
_OTHER = const(69)

# states
_PRE = const(0)  # before BEGIN
_HEAD = const(1)  # inside the BEGIN line
_BODY = const(2)  # base64 lines
_BADLINE = const(4)  # a body line holds a foreign character: scan it for ':'
_TAIL = const(5)  # inside the END line
_HEADEND = const(3)  # right after the BEGIN line's closing dashes
_POST = const(6)  # after END
_CRLF = const(7)  # a CR inside the block: LF must follow
_DONE = const(8)
_DASHRUN = const(9)  # dashes inside a body line: the END of a one-line PEM?

_BEGIN = b"-----BEGIN "
_BEGIN_N = const(11)
_END = b"-----END "
_END_N = const(9)
_DASHES = b"-----"
_EC_PARAMETERS = b"EC PARAMETERS"


# class of every ASCII byte: 0..63 base64 digit values, else one of the
# classes above (bytes from 0x80 on are _OTHER, not listed); a bytes
# literal, so nothing is built in RAM at import
_CLASS = (
    b"\x45\x45\x45\x45\x45\x45\x45\x45\x45\x41\x43\x45\x45\x42\x45\x45\x45\x45\x45\x45\x45\x45\x45\x45\x45\x45\x45\x45\x45\x45\x45\x45"
    b"\x41\x45\x45\x45\x45\x45\x45\x45\x45\x45\x45\x3e\x45\x44\x45\x3f\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\x45\x45\x45\x40\x45\x45"
    b"\x45\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x45\x45\x45\x45\x45"
    b"\x45\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\x45\x45\x45\x45\x45"
)


class PemDecoder:
    """feed() chunks, then finish(); digest() is the MD5 of the DER.

    sink, if given, is called with a memoryview of decoded DER each time the
    staging buffer fills and once more from finish() (that last call gets a
    slice: the only allocation after reset()).
    """

    def __init__(self):
        # where the port emits native code, pem_viper feeds body lines to a
        # native base64 run past the generator (and a larger buffer: fewer
        # returns to bytecode); _st is the state both share. Asked once.
        global _attach
        if _attach == 0:
            _attach = native_part("pem_viper", _CLASS, _BODY)
        attach = _attach
        self._out = bytearray(_OUT_NATIVE if attach else _OUT)
        self._out_mv = memoryview(self._out)
        self._line = bytearray(_LINE)
        self._label = bytearray(_LINE)
        self._md5 = None
        self._sink = None
        self._st = attach and attach(self, self._out, self._flush_full)
        self.reset()

    def reset(self, sink=None):
        if self._md5 is None or self.der_len or self._state == _DONE:
            # one small object per import: kept by a reset() after a feed()
            # that hashed nothing yet and did not finish (certs checks a
            # file's BEGIN line so)
            self._md5 = new_md5()
        self._sink = sink
        self._state = _PRE
        self.error = None  # the ValueError raised, if any
        self.staged = 0  # DER bytes staged in _out
        self._line_n = 0
        self._label_n = 0
        self._colon = False
        self._bad_at = 0
        self._data = None
        self.der_len = 0
        self._claim = -1  # length the DER's outer SEQUENCE header claims
        self.offset = 0  # PEM bytes consumed so far, for error messages
        self._steps = self._decode()  # one generator per import
        next(self._steps)

    def feed(self, data, n=-1):
        if n < 0:
            n = len(data)
        if self._state == _DONE:
            if n:
                self._fail(1, "data after finish()")
            return
        self._data = data
        self._steps.send(n)
        self.offset += n

    def _decode(self):
        # A generator, created once per reset(): resuming it allocates
        # nothing, while a plain call with this many locals would have its
        # frame allocated on the heap at every chunk. The decoding state
        # lives in its locals; the caller finds state and o in attributes.
        state = _PRE
        bol = True  # at the start of a line (only spaces so far)
        acc = 0  # bits of the current base64 group
        k = 0  # digits in the current group
        pad = 0  # padding state (2: one more '=' needed, 1: complete)
        pads = 0  # further '=' allowed
        o = 0  # bytes staged in _out
        out = self._out
        line = self._line
        line_n = 0
        cls = _CLASS
        full = len(out)
        st = self._st
        if st:
            st[1] = st[2] = st[3] = st[6] = st[7] = 0
            st[4] = 1
        while True:
            n = yield
            data = self._data
            i = 0
            if st:  # the native run went up to st[0]
                i = st[0]
                acc = st[1]
                k = st[2]
                o = st[3]
                bol = st[4]
            while i < n:
                    c = data[i]
                    i += 1
                    if state == _BODY:
                        # base64 lines; after the first '=' (pad set) only more '='
                        # (while pads allows), line ends and the END line may follow
                        v = cls[c] if c < 0x80 else _OTHER
                        if v < 64 and not pad:
                            acc = (acc << 6) | v
                            k += 1
                            bol = False
                            if k == 4:
                                out[o] = acc >> 16
                                out[o + 1] = (acc >> 8) & 0xFF
                                out[o + 2] = acc & 0xFF
                                o += 3
                                acc = 0
                                k = 0
                                if o == full:
                                    self._flush_full()
                                    o = 0
                        elif v == _LF or v == _CR:
                            if bol:
                                self._fail(i, "blank line inside the PEM block")
                            bol = True
                            if v == _CR:
                                state = _CRLF
                        elif v == _DASH and not bol:
                            # five dashes end a one-line PEM's body; fewer
                            # make a bad line ("Proc-Type:")
                            state = _DASHRUN
                            line_n = 1
                        elif v == _DASH:
                            if k:
                                self._fail(i, "partial base64 group")
                            if pad == 2:
                                self._fail(i, "incomplete '=' padding")
                            state = _TAIL
                            line[0] = c
                            line_n = 1
                        elif v == _PAD and pad:
                            if not pads:
                                self._fail(i, "data after '=' padding")
                            pads = 0
                            pad = 1
                            bol = False
                        elif pad:
                            self._fail(i, "data after '=' padding")
                        elif v == _PAD:
                            # '=' may follow 2 digits ('==' needed), 3 digits ('='
                            # alone) or a whole group (one or two, decoding to
                            # nothing): what the module's base64 accepts
                            if k == 2:
                                out[o] = acc >> 4
                                o += 1
                                pad = 2
                                pads = 1
                            elif k == 3:
                                out[o] = acc >> 10
                                out[o + 1] = (acc >> 2) & 0xFF
                                o += 2
                                pad = 1
                            elif k == 0:
                                pad = 1
                                pads = 1
                            else:
                                self._fail(i, "misplaced '=' padding")
                            acc = 0
                            k = 0
                            bol = False
                        else:
                            # keep scanning the line: a ':' means an RFC 1421 header
                            self._bad_at = self.offset + i
                            self._colon = c == 0x3A
                            state = _BADLINE
                    elif state == _CRLF:
                        if c != 0x0A:
                            self._fail(i, "CR not followed by LF")
                        state = _BODY
                    elif state == _DASHRUN:
                        if c == 0x2D:
                            line_n += 1
                            if line_n == 5:
                                if k:
                                    self._fail(i, "partial base64 group")
                                if pad == 2:
                                    self._fail(i, "incomplete '=' padding")
                                line[0] = line[1] = line[2] = line[3] = line[4] = 0x2D
                                state = _TAIL
                        else:
                            self._bad_at = self.offset + i - line_n
                            self._colon = False
                            state = _BADLINE
                            i -= 1  # scanned as part of the bad line
                    elif state == _HEADEND:
                        # a line end, or (one-line PEM) the body right away
                        bol = True
                        if c == 0x0D:
                            state = _CRLF
                        elif c == 0x0A:
                            state = _BODY
                        else:
                            state = _BODY
                            i -= 1  # this byte is the body's first
                    elif state == _HEAD or state == _TAIL:
                        if c == 0x0A:
                            self._line_n = line_n
                            if state == _HEAD:
                                self._parse_begin(i)
                                state = _BODY
                                bol = True
                            else:
                                self.staged = o
                                self._parse_end(i)
                                state = _POST
                        elif line_n == _LINE:
                            self._fail(i, "BEGIN/END line too long")
                        else:
                            line[line_n] = c
                            line_n += 1
                            # the dashes closing the BEGIN line (after a label
                            # of at least one byte)
                            if c == 0x2D and state == _HEAD and line_n > _BEGIN_N + 5 \
                                    and _has_at(line, line_n - 5, _DASHES):
                                self._line_n = line_n
                                self._parse_begin(i)
                                state = _HEADEND
                    elif state == _PRE or state == _POST:
                        v = cls[c] if c < 0x80 else _OTHER
                        if v == _SPACE or v == _LF or v == _CR:
                            pass
                        elif v == _DASH and state == _PRE:
                            state = _HEAD
                            line[0] = c
                            line_n = 1
                        elif state == _PRE:
                            self._fail(i, "data before the BEGIN line")
                        elif v == _DASH:
                            self._fail(i, "more than one PEM object")
                        else:
                            self._fail(i, "data after the END line")
                    elif state == _BADLINE:
                        if c == 0x3A:
                            self._colon = True
                        elif c == 0x0A:
                            self._bad_line()
                    else:
                        self._fail(i, "data after finish()")
            self._data = None
            self._state = state
            self.staged = o
            self._line_n = line_n
            if st:
                st[1] = acc
                st[2] = k
                st[3] = o
                st[4] = bol
                st[6] = pad
                st[7] = state

    def finish(self):
        """Ends the input; returns the DER length. Raises ValueError if the
        PEM is incomplete."""
        state = self._state
        if state == _TAIL:
            self._parse_end(0)
        elif state == _BADLINE:
            self._bad_line()
        elif state == _PRE:
            self._fail(0, "no BEGIN line")
        elif state != _POST:
            self._fail(0, "truncated: no END line")
        self._state = _DONE
        o = self.staged
        if o:
            if not self.der_len:
                self._claim = claimed(self._out, o)
            part = self._out_mv[:o]
            self._md5.update(part)
            if self._sink is not None:
                self._sink(part)
            self.der_len += o
            self.staged = 0
        # lines lost from the middle of the body leave valid base64 behind:
        # the DER's own length tells
        n, claim = self.der_len, self._claim
        if claim >= 0 and claim != n:
            self._error("body truncated? its DER has %d bytes, its header says %d" % (n, claim))
        return n

    def digest(self):
        """16-byte MD5 of the DER (valid once, after finish())."""
        return self._md5.digest()

    @property
    def label(self):
        """The BEGIN line's label as a str ('' before it was read)."""
        return bytes(self._label[: self._label_n]).decode()

    def _flush_full(self):
        if not self.der_len:
            self._claim = claimed(self._out, len(self._out))
        self._md5.update(self._out)
        if self._sink is not None:
            self._sink(self._out_mv)
        self.der_len += len(self._out)

    def _fail(self, i, why):
        self._error("%s (byte %d)" % (why, self.offset + i))

    def _bad_line(self):
        if self._colon:
            self._error("Proc-Type/DEK-Info headers unsupported")
        self._error("bad base64 character (byte %d)" % self._bad_at)

    def _error(self, why):
        self._state = _DONE
        self.error = ValueError("PEM: " + why)  # kept for callers that defer it
        raise self.error

    def _line_end(self, trailing_space=False):
        # length of the line without the CR of a CRLF; the END line may also
        # end in whitespace (it is trimmed before the PEM is sent)
        n = self._line_n
        line = self._line
        if trailing_space:
            while n and line[n - 1] in b"\r \t":
                n -= 1
        elif n and line[n - 1] == 0x0D:
            n -= 1
        return n

    # _parse_begin/_parse_end run inside the chunk loop: few locals (see
    # _decode)
    def _parse_begin(self, i):
        line = self._line
        n = self._line_end()
        if not (n > _BEGIN_N + 5 and _has_at(line, 0, _BEGIN) and _has_at(line, n - 5, _DASHES)):
            self._fail(i, "malformed BEGIN line")
        j = _BEGIN_N
        while j < n - 5:
            c = line[j]
            if c < 0x20 or c > 0x7E or c == 0x2D and (j == _BEGIN_N or j == n - 6):
                self._fail(i, "bad BEGIN label")
            self._label[j - _BEGIN_N] = c
            j += 1
        n = self._label_n = j - _BEGIN_N
        line = self._label
        if line[0] == 0x20 or line[n - 1] == 0x20:
            self._fail(i, "bad BEGIN label")
        if n == len(_EC_PARAMETERS) and _has_at(line, 0, _EC_PARAMETERS):
            self._fail(i, "EC PARAMETERS unsupported")

    def _parse_end(self, i):
        if self.der_len + self.staged == 0:
            self._fail(i, "empty base64 body")
        line = self._line
        n = self._line_end(True)
        if not (n == _END_N + self._label_n + 5 and _has_at(line, 0, _END)
                and _has_at(line, n - 5, _DASHES)):
            self._fail(i, "END line mismatch")
        n = 0
        while n < self._label_n:
            if line[_END_N + n] != self._label[n]:
                self._fail(i, "END line mismatch")
            n += 1


def native_part(name, *args):
    """ubxsec.<name>.build(*args) where the port emits native code and that
    module is installed, else None (callers keep what it gave). Such a
    module holds the source of @micropython.viper code and leaves
    sys.modules once built: a port without a native emitter never loads it,
    and none keeps its source in RAM."""
    import sys
    if getattr(sys.implementation, "_mpy", 0) >> 10:
        try:
            return __import__("ubxsec." + name, None, None, ("build",)).build(*args)
        except ImportError:  # its package is not installed: bytecode then
            pass


_attach = 0  # pem_viper's attach, or None; 0: not asked yet


def claimed(buf, n):
    """The length a DER SEQUENCE starting buf[:n] claims (header included),
    or -1 if buf does not start one (then nothing is checked). Also certs'
    check of a DER import."""
    if n < 2 or buf[0] != 0x30:
        return -1
    b = buf[1]
    if b < 0x80:
        return 2 + b
    b &= 0x7F
    if not 0 < b < 4 or n < 2 + b:
        return -1
    v = 0
    for j in range(b):
        v = v << 8 | buf[2 + j]
    return 2 + b + v


def _has_at(buf, pos, const_bytes):
    # byte-wise compare: a slice would allocate
    for j in range(len(const_bytes)):
        if buf[pos + j] != const_bytes[j]:
            return False
    return True
