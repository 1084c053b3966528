"""MD5 (RFC 1321) for ports built without hashlib.md5.

hashlib.md5 exists only where the firmware links a TLS library (stm32 boards
without networking lack it; so does the WebAssembly port). This fallback has
the same update()/digest() interface and allocates nothing per block:

- every 32-bit word is two 16-bit halves, so all arithmetic stays within
  small ints on 32-bit ports (a value above 2**30 would be a heap long int);
- the working state lives in one preallocated array (`_w`: A B C D halves,
  the block's 32 message halves, two sums), and a step is split into small
  functions whose frames (locals + value stack) stay within the 11 words
  MicroPython keeps on the C stack: a bigger frame goes on the heap at
  every call;
- the registers rotate by index instead of by value (step i's A is word
  -i mod 4), so nothing is copied between steps.

It is slow (pure bytecode); the library only uses it when hashlib.md5 is
missing. Where the port has a native emitter (ARM boards, x86/x64 unix), the
block transform is compiled once with @micropython.viper at the first MD5()
(from source: a .mpy holds no native code unless mpy-cross got the board's
-march): 56 times the bytecode transform on a Cortex-M3 (armv7m, 2.2 M
instructions against 126 M for 8 KB). So is the copy of data that does not
start on a block boundary into the block buffer. Ports without one (the
WebAssembly port) refuse the decorator and keep the bytecode functions.
"""

from array import array

from micropython import const

# K[i] = floor(2**32 * abs(sin(i + 1))) as little-endian 32-bit words, a
# bytes literal (in flash when frozen, nothing built at import); kept as
# data because single-precision ports cannot recompute them exactly.
_K = (
    b"\x78\xa4\x6a\xd7\x56\xb7\xc7\xe8\xdb\x70\x20\x24\xee\xce\xbd\xc1"
    b"\xaf\x0f\x7c\xf5\x2a\xc6\x87\x47\x13\x46\x30\xa8\x01\x95\x46\xfd"
    b"\xd8\x98\x80\x69\xaf\xf7\x44\x8b\xb1\x5b\xff\xff\xbe\xd7\x5c\x89"
    b"\x22\x11\x90\x6b\x93\x71\x98\xfd\x8e\x43\x79\xa6\x21\x08\xb4\x49"
    b"\x62\x25\x1e\xf6\x40\xb3\x40\xc0\x51\x5a\x5e\x26\xaa\xc7\xb6\xe9"
    b"\x5d\x10\x2f\xd6\x53\x14\x44\x02\x81\xe6\xa1\xd8\xc8\xfb\xd3\xe7"
    b"\xe6\xcd\xe1\x21\xd6\x07\x37\xc3\x87\x0d\xd5\xf4\xed\x14\x5a\x45"
    b"\x05\xe9\xe3\xa9\xf8\xa3\xef\xfc\xd9\x02\x6f\x67\x8a\x4c\x2a\x8d"
    b"\x42\x39\xfa\xff\x81\xf6\x71\x87\x22\x61\x9d\x6d\x0c\x38\xe5\xfd"
    b"\x44\xea\xbe\xa4\xa9\xcf\xde\x4b\x60\x4b\xbb\xf6\x70\xbc\xbf\xbe"
    b"\xc6\x7e\x9b\x28\xfa\x27\xa1\xea\x85\x30\xef\xd4\x05\x1d\x88\x04"
    b"\x39\xd0\xd4\xd9\xe5\x99\xdb\xe6\xf8\x7c\xa2\x1f\x65\x56\xac\xc4"
    b"\x44\x22\x29\xf4\x97\xff\x2a\x43\xa7\x23\x94\xab\x39\xa0\x93\xfc"
    b"\xc3\x59\x5b\x65\x92\xcc\x0c\x8f\x7d\xf4\xef\xff\xd1\x5d\x84\x85"
    b"\x4f\x7e\xa8\x6f\xe0\xe6\x2c\xfe\x14\x43\x01\xa3\xa1\x11\x08\x4e"
    b"\x82\x7e\x53\xf7\x35\xf2\x3a\xbd\xbb\xd2\xd7\x2a\x91\xd3\x86\xeb"
)
# state half of message word g(i) for step i: 8 + 2 * g(i)
_X = (
    b"\x08\x0a\x0c\x0e\x10\x12\x14\x16\x18\x1a\x1c\x1e\x20\x22\x24\x26"
    b"\x0a\x14\x1e\x08\x12\x1c\x26\x10\x1a\x24\x0e\x18\x22\x0c\x16\x20"
    b"\x12\x18\x1e\x24\x0a\x10\x16\x1c\x22\x08\x0e\x14\x1a\x20\x26\x0c"
    b"\x08\x16\x24\x12\x20\x0e\x1c\x0a\x18\x26\x14\x22\x10\x1e\x0c\x1a"
)
# left rotation of step i: _S[(i >> 2) & 12 | i & 3] (four per round)
_S = b"\x07\x0c\x11\x16\x05\x09\x0e\x14\x04\x0b\x10\x17\x06\x0a\x0f\x15"
_INIT = (0x2301, 0x6745, 0xAB89, 0xEFCD, 0xDCFE, 0x98BA, 0x5476, 0x1032)  # lo, hi of A B C D
_SUM = const(40)   # _w[40], _w[41]: the step's sum, low half (with its carry) and high half
_WORDS = const(42)


