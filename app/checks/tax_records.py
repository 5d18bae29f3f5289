"""Use case: a batch of tax records posted by the tax system (``POST /v1/tax-records``, its .xlsx
form, the demo loader).  Validation is ``app.schemas.tax.parse_batch``; storage, idempotent on
``batch_id``, is ``app.store.tax.ingest``; here what a key may post."""

from __future__ import annotations

from sqlmodel import Session

from app.checks.visibility import TaxView
from app.core.errors import Problem
from app.core.gc import gc_paused
from app.schemas.tax import default_region, parse_batch
from app.store import tax


def outside(batch: dict, view: TaxView) -> list[Problem]:
    """The records a tax_system key with a jurisdiction may not post (region outside it), each
    named by its path; the whole batch is refused for any."""
    if view.unlimited:
        return []
    out = []
    for i, r in enumerate(batch["records"]):
        region = r.get("tax_region") or default_region(r["uscc"])
        if not view.sees(region):
            what = (f"主管税务机关行政区划 {region}" if r.get("tax_region") else
                    f"未填 tax_region，按统一社会信用代码默认为 {region}" if region else
                    "未填 tax_region，统一社会信用代码中无行政区划码")
            out.append(Problem(f"records.{i}.tax_region",
                               f"{what}：不在本密钥辖区 {view.jurisdiction} 内，不能报送 "
                               f"(outside this key's jurisdiction {view.jurisdiction}; nothing was stored)"))
    return out


def post(session: Session, batch: dict) -> tuple[dict, bool]:
    """Store a validated batch (``parse_batch``'s answer): (its summary, created).  The same batch
    again returns the stored summary; other content under its id is a Conflict."""
    return tax.ingest(session, batch)


def post_json(session: Session, body: bytes) -> tuple[dict, bool]:
    """Validate and store a batch given as JSON bytes, with garbage collection paused (a large
    batch is ~10⁶ acyclic objects)."""
    with gc_paused():
        return post(session, parse_batch(body))
