"""Plain-Python evaluator of a Program, with exact rational comparisons.

It is the oracle of the property tests and the engine an operator can select
(STANDARD_LAND_ENGINE=reference) where durable-rules cannot be built.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from app.engine.program import ABSENT, FAIL, PASS, Check, Program

NAME = "reference"


def _holds(c: Check, v: Fraction) -> bool:
    t = c.threshold
    if c.op == ">=":
        return v >= t
    if c.op == ">":
        return v > t
    if c.op == "<=":
        return v <= t
    if c.op == "<":
        return v < t
    if c.op == "between":
        return t[0] <= v <= t[1]
    if c.op == "in":
        return v in t
    if c.op == "is_true":
        return v == 1
    raise ValueError(f"unknown operator {c.op!r}")


def evaluate(program: Program, values: Mapping[str, Fraction | None]) -> dict[str, str]:
    out = {}
    for c in program.checks:
        v = values.get(program.slots[c.slot])
        out[c.key] = ABSENT if v is None else PASS if _holds(c, v) else FAIL
    return out
