"""Law documents (scoring and low-efficiency rule sets, contract models, 53号令 parameters):
a published version, the listing, one version with its document (docs/law-documents.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.schemas.responses.common import Out


class LawVersion(Out):
    """POST /v1/law/{kind} (201 new, 200 identical version already published)."""
    kind: str
    id: str
    version: str
    digest: str
    status: str
    title: str
    jurisdiction: str | None
    effective_from: str
    effective_to: str | None
    published_at: str
    source: str


class LawListed(LawVersion):
    """GET /v1/law: each version, with its kind's Chinese name."""
    kind_label: str
    in_force: bool | None = Field(description="with ``on``: true (only the versions in force are listed); else null")


class LawDocumentOut(LawVersion):
    """GET /v1/law/{kind}/{id}/{version}."""
    document: dict[str, Any] = Field(description="the document as published; its format per kind in docs/law-documents.md")
