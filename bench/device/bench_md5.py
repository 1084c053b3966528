# MD5 speed: the library's MD5 (ubxsec.md5, as MD5() picks its transform:
# native where the port emits native code, else bytecode), its bytecode
# transform alone, and hashlib.md5 where the port has it; 8 KB fed in
# 256-byte updates (as an import feeds it). Also the bytes each of the
# library's transforms allocates for those 8 KB after a warm-up.

import time

import rig
from ubxsec import md5 as md5_module
from ubxsec.md5 import MD5

SIZE = 8192
CHUNK = 256

data = bytearray((i * 7 + 3) & 0xFF for i in range(CHUNK))


def feed(h):
    for _ in range(SIZE // CHUNK):
        h.update(data)
    return h.digest()


def bytecode_md5():
    h = MD5()
    h._tf = md5_module._transform
    return h


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


def allocated_8k(make):
    h = make()
    updates(h, 1)  # warm up
    before = rig.alloc_start()
    updates(h, SIZE // CHUNK)
    return rig.alloc_stop(before)


native = md5_module._fast() is not None
out = {"fallback_bytes_per_s": bytes_per_s(MD5),
       "bytecode_bytes_per_s": bytes_per_s(bytecode_md5),
       "native_bytes_per_s": bytes_per_s(MD5) if native else None,
       "fallback_alloc_bytes_8k": allocated_8k(MD5),
       "bytecode_alloc_bytes_8k": allocated_8k(bytecode_md5),
       "hashlib_bytes_per_s": None}
assert feed(MD5()) == feed(bytecode_md5()), "the native transform disagrees"
try:
    from hashlib import md5
except ImportError:
    md5 = None
if md5 is not None:
    out["hashlib_bytes_per_s"] = bytes_per_s(md5)
    assert feed(md5()) == feed(MD5()), "the fallback disagrees with hashlib.md5"
rig.emit(out)
