"""Standard-land rule sets: publish, list, read a version, diff two versions, resolve."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.schemas.responses.common import Cite, Industry, InOrder, Out, RuleSetRef


class Published(Out):
    """POST /v1/rulesets (201 new, 200 identical version already published)."""
    id: str
    version: str
    digest: str
    published_at: str
    status: str


class VersionSummary(Out):
    version: str
    digest: str
    status: str
    effective_from: str
    effective_to: str | None
    published_at: str
    source: str


class RuleSetSummary(Out):
    """GET /v1/rulesets (each rule set), GET /v1/rulesets/{id}."""
    id: str
    versions: list[VersionSummary]
    title: str
    jurisdiction: str
    parent: str | None
    status: str


class RuleSetVersion(VersionSummary):
    """GET /v1/rulesets/{id}/versions/{version}."""
    id: str
    document: dict[str, Any] = Field(description="the rule-set document as published (docs/law-documents.md)")


class ValueChange(Out):
    from_: Any = Field(alias="from")
    to: Any


class ChangedRule(Out):
    rule: str
    indicator: str
    changes: dict[str, ValueChange] = Field(description="field → its value in each version")


class RuleSetDiff(Out):
    """GET /v1/rulesets/{id}/diff?from=&to=."""
    id: str
    from_: str = Field(alias="from")
    to: str
    fields: dict[str, ValueChange] = Field(description="top-level field → its value in each version")
    added: list[dict[str, Any]] = Field(description="rules only in ``to``, as written there")
    removed: list[dict[str, Any]] = Field(description="rules only in ``from``, as written there")
    changed: list[ChangedRule]


class ResolvedRule(InOrder, Out):
    """An effective rule: the most specific layer's threshold, with where it comes from."""
    rule: str
    indicator: str
    label: str
    role: str
    op: str
    required: bool
    threshold: str | list[str] | bool | None
    unit: str | None
    status: str
    message: str | None
    layer: str
    layer_version: str
    cite: Cite
    supersedes: list[str]
    relaxation: str | None
    example: bool


class Resolved(Out):
    """GET /v1/rulesets/resolve."""
    ruleset: RuleSetRef
    as_of: str
    known_at: str
    industry: Industry | None
    rules: list[ResolvedRule]
