"""Fuzzing the library's response parsing on the MicroPython unix port.

Hypothesis draws cases (a library call and the module's response streams:
valid answers with mutations, or random bytes); tests_device/fuzz_driver.py
runs them in one long-lived micropython process against a FakeUart. Only
ubxsec's typed errors (errors.UbxError) and ValueError may escape a call.

In `make test` a short slice runs (FUZZ_EXAMPLES hypothesis examples, 300 by
default). `make fuzz` sets FUZZ_CASES=1000000: each drawn case is then also
run as FUZZ_AMPLIFY seeded mutants of itself, and seeded random batches top
the run up until that many cases have run on the device. The count is
printed at the end.
"""

import hashlib
import os
import random
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_robust_faults import LineReader
import toolchain

ROOT = Path(__file__).resolve().parent.parent
DEVICE = ROOT / "tests_device"
MICROPYTHON = Path(sys.executable).parent / "micropython"

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
TARGET = int(os.environ.get("FUZZ_CASES", "0"))      # 0: only the hypothesis slice
AMPLIFY = int(os.environ.get("FUZZ_AMPLIFY", "1" if not TARGET else "16"))
BATCH_WAIT_S = 120

_MD5 = hashlib.md5(b"\x30\x03\x02\x01\x05").hexdigest()


def _ok(*lines):
    return "".join("\r\n%s\r\n" % l for l in lines + ("OK",)).encode()


def _prf(fields):
    return _ok("+USECPRF: 0," + fields)


# valid module answers for each op of fuzz_driver.OPS (same order)
CORPUS = [
    [_ok("u-blox")],
    [_ok('+USECCHIP: "0123456789ABCDEF"')],
    [_ok('+USECMNG: 4,0,"Nm","%s"' % _MD5)],
    [_ok('"CA","Nm","thawte Primary Root CA","2036/07/17"', '"PK","Key"',
         '"CA","AAA Certificate Services","AAA Certificate Services","2028/12/31 23:59:59"')],
    [_ok('"CA","Nm","cn","2036/07/17"')],
    # an import lists the other kinds first (empty here), then streams
    [_ok(), _ok(), _ok(), b">", _ok('+USECMNG: 0,0,"Nm","%s"' % _MD5)],
    [b">", _ok()],
    [_ok('+USECMNG: 1,0,"Nm","%s"' % _MD5)],
    [_prf("0,1")],
    [_prf('2,100,"C02B;C02F"')],
    [_prf('9,"ident"')],
    [_prf('13,3,"QUJDRA==",8')],
    [_prf('13,2,"QUJD","REVG"')],
    [_prf('12,"Nm",1')],
    [_prf("13,0,2")],
    [_prf(f) for f in ("0,1", "1,3", '3,"ca"', '4,"host"', '5,"cc"', '6,"pk"', '9,"id"',
                       '10,"sni"', "11,0", '12,"pin",0', "13,0,1", "13,1,1", "14,0",
                       '15,"h2"', "16,0", '2,99,"C0","2B"')],
    [b'\r\n+UUSECPRF: 0,13,2,"QUJD","REVG"\r\n\r\n+UUSECPRF: 0,13,0,2\r\n'],
    [b">", _ok()],
    [_prf("13,0,2"), _prf("13,1,1"), _prf('13,3,"QUJD",4')],
]
OPS = len(CORPUS)

TOKENS = [b"\r\n", b"\r", b"\n", b"OK", b"ERROR", b"+CME ERROR: 3", b"+CME ERROR: ", b">",
          b'"', b",", b"+UUSIMFAULT: 0\r\n", b"\r\n+UUSECPRF: 0,13,0,2\r\n", b"AT", b"\x00",
          b"\xff", b"\xc3", b"\x1a", b"+USECMNG: ", b"+USECPRF: 0,", b"99999999", b"-1",
          b"\r\n\r\nOK\r\n", b" " * 600]


