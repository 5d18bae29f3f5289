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


# Programs by their items: a process sees few distinct programs (one per rule-set chain,
# industry and waiver set), and reusing the object reuses its digest and the engine's
# compiled rule set instead of hashing the program again for every check.
_BUILT: dict[tuple, Program] = {}
_BUILT_MAX = 4096


def build(items: list[tuple[str, str, Threshold]]) -> Program:
    """``items``: (indicator, op, canonical threshold) per applicable rule, in finding order."""
    key = tuple(items)
    program = _BUILT.get(key)
    if program is None:
        if len(_BUILT) >= _BUILT_MAX:      # bounded: rule-set documents are user input
            _BUILT.clear()
        program = _BUILT[key] = _build(items)
    return program


def _build(items: list[tuple[str, str, Threshold]]) -> Program:
    slots: list[str] = []
    checks = []
    for i, (indicator, op, threshold) in enumerate(items):
        if indicator not in slots:
            slots.append(indicator)
        checks.append(Check(f"c{i}", slots.index(indicator), op, threshold))
    return Program(tuple(slots), tuple(checks))
