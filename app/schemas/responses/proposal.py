"""Proposal checks and the decision log: verdicts, findings, batches, replays, the chain check
(docs/verdicts.md: the verdict shape is a contract; fields may be added)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.schemas.responses.common import Cite, DecisionFields, Industry, LawPin, Open, Out, RuleSetRef


class Finding(Out):
    """One rule of the resolved rule set, compared with the proposal."""
    rule: str
    indicator: str
    label: str
    role: Literal["core", "n", "plus_one"]
    required: bool
    unit: str | None
    op: str
    threshold: str | list[str] | bool | None
    layer: str
    layer_version: str
    cite: Cite
    example: bool
    status: Literal["pass", "fail", "missing", "not_required", "not_covered", "waived"]
    actual: str | bool | None
    source: Literal["given", "derived"] | None
    margin: str | None
    message: str
    supersedes: list[str] | None = Field(None, description="'layer:rule' of the parent rules this one replaces")
    relaxation: str | None = Field(None, description="why this layer relaxes a parent's figure (allowed by law)")
    industry_key: str | None = Field(None, description="the industry row of the rule's table that applied")


class ProposalBody(Out):
    kind: Literal["proposal"]
    request: dict[str, Any] = Field(description="the request as checked (the ProposalRequest schema), stored with the decision")
    verdict: Literal["pass", "fail", "incomplete", "manual_review"]
    ruleset: RuleSetRef
    as_of: str
    known_at: str
    industry: Industry | None = None
    findings: list[Finding]
    warnings: list[str]
    engine: str
    engine_version: str
    pinned: list[str] = Field(description="digests of every rule-set layer the check used")
    law: list[LawPin] = Field(description="the indicator-catalog documents the check used")


class ProposalVerdict(DecisionFields, ProposalBody):
    """POST /v1/checks/proposal: the stored decision."""


class BatchItem(ProposalVerdict):
    """A batch's verdict: the request is stored with the decision, not echoed."""
    request: dict[str, Any] | None = None     # type: ignore[assignment]


class BatchResult(Out):
    count: int
    items: list[BatchItem]
    batch_id: str | None = Field(None, description="echoed when the request named one")
    replayed: bool | None = Field(None, description="true: these decisions were stored by an earlier request with this id")


class Decision(Open):
    """GET /v1/decisions/{id}: a stored decision of any kind (proposal, contract, performance,
    park_evaluation, scoring …), exactly as stored.  Open: a stored decision keeps the shape of
    the version that wrote it, and decision kinds gain fields; the fields below are in every one.
    A current decision has the shape of its POST/GET answer (ProposalVerdict, ContractCheck,
    Performance, ParkEvaluation, ScoringDecision)."""
    kind: str
    decision_id: str
    seq: int
    created_at: str
    prev_hash: str
    hash: str
    engine: str
    engine_version: str | None = None


class Replay(Open):
    """POST /v1/decisions/{id}/replay.  Open: what is compared again depends on the decision kind
    (a proposal: its verdict and findings)."""
    decision_id: str
    identical: bool
    differences: list[dict[str, Any]]
    engine: str


class BrokenLink(Out):
    """The first broken link of the chain and what is wrong with it."""
    seq: int
    decision_id: str | None
    problem: str


class ChainReport(Out):
    """GET /v1/decisions/verify."""
    ok: bool
    checked: int
    head: str | None = None
    first_broken: BrokenLink | None = None
