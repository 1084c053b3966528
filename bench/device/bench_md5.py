# MD5 speed: the library's fallback (ubxsec.md5) and hashlib.md5 where the port
# has it, over 8 KB fed in 256-byte chunks (as an import feeds it), and the
# bytes the fallback allocates for those 8 KB after a warm-up.

import time

import rig
from ubxsec.md5 import MD5

SIZE = 8192
CHUNK = 256

data = bytearray((i * 7 + 3) & 0xFF for i in range(CHUNK))


def feed(h):
    for _ in range(SIZE // CHUNK):
        h.update(data)
    return h.digest()


def bytes_per_s(make):
    feed(make())  # warm up
    start = time.ticks_us()
    feed(make())
    us = time.ticks_diff(time.ticks_us(), start)
    return round(SIZE * 1_000_000 / max(us, 1))


def updates(h, n):
    while n:
        h.update(data)
        n -= 1


def allocated_8k():
    h = MD5()
    updates(h, 1)  # warm up
    before = rig.alloc_start()
    updates(h, SIZE // CHUNK)
    return rig.alloc_stop(before)


alloc = allocated_8k()

out = {"fallback_bytes_per_s": bytes_per_s(MD5), "fallback_alloc_bytes_8k": alloc,
       "hashlib_bytes_per_s": None}
try:
    from hashlib import md5
except ImportError:
    md5 = None
if md5 is not None:
    out["hashlib_bytes_per_s"] = bytes_per_s(md5)
    assert feed(md5()) == feed(MD5()), "the fallback disagrees with hashlib.md5"
rig.emit(out)
