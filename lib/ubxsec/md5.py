"""MD5 (RFC 1321) for ports built without hashlib.md5.

hashlib.md5 exists only where the firmware links a TLS library (stm32 boards
without networking lack it). This fallback has the same update()/digest()
interface. Every 32-bit word is held as two 16-bit halves so that all
arithmetic stays within small ints on 32-bit MCUs: update() allocates nothing
(a 32-bit value above 2**30 would become a heap-allocated long int there).
It is slow (pure bytecode); the library only uses it when hashlib.md5 is
missing.
"""

from array import array

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
# left rotation of each step: _S[4 * round + (step & 3)]
_S = b"\x07\x0c\x11\x16\x05\x09\x0e\x14\x04\x0b\x10\x17\x06\x0a\x0f\x15"
# message word of step i in round r: (_G[2r] * i + _G[2r + 1]) & 15
_G = b"\x01\x00\x05\x01\x03\x05\x07\x00"
_INIT = (0x2301, 0x6745, 0xAB89, 0xEFCD, 0xDCFE, 0x98BA, 0x5476, 0x1032)  # lo, hi of A B C D


class MD5:
    def __init__(self, data=None):
        # state: lo/hi halves of A, B, C, D
        self._h = array("H", _INIT)
        self._block = bytearray(64)
        self._fill = 0
        self._count = 0
        if data is not None:
            self.update(data)

    def update(self, data):
        n = len(data)
        i = 0
        block = self._block
        while i < n:
            if self._fill == 0 and n - i >= 64:
                self._transform(data, i)
                i += 64
                self._count += 64
                continue
            block[self._fill] = data[i]
            self._fill += 1
            i += 1
            if self._fill == 64:
                self._transform(block, 0)
                self._fill = 0
                self._count += 64

    def digest(self):
        bits = (self._count + self._fill) * 8
        self.update(b"\x80")
        while self._fill != 56:
            self.update(b"\x00")
        length = bytearray(8)
        for i in range(8):
            length[i] = (bits >> (8 * i)) & 0xFF
        self.update(length)
        out = bytearray(16)
        h = self._h
        for i in range(8):
            out[2 * i] = h[i] & 0xFF
            out[2 * i + 1] = h[i] >> 8
        return bytes(out)

    def _transform(self, m, off):
        h = self._h
        al = h[0]
        ah = h[1]
        bl = h[2]
        bh = h[3]
        cl = h[4]
        ch = h[5]
        dl = h[6]
        dh = h[7]
        k = _K
        for i in range(64):
            r = i >> 4
            fl = _f(r, bl, cl, dl)
            fh = _f(r, bh, ch, dh)
            p = off + (((_G[2 * r] * i + _G[2 * r + 1]) & 15) << 2)
            j = i << 2
            lo = al + fl + (k[j] | k[j + 1] << 8) + (m[p] | m[p + 1] << 8)
            hi = ah + fh + (k[j + 2] | k[j + 3] << 8) + (m[p + 2] | m[p + 3] << 8) + (lo >> 16)
            lo &= 0xFFFF
            hi &= 0xFFFF
            s = _S[(r << 2) | (i & 3)]
            if s >= 16:
                t = lo
                lo = hi
                hi = t
                s -= 16
            keep = 0xFFFF >> s
            t = ((hi & keep) << s) | (lo >> (16 - s))
            lo = ((lo & keep) << s) | (hi >> (16 - s))
            # A, B, C, D = D, B + rotl(...), B, C
            al = dl
            ah = dh
            dl = cl
            dh = ch
            cl = bl
            ch = bh
            lo += bl
            bh = (t + bh + (lo >> 16)) & 0xFFFF
            bl = lo & 0xFFFF
        _add(h, 0, al, ah)
        _add(h, 2, bl, bh)
        _add(h, 4, cl, ch)
        _add(h, 6, dl, dh)


def _f(r, b, c, d):
    """The round function of round r on one 16-bit half."""
    if r == 0:
        return (b & c) | ((b ^ 0xFFFF) & d)
    if r == 1:
        return (d & b) | ((d ^ 0xFFFF) & c)
    if r == 2:
        return b ^ c ^ d
    return c ^ (b | (d ^ 0xFFFF))


def _add(h, j, lo, hi):
    # h[j], h[j + 1] (lo, hi halves) += lo, hi
    lo += h[j]
    h[j + 1] = (h[j + 1] + hi + (lo >> 16)) & 0xFFFF
    h[j] = lo & 0xFFFF
