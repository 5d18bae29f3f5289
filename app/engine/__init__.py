"""Rule engines: durable_rules (default) and the plain-Python reference evaluator.

``STANDARD_LAND_ENGINE=reference`` selects the reference evaluator, for hosts
where durable-rules cannot be built; every verdict records which engine ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

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
    return Engine(durable.NAME, version("durable-rules"), durable.evaluate)


REFERENCE = Engine(reference.NAME, "1", reference.evaluate)


def by_name(name: str) -> Engine:
    if name in ("durable", "durable_rules"):
        return _durable()
    if name == "reference":
        return REFERENCE
    raise ValueError(f"unknown engine {name!r} (use durable or reference)")


def selected() -> Engine:
    return by_name(os.environ.get("STANDARD_LAND_ENGINE", "durable"))
