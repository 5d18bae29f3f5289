"""亩均效益 scoring: a stored run (every enterprise with its sub-scores, rank and class), its flat
table, the scoring rule sets."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.schemas.responses.common import Cite, InOrder, LawPin, Out


class ScoringCite(InOrder, Cite):
    """A citation as the run stored it (sorted keys) or the rule set describes it."""


class SubScore(Out):
    benchmark: str
    note: str | None
    status: str
    sub_score: str | None
    value: str | None
    weight: str


class ScoredEnterprise(Out):
    """One enterprise: its rank among the scored, its class, every indicator's sub-score."""
    class_: str | None = Field(alias="class")
    class_label: str | None
    complete: bool
    id: str
    incomplete_because: list[str]
    index: int
    missing: list[str]
    name: str | None
    percentile: str | None
    rank: int | None
    rank_of: int | None
    score: str | None
    sub_scores: dict[str, SubScore] = Field(description="indicator key → its sub-score")
    weight_used: str


class Band(InOrder, Out):
    class_: str = Field(alias="class")
    from_pct: str
    label: str
    to_pct: str


class Classes(InOrder, Out):
    bands: list[Band]
    basis: str
    cite: ScoringCite | None
    inclusive: bool


class ScoringIndicator(InOrder, Out):
    benchmark: str
    cap: str | None
    cite: ScoringCite | None
    key: str
    label: str
    missing_policy: str
    unit: str
    weight: str
    average_over: int | None = None
    average_sub_score: str | None = None


class Population(InOrder, Out):
    cite: ScoringCite | None
    key: str
    label: str


class Precision(InOrder, Out):
    mode: str
    places: int | None = None


class Ranking(InOrder, Out):
    order: str
    precision: Precision
    ties: str


class ScoringRuleSetUsed(Out):
    """The scoring rule set the run used, as stored with it."""
    classes: Classes
    digest: str
    effective_from: str | None = None
    effective_to: str | None = None
    formula: str | None = None
    id: str
    indicators: list[ScoringIndicator]
    jurisdiction: str | None
    population: Population
    ranking: Ranking
    status: str
    title: str
    version: str


class RunCounts(Out):
    enterprises: int
    incomplete: int
    scored: int


class EngineRef(Out):
    name: str
    version: str


class Scope(Out):
    """What a key with a jurisdiction was shown of the run."""
    jurisdiction: str | None
    hidden: int
    note: str


class ScoringRun(Out):
    """POST /v1/scoring/runs, GET /v1/scoring/runs/{id}: the stored run."""
    decision_id: str
    class_counts: dict[str, int]
    counts: RunCounts
    created_at: str
    engine: EngineRef
    kind: Literal["scoring"]
    law: list[LawPin] | None = None
    notes: list[str]
    request_digest: str
    results: list[ScoredEnterprise]
    ruleset: ScoringRuleSetUsed
    run_id: str
    verdict: str
    year: int
    scope: Scope | None = None


class TableRuleSet(Out):
    id: str
    version: str
    digest: str
    status: str


class TableIndicator(Out):
    key: str
    label: str
    unit: str
    weight: str
    benchmark: str


class ScoringTable(Out):
    """GET /v1/scoring/runs/{id}/table: one row per enterprise in rank order."""
    run_id: str
    year: int
    ruleset: TableRuleSet
    indicators: list[TableIndicator]
    columns: list[str]
    rows: list[list[str | int | bool | None]]
    scope: Scope | None = None


class ScoringRuleSetSummary(Out):
    id: str
    version: str
    digest: str
    status: str
    title: str
    jurisdiction: str | None
    effective_from: str | None = None
    effective_to: str | None = None


class ScoringRuleSets(Out):
    """GET /v1/scoring/rulesets: the bundled scoring rule sets and the files that do not load."""
    rulesets: list[ScoringRuleSetSummary]
    invalid_files: dict[str, Any] = Field(description="file → why it does not load")


class DocumentRef(InOrder, Out):
    title: str
    number: str | None
    url: str | None


class ScoringRuleSet(InOrder, Out):
    """GET /v1/scoring/rulesets/{id}."""
    id: str
    version: str
    digest: str
    status: str
    title: str
    jurisdiction: str | None
    effective_from: str | None = None
    effective_to: str | None = None
    formula: str | None = None
    population: Population
    indicators: list[ScoringIndicator]
    ranking: Ranking
    classes: Classes
    documents: dict[str, DocumentRef]
    notes: str | list[str] | None
