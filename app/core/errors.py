"""Input problems, reported together with the path of each offending field."""

from __future__ import annotations

from dataclasses import dataclass

MAX_ECHO = 64      # characters of a key echoed back in a path: a 10 MiB key is not returned whole


def clip(part: str, limit: int = MAX_ECHO) -> str:
    return part if len(part) <= limit else part[:limit] + "…"


@dataclass(frozen=True)
class Problem:
    path: str       # dotted path, e.g. "measures.fixed_asset_investment.unit"
    msg: str

    def as_dict(self) -> dict:
        # ASCII digits only: "¹".isdigit() is true but int("¹") fails (a key sent by schemathesis).
        parts = [clip(p) for p in self.path.split(".")] if self.path else []
        loc = [int(p) if p.isascii() and p.isdigit() else p for p in parts]
        return {"loc": loc, "path": ".".join(parts), "msg": clip(self.msg, 4096), "type": "value_error"}


class InputError(ValueError):
    """Invalid input: never reaches a verdict.  HTTP 422 / CLI exit 2."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.msg}" for p in problems))


class TooLarge(InputError):
    """Input too large to read (an uploaded workbook: its size, parts, compression ratio, or the
    memory or time reading it takes).  HTTP 413 / CLI exit 2; nothing stored."""


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
