"""Fault injection: the one seam every byte in and out goes through.

A fault spec is a JSON object: {"seed": <int>, "<kind>": {<options>}, ...}.
Every kind takes "p" (probability per opportunity, default 1.0) and "times"
(how many times it may fire, default unlimited). Kinds and their
opportunities:

  drop_in / corrupt_in     each byte received from the client
  drop_out / corrupt_out   each byte sent to the client; "where" limits it to
                           some of "echo", "response", "prompt", "urc"
  prompt_missing           each `>` prompt: the module enters the data phase
                           but the `>` is lost
  prompt_late              each `>` prompt: sent "seconds" late (default 1)
  urc_burst                "lines" (default ["+UUSIMFAULT: 0"]) sent
                           "count" times (default 3) at a point listed in
                           "where" (default all): "idle" (each engine tick),
                           "response" (after each line end inside a
                           response: between its lines, never inside one),
                           "transfer" (after each byte received in a data
                           phase)
  spurious_error           each command line: answered ERROR, not executed
  stall                    each command line: the module is busy "seconds"
                           (default 1) before it answers
  reboot_in_transfer       each byte received in a data phase, or only when
                           "after" bytes of it have arrived: the module restarts
  boot_noise               each restart (and power-on): "data" (latin-1 text,
                           default "\\x00\\xff") is sent before the module
                           accepts commands

The same seed gives the same faults for the same traffic.
"""

import random
import threading

KINDS = (
    "drop_in", "corrupt_in", "drop_out", "corrupt_out", "prompt_missing",
    "prompt_late", "urc_burst", "spurious_error", "stall", "reboot_in_transfer",
    "boot_noise",
)
OUT_PLACES = ("echo", "response", "prompt", "urc")
BURST_PLACES = ("idle", "response", "transfer")


class FaultSpecError(ValueError):
    pass


class Faults:
    def __init__(self, spec=None):
        self._lock = threading.Lock()
        self.configure({} if spec is None else spec)

    def configure(self, spec):
        """Replace the active faults; raises FaultSpecError on a bad spec."""
        if not isinstance(spec, dict):
            raise FaultSpecError("fault spec must be an object")
        rules = {}
        for kind, opts in spec.items():
            if kind == "seed":
                continue
            if kind not in KINDS:
                raise FaultSpecError("unknown fault kind %r" % kind)
            if not isinstance(opts, dict):
                raise FaultSpecError("options of %r must be an object" % kind)
            rule = dict(opts)
            p = rule.setdefault("p", 1.0)
            if not isinstance(p, (int, float)) or not 0 <= p <= 1:
                raise FaultSpecError("%s.p must be within 0..1" % kind)
            times = rule.setdefault("times", None)
            if times is not None and (not isinstance(times, int) or times < 0):
                raise FaultSpecError("%s.times must be a count" % kind)
            rules[kind] = rule
        burst = rules.get("urc_burst")
        if burst is not None:
            burst.setdefault("lines", ["+UUSIMFAULT: 0"])
            burst.setdefault("count", 3)
            burst.setdefault("where", list(BURST_PLACES))
            if any(w not in BURST_PLACES for w in burst["where"]):
                raise FaultSpecError("urc_burst.where: one of %s" % (BURST_PLACES,))
        for kind in ("drop_out", "corrupt_out"):
            if kind in rules:
                where = rules[kind].setdefault("where", list(OUT_PLACES))
                if any(w not in OUT_PLACES for w in where):
                    raise FaultSpecError("%s.where: one of %s" % (kind, OUT_PLACES))
        with self._lock:
            self._rules = rules
            self._rng = random.Random(spec.get("seed", 0))
            self.fired = {}

    @property
    def active(self):
        return bool(self._rules)

    def describe(self):
        with self._lock:
            return {"rules": self._rules, "fired": dict(self.fired)}

    def _fire(self, kind, **extra):
        """One opportunity for `kind`; caller holds the lock."""
        rule = self._rules.get(kind)
        if rule is None or rule["times"] == 0:
            return None
        for key, value in extra.items():
            if rule.get(key) is not None and rule[key] != value:
                return None
        if rule["p"] < 1 and self._rng.random() >= rule["p"]:
            return None
        if rule["times"] is not None:
            rule["times"] -= 1
        self.fired[kind] = self.fired.get(kind, 0) + 1
        return rule

    def _burst_bytes(self, rule):
        lines = rule["lines"] * rule["count"]
        return b"".join(b"\r\n" + l.encode("latin-1") + b"\r\n" for l in lines)

    def _flip(self, byte):
        return byte ^ (1 << self._rng.randrange(8))

    def incoming(self, data):
        if not self._rules:
            return data
        out = bytearray()
        with self._lock:
            for byte in data:
                if self._fire("drop_in"):
                    continue
                if self._fire("corrupt_in"):
                    byte = self._flip(byte)
                out.append(byte)
        return bytes(out)

    def outgoing(self, data, where):
        if not self._rules:
            return data
        out = bytearray()
        with self._lock:
            for byte in data:
                drop = self._rules.get("drop_out")
                corrupt = self._rules.get("corrupt_out")
                if drop and where in drop["where"] and self._fire("drop_out"):
                    pass
                elif corrupt and where in corrupt["where"] and self._fire("corrupt_out"):
                    out.append(self._flip(byte))
                else:
                    out.append(byte)
                # a module never splits a line: a burst inside a response
                # comes between its lines (after a line's LF)
                if where == "response" and byte == 10:
                    out += self._burst_at("response")
        return bytes(out)

    def _burst_at(self, place):
        rule = self._rules.get("urc_burst")
        if rule is None or place not in rule["where"]:
            return b""
        rule = self._fire("urc_burst")
        return self._burst_bytes(rule) if rule else b""

    def burst(self, place):
        """Bytes of a URC burst to send now at `place`, or b""."""
        if not self._rules:
            return b""
        with self._lock:
            return self._burst_at(place)

    def prompt(self):
        """(send the prompt?, seconds to wait before it)."""
        if not self._rules:
            return True, 0.0
        with self._lock:
            if self._fire("prompt_missing"):
                return False, 0.0
            rule = self._fire("prompt_late")
            return True, (rule.get("seconds", 1.0) if rule else 0.0)

    def spurious_error(self):
        if not self._rules:
            return False
        with self._lock:
            return self._fire("spurious_error") is not None

    def stall(self):
        if not self._rules:
            return 0.0
        with self._lock:
            rule = self._fire("stall")
            return rule.get("seconds", 1.0) if rule else 0.0

    def reboot_in_transfer(self, received):
        if not self._rules:
            return False
        with self._lock:
            return self._fire("reboot_in_transfer", after=received) is not None

    def boot_noise(self):
        if not self._rules:
            return b""
        with self._lock:
            rule = self._fire("boot_noise")
            return rule.get("data", "\x00\xff").encode("latin-1") if rule else b""
