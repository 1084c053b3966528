"""Foreign URCs: the 3GPP and u-blox URCs a real application has enabled.

`ubxsim --urcs RATE [--urcs-seed N]` (or the control verb "urcs") makes the
module send URCs such as `+CEREG: 5`, `+CSCON: 1` or `RING` where a real
module may: at line boundaries only, never inside a line.

Opportunities, each taken with probability RATE (0..1):
  "line"      every line boundary of a response: before its first
              information line, between two of them, before the final
              result code (so also right after the echoed command)
  "prompt"    before the `>` of a data phase
  "transfer"  inside a `>` data phase: each received byte with probability
              RATE/64 (a URC every 64/RATE bytes on average); the URC goes
              out on TX while the data keeps coming in on RX, which it
              never touches
  "idle"      an idle line gets IDLE URCs a second on average (--urcs-idle,
              default none)
Lines, transfer offsets and prompts come from one generator seeded by N, so
the same traffic gets the same URCs at the same places; idle ones (which
depend on time) from a second one.

Every URC sent is counted, by place and by prefix, for the control channel's
status: a test checks that the client handled or counted each of them.
"""

import random

# (prefix, lines): what networks, SIMs and the module itself send
LINES = (
    ("+CEREG", ("+CEREG: 5", "+CEREG: 1", '+CEREG: 1,"00C3","01A2D001",7',
                '+CEREG: 5,"00C3","01A2D001",7', "+CEREG: 2")),
    ("+CREG", ("+CREG: 1", "+CREG: 5", '+CREG: 5,"00C3","0000A2D0",7')),
    ("+CGREG", ("+CGREG: 1", '+CGREG: 5,"00C3","0000A2D0",7,"01"')),
    ("+CSCON", ("+CSCON: 1", "+CSCON: 0")),
    ("+CIEV", ("+CIEV: 2,3", "+CIEV: 9,1", "+CIEV: 7,0")),
    ("RING", ("RING",)),
    ("+CMTI", ('+CMTI: "SM",3', '+CMTI: "ME",12')),
    ("+CGEV", ("+CGEV: ME PDN ACT 1", "+CGEV: NW DETACH", "+CGEV: ME DETACH",
               '+CGEV: NW PDN DEACT 1')),
    ("+CTZE", ('+CTZE: "+04",0,"2026/12/02,18:41:45"',)),
    ("+UUPSDA", ('+UUPSDA: 0,"10.160.37.4"',)),
    ("+UUSORD", ("+UUSORD: 0,32",)),
    ("+CCLK", ('+CCLK: "26/12/02,18:41:45+04"',)),
)
ALL_LINES = tuple(line for _, lines in LINES for line in lines)
PLACES = ("line", "prompt", "transfer", "idle", "injected")
BYTES_PER_TRANSFER_CHANCE = 64


def prefix_of(line):
    """The part before ':' (or the whole line: RING)."""
    return line.split(":", 1)[0]


class UrcSource:
    def __init__(self, rate=0.0, seed=0, idle=0.0):
        self.rate = self.idle_rate = 0.0
        self.configure(rate, seed, idle)

    def configure(self, rate=None, seed=None, idle=None):
        """Set the rates (the counts go on) and/or reseed (the choices and
        the counts start again)."""
        if rate is not None:
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise ValueError("the URC rate is a probability within 0..1")
            self.rate = float(rate)
        if idle is not None:
            if isinstance(idle, bool) or not isinstance(idle, (int, float)) or not 0 <= idle <= 100:
                raise ValueError("idle URCs are 0..100 a second")
            self.idle_rate = float(idle)
        if seed is None:
            return
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError("the URC seed is an integer")
        self.seed = seed
        self._rng = random.Random(self.seed)
        self._idle_rng = random.Random(self.seed + 1)
        self.sent = 0
        self.by_place = dict.fromkeys(PLACES, 0)
        self.by_prefix = {}

    @property
    def active(self):
        return self.rate > 0 or self.idle_rate > 0

    def _line(self, place, rng):
        line = rng.choice(ALL_LINES)
        self.count(line, place)
        return line

    def count(self, line, place):
        self.sent += 1
        self.by_place[place] += 1
        prefix = prefix_of(line)
        self.by_prefix[prefix] = self.by_prefix.get(prefix, 0) + 1

    def at(self, place):
        """A URC line to send now at a line boundary or prompt, or None."""
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return None
        return self._line(place, self._rng)

    def idle(self, seconds):
        """A URC line to send on an idle line after `seconds`, or None."""
        if self.idle_rate <= 0 or self._idle_rng.random() >= self.idle_rate * seconds:
            return None
        return self._line("idle", self._idle_rng)

    def transfer_gap(self):
        """Bytes of a data phase until the next URC (0: right after `>`)."""
        if self.rate <= 0:
            return None
        return int(self._rng.expovariate(self.rate / BYTES_PER_TRANSFER_CHANCE))

    def transfer_line(self):
        return self._line("transfer", self._rng)

    def describe(self):
        return {"rate": self.rate, "idle": self.idle_rate, "seed": self.seed, "sent": self.sent,
                "by_place": dict(self.by_place), "by_prefix": dict(self.by_prefix)}
