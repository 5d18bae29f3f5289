"""Response models (docs/verdicts.md verdict shape is a contract; fields may be added)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Cite(BaseModel):
    doc: str
    article: str | None = None
    title: str | None = None
    number: str | None = None
    url: str | None = None


class Finding(BaseModel):
    model_config = ConfigDict(extra="allow")
    rule: str
    indicator: str
    label: str
    role: Literal["core", "n", "plus_one"]
    required: bool
    status: Literal["pass", "fail", "missing", "not_required", "not_covered", "waived"]
    actual: str | bool | None
    source: Literal["given", "derived"] | None
    unit: str | None
    op: str
    threshold: str | list[str] | bool | None
    margin: str | None
    layer: str
    layer_version: str
    cite: Cite
    example: bool
    message: str


class LayerRef(BaseModel):
    id: str
    version: str
    digest: str
    status: str
    title: str
    jurisdiction: str


class RuleSetRef(BaseModel):
    id: str
    version: str
    digest: str
    status: str
    title: str
    example: bool
    layers: list[LayerRef]


class ProposalVerdict(BaseModel):
    model_config = ConfigDict(extra="allow")
    decision_id: str
    kind: str
    verdict: Literal["pass", "fail", "incomplete", "manual_review"]
    ruleset: RuleSetRef
    as_of: str
    known_at: str
    findings: list[Finding]
    warnings: list[str]
    engine: str
    engine_version: str
    pinned: list[str]
    created_at: str
    hash: str
    prev_hash: str
    seq: int
    request: dict[str, Any]


class BatchItem(ProposalVerdict):
    request: dict[str, Any] | None = None     # not echoed in batch results


class BatchResult(BaseModel):
    count: int
    items: list[BatchItem]
    batch_id: str | None = None       # echoed when the request named one
    replayed: bool | None = None      # true: these decisions were stored by an earlier request with this id


class Published(BaseModel):
    id: str
    version: str
    digest: str
    published_at: str
    status: str


class Replay(BaseModel):
    model_config = ConfigDict(extra="allow")
    decision_id: str
    identical: bool
    differences: list[dict[str, Any]]
    engine: str


class ChainReport(BaseModel):
    model_config = ConfigDict(extra="allow")
    ok: bool
    checked: int
