"""The arithmetic of a run, pure and exact (``Fraction``): sub-scores and scores, ranks and
percentiles, and the class of each percentile (decided by the rule engine, checked against the
plain comparison: fail closed)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING

from app.core.numbers import dec_str, round_half_up
from app.engine import Engine
from app.engine.comparisons import Compiled
from app.engine.durable import EngineError

from .ruleset import CHUNK, HUNDRED, POLICIES, Band, Indicator, ScoringRuleSet

if TYPE_CHECKING:
    from .request import Enterprise

_P12, _P6 = 10**12, 10**6


def dec(x: Fraction | None) -> str | None:
    """``numbers.dec_str(x)`` in integer arithmetic (a run formats ~30 numbers per enterprise):
    exact up to 12 decimals, else rounded half-up to 6; trailing zeros dropped."""
    if x is None:
        return None
    n, d = x.numerator, x.denominator
    q, r = divmod(n * _P12, d)
    if r == 0:
        t = Decimal(q).scaleb(-12)
    else:
        t = Decimal((2 * n * _P6 + d) // (2 * d) if n >= 0 else -((-2 * n * _P6 + d) // (2 * d))).scaleb(-6)
    return format(t.normalize() if t != 0 else Decimal(0), "f")



# ---------------------------------------------------------------- scoring (pure, exact)

@dataclass
class Sub:
    value: Fraction | None
    sub: Fraction | None
    status: str             # scored | capped | average | zero | excluded | missing
    note: str | None = None


@dataclass
class Result:
    ent: Enterprise
    subs: dict[str, Sub]
    exact: Fraction | None = None       # Σ sub-scores (rescaled if an indicator was excluded)
    score: Fraction | None = None       # as ranked: exact, or rounded as the rule set says
    weight_used: Fraction = HUNDRED
    missing: list[str] = field(default_factory=list)
    incomplete_because: list[str] = field(default_factory=list)
    rank: int | None = None
    percentile: Fraction | None = None
    cls: str | None = None


def _raw_sub(v: Fraction, ind: Indicator, factor: Fraction | None = None) -> tuple[Fraction, bool]:
    s = v * (factor if factor is not None else ind.weight / ind.benchmark)
    if ind.cap is not None and s > ind.cap:
        return ind.cap, True
    return s, False


def score_all(rs: ScoringRuleSet, enterprises: Iterable[Enterprise]) -> tuple[list[Result], dict]:
    """Sub-scores and scores of every enterprise (no ranks yet), and the average sub-score
    (with the number of enterprises it is taken over) of each indicator whose policy is ``average``."""
    ents = list(enterprises)
    factors = [(ind, ind.weight / ind.benchmark) for ind in rs.indicators]
    raw = [[None if (v := e.values.get(ind.key)) is None else _raw_sub(v, ind, f) for ind, f in factors] for e in ents]
    avg: dict[str, tuple[Fraction | None, int]] = {}
    for j, ind in enumerate(rs.indicators):
        if ind.missing == "average":
            subs = [row[j][0] for row in raw if row[j] is not None]
            avg[ind.key] = (sum(subs, Fraction(0)) / len(subs) if subs else None, len(subs))
    results = []
    for e, row in zip(ents, raw, strict=True):
        subs: dict[str, Sub] = {}
        r = Result(e, subs)
        total, used = Fraction(0), Fraction(0)
        for ind, got in zip(rs.indicators, row, strict=True):
            if got is not None:
                s, capped = got
                subs[ind.key] = Sub(e.values[ind.key], s, "capped" if capped else "scored",
                                    f"封顶 {dec_str(ind.cap)} 分 (capped)" if capped else None)
            else:
                r.missing.append(ind.key)
                policy = ind.missing
                if policy == "average":
                    a, n = avg[ind.key]
                    if a is None:
                        subs[ind.key] = Sub(None, None, "missing", "无数据，且总体中无企业有该项数据，平均分无从计算 "
                                                                   "(no enterprise has data: no average)")
                        r.incomplete_because.append(ind.key)
                        continue
                    subs[ind.key] = Sub(None, a, "average", f"无数据：取总体 {n} 家有数据企业的平均单项得分 "
                                                            f"(average sub-score of the {n} enterprises with data)")
                elif policy == "zero":
                    subs[ind.key] = Sub(None, Fraction(0), "zero", POLICIES["zero"])
                elif policy == "exclude_and_reweight":
                    subs[ind.key] = Sub(None, None, "excluded", POLICIES["exclude_and_reweight"])
                    continue
                else:
                    subs[ind.key] = Sub(None, None, "missing", POLICIES["incomplete"])
                    r.incomplete_because.append(ind.key)
                    continue
            total += subs[ind.key].sub
            used += ind.weight
        r.weight_used = used
        if not r.incomplete_because:
            if used == 0:
                r.incomplete_because = list(r.missing)
            else:
                r.exact = total if used == HUNDRED else total * HUNDRED / used
                r.score = r.exact if rs.places is None else round_half_up(r.exact, rs.places)
        results.append(r)
    return results, avg


def rank(rs: ScoringRuleSet, results: list[Result]) -> int:
    """Ranks and percentiles of the scored results (in place); returns N, the number ranked.

    Sorted on exact integer keys (each score over the common denominator of all scores),
    which compare much faster than fractions and are equal exactly when the scores are."""
    scored = [r for r in results if r.score is not None]
    common = math.lcm(*(r.score.denominator for r in scored)) if scored else 1
    keys = {id(r): r.score.numerator * (common // r.score.denominator) for r in scored}
    scored.sort(key=lambda r: keys[id(r)], reverse=True)
    n = len(scored)
    i = 0
    while i < n:
        j = i
        while j + 1 < n and keys[id(scored[j + 1])] == keys[id(scored[i])]:
            j += 1
        rk = i + 1 if rs.ties == "better_rank" else j + 1
        pct = Fraction(rk * 100, n)
        for r in scored[i:j + 1]:
            r.rank, r.percentile = rk, pct
        i = j + 1
    return n


def class_of(rs: ScoringRuleSet, pct: Fraction) -> str:
    """The plain comparison: the first band whose upper bound the percentile does not exceed."""
    last = len(rs.bands) - 1
    for k, b in enumerate(rs.bands):
        if pct <= b.to_pct if (rs.inclusive or k == last) else pct < b.to_pct:
            return b.cls
    raise ValueError(f"percentile {pct} above 100")


@cache
def _band_comparisons(bands: tuple[Band, ...], inclusive: bool) -> Compiled[tuple[int, int]]:
    """Percentile slot j against band k's upper bound, for CHUNK slots: compiled once per rule set."""
    last = len(bands) - 1
    return Compiled([((j, k), f"p{j}", "<=" if inclusive or k == last else "<", b.to_pct)
                     for j in range(CHUNK) for k, b in enumerate(bands)])


def classify(rs: ScoringRuleSet, percentiles: Iterable[Fraction], engine: Engine) -> dict[Fraction, str]:
    """Class of each distinct percentile, decided by the rule engine (CHUNK per evaluation)."""
    compiled = _band_comparisons(rs.bands, rs.inclusive)
    nb = len(rs.bands)
    todo = list(dict.fromkeys(percentiles))
    out: dict[Fraction, str] = {}
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start:start + CHUNK]
        # Padding slots get 0, which every band's upper bound (> 0) admits: no action fires for them.
        values = {f"p{j}": chunk[j] if j < len(chunk) else Fraction(0) for j in range(CHUNK)}
        holds = compiled.run(engine, values)
        for j, pct in enumerate(chunk):
            got = next((rs.bands[k].cls for k in range(nb) if holds[(j, k)]), None)
            want = class_of(rs, pct)
            if got != want:
                raise EngineError(f"class of percentile {pct}: engine {got!r}, plain comparison {want!r}")
            out[pct] = got
    return out