class MD5:
    def __init__(self, data=None):
        self._h = array("H", _INIT)          # the digest state, lo/hi halves
        self._w = array("i", bytes(4 * _WORDS))
        # the block transform: native where the port can, else bytecode
        self._tf = _fast() or _transform
        self._block = bytearray(64)
        self._fill = 0
        self._count = 0
        if data is not None:
            self.update(data)

    def update(self, data):
        n = len(data)
        i = 0
        while i < n:
            if self._fill == 0 and n - i >= 64:
                self._tf(self._h, self._w, data, i)
                i += 64
                self._count += 64
                continue
            k = _copy(self._block, self._fill, data, i)
            i += k
            self._fill += k
            if self._fill == 64:
                self._tf(self._h, self._w, self._block, 0)
                self._fill = 0
                self._count += 64

    def digest(self):
        bits = (self._count + self._fill) * 8
        self.update(b"\x80")
        while self._fill != 56:
            self.update(b"\x00")
        self.update(bits.to_bytes(8, "little"))
        return bytes(self._h)  # the halves in little-endian order, as every port stores them


def _transform(h, w, m, off):
    _load(w, h, m, off)
    for i in range(64):
        _step(w, i)
    _fold(h, w)


def _copy(block, fill, data, i):
    # data[i:] into block[fill:] up to the block's end: bytes copied
    n = min(64 - fill, len(data) - i)
    for j in range(n):
        block[fill + j] = data[i + j]
    return n


def _load(w, h, m, off):
    # the state into w[0..7], the block's 16 words as halves into w[8..39]
    for q in range(8):
        w[q] = h[q]
    for q in range(8, 40, 2):
        w[q] = m[off] | m[off + 1] << 8
        w[q + 1] = m[off + 2] | m[off + 3] << 8
        off += 4


def _fold(h, w):
    # h += w[0..7], word by word
    for q in range(0, 8, 2):
        lo = h[q] + w[q]
        h[q + 1] = (h[q + 1] + w[q + 1] + (lo >> 16)) & 0xFFFF
        h[q] = lo & 0xFFFF


def _step(w, i):
    a = ((-i) & 3) << 1      # A's low half; B, C, D follow it (mod 8)
    _sum(w, i, a)
    _sum(w, i, a + 1)
    _rotate_add(w, _S[(i >> 2) & 12 | i & 3], a)


def _sum(w, i, a):
    # A + F(B, C, D) + K[i] + M[g(i)] for one half (a odd: the high half,
    # taking the low half's carry)
    k = (i << 2) | ((a & 1) << 1)
    t = w[a] + _f(w, i >> 4, a) + (_K[k] | _K[k + 1] << 8) + w[_X[i] + (a & 1)]
    if a & 1:
        t += w[_SUM] >> 16
    w[_SUM + (a & 1)] = t


def _f(w, r, a):
    # round r's function of B, C, D on the halves beside a
    b = w[(a + 2) & 7]
    c = w[(a + 4) & 7]
    d = w[(a + 6) & 7]
    if r == 0:
        return (b & c) | ((b ^ 0xFFFF) & d)
    if r == 1:
        return (d & b) | ((d ^ 0xFFFF) & c)
    if r == 2:
        return b ^ c ^ d
    return c ^ (b | (d ^ 0xFFFF))


def _rotate_add(w, s, a):
    # A's slot becomes B + rotl(sum, s): the next step's B
    lo = w[_SUM] & 0xFFFF
    hi = w[_SUM + 1] & 0xFFFF
    if s >= 16:
        lo, hi = hi, lo
        s -= 16
    t = ((hi & (0xFFFF >> s)) << s) | (lo >> (16 - s))
    lo = ((lo & (0xFFFF >> s)) << s) | (hi >> (16 - s))
    lo += w[(a + 2) & 7]
    w[a + 1] = (t + w[((a + 2) & 7) + 1] + (lo >> 16)) & 0xFFFF
    w[a] = lo & 0xFFFF


# -- native fast path ----------------------------------------------------------

_tf = 0  # the native transform, or None; 0: not asked yet


def _fast():
    # the native transform, or None; where there is one, the native copy
    # into the block buffer replaces _copy, for every MD5
    global _tf, _copy
    if _tf == 0:
        from .pem import native_part   # here: pem imports this module when it loads
        fast = native_part("md5_viper", _transform, _copy, _K, _X, _S, _INIT, _WORDS)
        _tf = None
        if fast:
            _tf, _copy = fast
    return _tf
