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
from binascii import unhexlify

# K[i] = floor(2**32 * abs(sin(i + 1))), little-endian 32-bit words; kept as
# text because single-precision ports cannot recompute them exactly.
_K_HEX = (
    "78a46ad756b7c7e8db702024eecebdc1af0f7cf52ac68747134630a8019546fd"
    "d8988069aff7448bb15bffffbed75c892211906b937198fd8e4379a62108b449"
    "62251ef640b340c0515a5e26aac7b6e95d102fd65314440281e6a1d8c8fbd3e7"
    "e6cde121d60737c3870dd5f4ed145a4505e9e3a9f8a3effcd9026f678a4c2a8d"
    "4239faff81f6718722619d6d0c38e5fd44eabea4a9cfde4b604bbbf670bcbfbe"
    "c67e9b28fa27a1ea8530efd4051d880439d0d4d9e599dbe6f87ca21f6556acc4"
    "442229f497ff2a43a72394ab39a093fcc3595b6592cc0c8f7df4efffd15d8485"
    "4f7ea86fe0e62cfe144301a3a111084e827e53f735f23abdbbd2d72a91d386eb"
)


def _tables():
    raw = unhexlify(_K_HEX)
    k_lo = array("H", bytes(128))
    k_hi = array("H", bytes(128))
    for i in range(64):
        k_lo[i] = raw[4 * i] | raw[4 * i + 1] << 8
        k_hi[i] = raw[4 * i + 2] | raw[4 * i + 3] << 8
    shifts = bytearray(64)
    words = bytearray(64)
    per_round = ((7, 12, 17, 22), (5, 9, 14, 20), (4, 11, 16, 23), (6, 10, 15, 21))
    for i in range(64):
        r = i >> 4
        shifts[i] = per_round[r][i & 3]
        if r == 0:
            words[i] = i
        elif r == 1:
            words[i] = (5 * i + 1) & 15
        elif r == 2:
            words[i] = (3 * i + 5) & 15
        else:
            words[i] = (7 * i) & 15
    return k_lo, k_hi, bytes(shifts), bytes(words)


_K_LO, _K_HI, _SHIFT, _WORD = _tables()
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
        k_lo = _K_LO
        k_hi = _K_HI
        shift = _SHIFT
        word = _WORD
        for i in range(64):
            r = i >> 4
            if r == 0:
                fl = (bl & cl) | ((bl ^ 0xFFFF) & dl)
                fh = (bh & ch) | ((bh ^ 0xFFFF) & dh)
            elif r == 1:
                fl = (dl & bl) | ((dl ^ 0xFFFF) & cl)
                fh = (dh & bh) | ((dh ^ 0xFFFF) & ch)
            elif r == 2:
                fl = bl ^ cl ^ dl
                fh = bh ^ ch ^ dh
            else:
                fl = cl ^ (bl | (dl ^ 0xFFFF))
                fh = ch ^ (bh | (dh ^ 0xFFFF))
            p = off + (word[i] << 2)
            lo = al + fl + k_lo[i] + (m[p] | m[p + 1] << 8)
            hi = ah + fh + k_hi[i] + (m[p + 2] | m[p + 3] << 8) + (lo >> 16)
            lo &= 0xFFFF
            hi &= 0xFFFF
            s = shift[i]
            if s >= 16:
                t = lo
                lo = hi
                hi = t
                s -= 16
            keep = 0xFFFF >> s
            t = ((hi & keep) << s) | (lo >> (16 - s))
            lo = ((lo & keep) << s) | (hi >> (16 - s))
            hi = t
            # A, B, C, D = D, B + rotl(...), B, C
            al = dl
            ah = dh
            dl = cl
            dh = ch
            cl = bl
            ch = bh
            lo += bl
            bh = (hi + bh + (lo >> 16)) & 0xFFFF
            bl = lo & 0xFFFF
        lo = h[0] + al
        h[1] = (h[1] + ah + (lo >> 16)) & 0xFFFF
        h[0] = lo & 0xFFFF
        lo = h[2] + bl
        h[3] = (h[3] + bh + (lo >> 16)) & 0xFFFF
        h[2] = lo & 0xFFFF
        lo = h[4] + cl
        h[5] = (h[5] + ch + (lo >> 16)) & 0xFFFF
        h[4] = lo & 0xFFFF
        lo = h[6] + dl
        h[7] = (h[7] + dh + (lo >> 16)) & 0xFFFF
        h[6] = lo & 0xFFFF
