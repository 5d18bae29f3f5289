"""Input problems, reported together with the path of each offending field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str       # dotted path, e.g. "measures.fixed_asset_investment.unit"
    msg: str

    def as_dict(self) -> dict:
        # ASCII digits only: "¹".isdigit() is true but int("¹") fails (a key sent by schemathesis).
        loc = [int(p) if p.isascii() and p.isdigit() else p for p in self.path.split(".")] if self.path else []
        return {"loc": loc, "path": self.path, "msg": self.msg, "type": "value_error"}


class InputError(ValueError):
    """Invalid input: never reaches a verdict.  HTTP 422 / CLI exit 2."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.msg}" for p in problems))


class NotFound(LookupError):
    pass


class Conflict(Exception):
    pass


def pydantic_problems(exc, prefix: tuple = ()) -> list[Problem]:
    """Turn a pydantic ValidationError (or its ``errors()``) into Problems."""
    errors = exc.errors() if hasattr(exc, "errors") else exc
    out = []
    for e in errors:
        loc = [str(x) for x in (*prefix, *e.get("loc", ()))]
        out.append(Problem(".".join(loc), e.get("msg", "invalid")))
    return out