def mutate(responses, rng):
    """One seeded mutation of a list of responses (a new list)."""
    out = [bytearray(r) for r in responses] or [bytearray()]
    r = out[rng.randrange(len(out))]
    how = rng.randrange(9)
    pos = rng.randint(0, len(r))
    if how == 0 and r:
        r[min(pos, len(r) - 1)] ^= 1 << rng.randrange(8)
    elif how == 1 and r:
        r[min(pos, len(r) - 1)] = rng.randrange(256)
    elif how == 2:
        r[pos:pos] = rng.choice(TOKENS)
    elif how == 3:
        del r[pos:pos + rng.randint(1, 8)]
    elif how == 4:
        del r[pos:]
    elif how == 5:
        end = rng.randint(pos, len(r))
        r[pos:pos] = r[pos:end]
    elif how == 6:
        r[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif how == 7 and len(out) > 1:
        i, j = rng.randrange(len(out)), rng.randrange(len(out))
        out[i], out[j] = out[j], out[i]
    else:
        out.insert(rng.randint(0, len(out)), bytearray(rng.choice(TOKENS)))
    return [bytes(x[:4000]) for x in out[:8]]


def encode(cases):
    body = bytearray()
    for op, variant, responses in cases:
        body += bytes((op, variant, len(responses)))
        for r in responses:
            body += struct.pack(">H", len(r)) + r
    return struct.pack(">I", len(body)) + bytes(body)


class FuzzDevice:
    def __init__(self):
        env = dict(os.environ, MICROPYPATH="%s:%s" % (ROOT / "lib", DEVICE))
        self.proc = subprocess.Popen(
            [str(MICROPYTHON), "-X", "heapsize=8M", str(DEVICE / "fuzz_driver.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        self.out = LineReader(self.proc.stdout.fileno())
        self.cases = 0
        self.outcomes = {}

    def run(self, cases):
        """(outcome counts, escape lines) of one batch."""
        try:
            self.proc.stdin.write(encode(cases))
            self.proc.stdin.flush()
        except BrokenPipeError:
            tail = self.out.readline(time.monotonic() + 1) or b""
            raise AssertionError("fuzz driver died: %r" % (tail + bytes(self.out.buf)))
        lines = []
        deadline = time.monotonic() + BATCH_WAIT_S
        while True:
            line = self.out.readline(deadline)
            if line is None:
                raise AssertionError("fuzz driver hung on a batch of %d cases" % len(cases))
            line = line.decode(errors="replace").rstrip("\n")
            if not line:
                raise AssertionError("fuzz driver died:\n" + "\n".join(lines))
            if line == "D":
                break
            lines.append(line)
        head = lines[0].split()
        assert head[0] == "B", lines
        counts = dict(kv.split("=") for kv in head[3:])
        counts = {k: int(v) for k, v in counts.items()}
        assert int(head[1]) == len(cases), lines
        self.cases += len(cases)
        for k, v in counts.items():
            self.outcomes[k] = self.outcomes.get(k, 0) + v
        return counts, lines[1:]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def fuzz():
    toolchain.require(MICROPYTHON)
    dev = FuzzDevice()
    yield dev
    dev.close()
    print("\nfuzz cases run on the device: %d, outcomes %s" % (dev.cases, dev.outcomes))


def check(fuzz, cases):
    counts, escapes = fuzz.run(cases)
    assert not escapes, "untyped exceptions escaped:\n%s\ncases: %r" % (
        "\n".join(escapes[:10]), [cases[int(e.split()[1])] for e in escapes[:3]])
    return counts


VARIANTS = st.sampled_from([0, 1, 0, 2, 3, 8, 17, 128])


@st.composite
def mutated_case(draw):
    op = draw(st.integers(0, OPS - 1))
    seed = draw(st.integers(0, 1 << 32))
    rng = random.Random(seed)
    responses = CORPUS[op]
    for _ in range(draw(st.integers(1, 6))):
        responses = mutate(responses, rng)
    return op, draw(VARIANTS), responses


random_case = st.tuples(st.integers(0, OPS - 1), VARIANTS,
                        st.lists(st.binary(max_size=300), max_size=5))
spliced_case = st.tuples(
    st.integers(0, OPS - 1), VARIANTS,
    st.lists(st.lists(st.sampled_from(TOKENS + [l for c in CORPUS for l in c]), max_size=6)
             .map(b"".join), max_size=5))

CASE = st.one_of(mutated_case(), random_case, spliced_case)


def amplified(cases, rng):
    out = list(cases)
    for _ in range(AMPLIFY - 1):
        for op, variant, responses in cases:
            out.append((op, variant, mutate(responses, rng)))
    return out


def test_valid_answers_parse(fuzz):
    """The corpus is right: unmutated, every op succeeds (so mutants start
    from the success paths), with and without echo."""
    cases = [(op, v, CORPUS[op]) for op in range(OPS) for v in (0, 1)]
    assert check(fuzz, cases) == {"ok": len(cases)}


def test_an_escape_is_reported(fuzz):
    """The driver's self-test op raises an untyped error: it must come back
    as an escape, with the index of its case."""
    counts, escapes = fuzz.run([(0, 0, CORPUS[0]), (255, 0, [])])
    assert counts == {"ok": 1, "escape": 1}
    assert escapes == ["E 1 RuntimeError: RuntimeError('driver self-test: an escape',)"]


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          derandomize=not TARGET,
          suppress_health_check=list(HealthCheck))
@given(st.lists(CASE, min_size=1, max_size=24), st.integers(0, 1 << 32))
def test_only_typed_errors_escape(fuzz, cases, seed):
    check(fuzz, amplified(cases, random.Random(seed)))


def test_fuzz_top_up(fuzz):
    """`make fuzz`: seeded mutants of the corpus until FUZZ_CASES have run."""
    if not TARGET:
        pytest.skip("FUZZ_CASES not set (make fuzz)")
    rng = random.Random(int(os.environ.get("FUZZ_SEED", "1")))
    while fuzz.cases < TARGET:
        batch = []
        for _ in range(min(1000, TARGET - fuzz.cases)):
            op = rng.randrange(OPS)
            responses = CORPUS[op]
            for _ in range(rng.randint(1, 6)):
                responses = mutate(responses, rng)
            batch.append((op, rng.choice([0, 1, 0, 2, 3, 8, 17, 128]), responses))
        check(fuzz, batch)
    assert fuzz.cases >= TARGET
