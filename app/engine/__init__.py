"""Rule engines: durable_rules (default) and the plain-Python reference evaluator.

``STANDARD_LAND_ENGINE=reference`` selects the reference evaluator, for hosts
where durable-rules cannot be built; every verdict records which engine ran.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from app.core.config import settings
from app.engine import reference
from app.engine.program import Program


@dataclass(frozen=True)
class Engine:
    name: str
    version: str
    evaluate: Callable[[Program, Mapping[str, Fraction | None]], dict[str, str]]


def _durable() -> Engine:
    from importlib.metadata import version

    from app.engine import durable

    def evaluate(program: Program, values: Mapping[str, Fraction | None]) -> dict[str, str]:
        # The durable program fires only on failures and absences; a failure rule that
        # silently did not match would read as a pass.  The reference evaluator (~10 µs)
        # checks every answer, so the service fails closed instead.
        got = durable.evaluate(program, values)
        want = reference.evaluate(program, values)
        if got != want:
            raise durable.EngineError(f"durable_rules and the reference evaluator disagree: {got} vs {want}")
        return got

    return Engine(durable.NAME, version("durable-rules"), evaluate)


REFERENCE = Engine(reference.NAME, "1", reference.evaluate)


@cache
def by_name(name: str) -> Engine:
    if name in ("durable", "durable_rules"):
        return _durable()
    if name == "reference":
        return REFERENCE
    raise ValueError(f"unknown engine {name!r} (use durable or reference)")


def selected() -> Engine:
    return by_name(settings().engine)
