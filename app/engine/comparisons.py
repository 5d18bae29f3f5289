"""The engine pattern of every check: collect comparisons, run them in one engine
evaluation, read the answers.

A check adds each decisive comparison (a value against a threshold) under a key of its
own, runs the engine once (the durable engine is cross-checked against the reference
evaluator inside ``Engine.evaluate``), and reads per key ``True`` (holds), ``False``
(does not) or ``None`` (the value is missing — never read as zero).

``Comparisons`` is built afresh per check.  ``Compiled`` is for the hot path whose
operators and thresholds are fixed per rule set (the proposal check): the program is built
once, and each run only supplies the values.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction
from typing import Generic, TypeVar

from app.engine import Engine
from app.engine import program as prog
from app.engine.program import ABSENT, PASS

ZERO = Fraction(0)
K = TypeVar("K", bound=Hashable)


def answer(outcome: str) -> bool | None:
    """An engine outcome as an answer: pass → True, fail → False, absent → None."""
    return None if outcome == ABSENT else outcome == PASS


class Comparisons:
    """Comparisons collected by key, evaluated together by ``run``."""

    def __init__(self) -> None:
        self._items: list[tuple[str, str, prog.Threshold]] = []
        self._values: dict[str, Fraction | None] = {}

    def add(self, key: str, value: Fraction | None, op: str, threshold: prog.Threshold = ZERO) -> str:
        """``value op threshold`` under ``key`` (unique within this collection); returns ``key``."""
        if key in self._values:
            # One value per key: a second comparison under the same key would silently be
            # answered with the last value for both.
            raise ValueError(f"comparison key {key!r} added twice")
        self._items.append((key, op, threshold))
        self._values[key] = value
        return key

    def __len__(self) -> int:
        return len(self._items)

    def run(self, engine: Engine) -> dict[str, bool | None]:
        """One engine evaluation of everything added: the answer per key."""
        if not self._items:
            return {}
        program = prog.build(self._items)
        outcomes = engine.evaluate(program, self._values)
        # Keys are the program's slots (one per key), so a check's slot names its key.
        return {program.slots[c.slot]: answer(outcomes[c.key]) for c in program.checks}


class Compiled(Generic[K]):
    """Comparisons whose operators and thresholds are fixed: built into a program once.

    ``items`` are ``(key, slot, op, threshold)``; checks on the same value share its slot,
    and ``run`` takes the values by slot."""

    def __init__(self, items: Sequence[tuple[K, str, str, prog.Threshold]]) -> None:
        self.keys: tuple[K, ...] = tuple(k for k, _, _, _ in items)
        self.program = prog.build([(slot, op, t) for _, slot, op, t in items])

    def run(self, engine: Engine, values: Mapping[str, Fraction | None]) -> dict[K, bool | None]:
        """One engine evaluation: the answer per key."""
        outcomes = engine.evaluate(self.program, values)
        # answer() inlined: this runs per proposal, for every compared rule.
        return {k: None if (o := outcomes[c.key]) == ABSENT else o == PASS
                for k, c in zip(self.keys, self.program.checks, strict=True)}
