"""A validated scoring rule set: what ``format.validate`` returns and every other module reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from app.core.numbers import dec_str

POLICIES = {
    "average": "无数据：取总体平均单项得分 (the population's average sub-score)",
    "zero": "无数据：单项得分计 0 (sub-score 0)",
    "exclude_and_reweight": "无数据：不计该项，按其余权重折算 (left out; score rescaled to the weights used)",
    "incomplete": "无数据：企业不计分、不排名，报告为数据不全 (enterprise not scored: incomplete)",
}
TIES = ("better_rank", "worse_rank")
STATUSES = ("example", "official")
HUNDRED = Fraction(100)
GRID = 10**6                    # engine thresholds: on the 10^-6 grid
MAX_BANDS = 20                  # × CHUNK checks per engine program (durable fails near 400)
CHUNK = 10                      # percentiles per engine evaluation (measured fastest; 100 overflows durable)


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    weight: Fraction
    benchmark: Fraction
    missing: str
    cap: Fraction | None
    max: Fraction | None
    cite: dict | None
    max_dec: Decimal | None = None      # the same bound, for checking inputs before they become fractions


@dataclass(frozen=True)
class Band:
    cls: str
    from_pct: Fraction
    to_pct: Fraction
    label: str | None


@dataclass(frozen=True)
class ScoringRuleSet:
    id: str
    version: str
    title: str
    status: str
    jurisdiction: str | None
    effective_from: dt.date
    effective_to: dt.date | None
    population: dict
    documents: dict
    indicators: tuple[Indicator, ...]
    bands: tuple[Band, ...]
    inclusive: bool
    ties: str
    places: int | None              # None: rank on the exact score
    classes_cite: dict | None
    notes: str | None
    digest: str
    source: str = ""

    @property
    def by_key(self) -> dict[str, Indicator]:
        return {i.key: i for i in self.indicators}

    def in_force(self, on: dt.date) -> bool:
        # effective_to is exclusive: the first day the rule set no longer applies
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)

    def summary(self) -> dict:
        return {"id": self.id, "version": self.version, "digest": self.digest, "status": self.status,
                "title": self.title, "jurisdiction": self.jurisdiction,
                "effective_from": self.effective_from.isoformat(),
                "effective_to": self.effective_to.isoformat() if self.effective_to else None}

    def describe(self) -> dict:
        """What a run used, in the order of the table columns."""
        return {
            **self.summary(),
            "population": self.population,
            "indicators": [{"key": i.key, "label": i.label, "unit": i.unit, "weight": dec_str(i.weight),
                            "benchmark": dec_str(i.benchmark), "missing_policy": i.missing,
                            "cap": dec_str(i.cap), "cite": cite(self, i.cite)} for i in self.indicators],
            "ranking": {"order": "descending", "ties": self.ties,
                        "precision": {"mode": "strict"} if self.places is None
                        else {"mode": "round_half_up", "places": self.places}},
            "classes": {"basis": "rank_percentile", "inclusive": self.inclusive,
                        "bands": [{"class": b.cls, "from_pct": dec_str(b.from_pct), "to_pct": dec_str(b.to_pct),
                                   "label": b.label} for b in self.bands],
                        "cite": cite(self, self.classes_cite)},
        }


def cite(rs: ScoringRuleSet, c: dict | None) -> dict | None:
    """A citation with the title, number and url of the document it names."""
    if not c:
        return None
    doc = rs.documents.get(c["doc"], {})
    return {**c, "title": doc.get("title"), "number": doc.get("number"), "url": doc.get("url")}
