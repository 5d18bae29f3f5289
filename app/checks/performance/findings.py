"""The shape of performance findings, and the collector of their engine comparisons.

Every part of the audit adds its decisive comparisons to one ``Audit``, which the rule
engine evaluates once; each part then builds its findings from the outcomes.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from app.core.numbers import dec_str
from app.engine.comparisons import Comparisons
from app.lifecycle import penalties

ZERO = Fraction(0)
# The engine tests of every part, evaluated once, then the findings built (app/engine/comparisons.py).
Audit = Comparisons


def finding(kind: str, status: str, message: str, *, amount: Fraction | None = None, formula: str | None = None,
            inputs: dict | None = None, **extra: Any) -> dict:
    return {"kind": kind, "status": status, "amount": dec_str(amount, 2) if amount is not None else None,
            "formula": formula, "inputs": inputs or {}, "message": message, **extra}


def penalty(kind: str, status: str, message: str, p: penalties.Penalty, **extra: Any) -> dict:
    d = p.to_dict()
    return {"kind": kind, "status": status, "amount": d["amount"], "formula": d["formula"], "inputs": d["inputs"],
            "flags": d["flags"], "notes": d["notes"], "message": message, "label": d["label"], **extra}


def missing(kind: str, what: list[str], message: str, **extra: Any) -> dict:
    return finding(kind, "insufficient_data", message, missing=what, **extra)


def blanks(*pairs: tuple[str, Any]) -> list[str]:
    """The names of the figures that are missing (None) among ``(name, value)`` pairs."""
    return [name for name, value in pairs if value is None]
