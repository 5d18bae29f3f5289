"""The engine-neutral program: what both evaluators run.

A program is the list of comparisons left after resolution (thresholds already
chosen for the industry and converted to canonical units).  It is content
addressed, so an engine compiles each distinct program once per process.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

Threshold = Fraction | tuple[Fraction, ...] | bool

PASS, FAIL, ABSENT = "pass", "fail", "absent"


@dataclass(frozen=True)
class Check:
    key: str            # compiler-generated: "c0", "c1", ...
    slot: int           # index into Program.slots
    op: str             # >= <= > < between in is_true
    threshold: Threshold


@dataclass(frozen=True)
class Program:
    slots: tuple[str, ...]          # indicator ids, in order
    checks: tuple[Check, ...]

    @cached_property
    def digest(self) -> str:
        def t(x: Threshold) -> object:
            if isinstance(x, bool):
                return x
            if isinstance(x, tuple):
                return [str(v) for v in x]
            return str(x)
        body = {"slots": list(self.slots),
                "checks": [[c.key, c.slot, c.op, t(c.threshold)] for c in self.checks]}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def build(items: list[tuple[str, str, Threshold]]) -> Program:
    """``items``: (indicator, op, canonical threshold) per applicable rule, in finding order."""
    slots: list[str] = []
    checks = []
    for i, (indicator, op, threshold) in enumerate(items):
        if indicator not in slots:
            slots.append(indicator)
        checks.append(Check(f"c{i}", slots.index(indicator), op, threshold))
    return Program(tuple(slots), tuple(checks))
