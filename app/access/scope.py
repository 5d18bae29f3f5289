"""Tax confidentiality by jurisdiction (issue 6, item 1; issue 10, item 1).

Two rules, both needed:

- **the object**: a key with a jurisdiction (``keys create --jurisdiction 411200``) reads the
  tax-bearing views of parks, parcels and contracts whose division code falls under it (4112xx);
  one outside it is refused (403) rather than hidden: an empty answer would read as "no tax data";
- **the rows**: inside such a view, each tax row is shown only where the region of the tax
  authority that reported it is inside the key's scope (``app.checks.visibility``: the use-case
  functions take the caller's ``TaxView`` and withhold the others before any arithmetic).
  Linking a contract or parcel to an enterprise of another county never widens what a key sees.

A key without a jurisdiction, and open mode, see everything.  Stored decisions holding tax
record the regions of the figures they contain (``tax_regions``); reading one needs a key that
sees all of them.  Lists of many enterprises (scoring runs) are filtered to the enterprises
whose region (``app.store.tax.enterprise_regions``) is in scope, with a note saying how many were
left out, so that a county auditor can still see their enterprises' places in a city-wide run.
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from sqlmodel import Session, select

from app.access.auth import Caller, scope_prefix
from app.schemas.tax import default_region
from app.store import tax
from app.store.models import Contract, Decision, Parcel, Park

TAX_KINDS = ("performance", "park_evaluation", "scoring")


def enterprise_region(uscc: str | None) -> str | None:
    """The default region of a 统一社会信用代码 (characters 3–8; None if it has none)."""
    return default_region(uscc)


def _refuse(caller: Caller, what: str) -> HTTPException:
    return HTTPException(403, f"{what} is outside this key's jurisdiction {caller.jurisdiction} "
                              f"(code prefix {scope_prefix(caller.jurisdiction or '')}); tax data is confidential "
                              f"(税收数据仅限本辖区)")


def park(session: Session, caller: Caller, park_id: str) -> None:
    """403 for a park outside the scope; an unknown park is left to the endpoint (404)."""
    if caller.jurisdiction is None:
        return
    row = session.get(Park, park_id)
    if row is not None and not caller.sees_jurisdiction(row.jurisdiction):
        raise _refuse(caller, f"park {park_id}")


def parcel(session: Session, caller: Caller, code: str) -> None:
    if caller.jurisdiction is None:
        return
    row = session.get(Parcel, code.strip().upper())
    if row is not None:
        park(session, caller, row.park_id)


def contract(session: Session, caller: Caller, contract_no: str) -> None:
    if caller.jurisdiction is None:
        return
    row = session.get(Contract, contract_no)
    if row is not None and not caller.sees_jurisdiction(row.jurisdiction):
        raise _refuse(caller, f"contract {contract_no}")


def decision(session: Session, caller: Caller, decision_id: str) -> None:
    """Decisions that store tax records (a contract's performance, a park's yearly evaluation)
    follow their contract's or park's scope, and need a key that sees every region whose tax
    figures they contain (403 otherwise).  Proposal and contract checks hold the applicant's own
    planned figures and scoring decisions hold only counts and digests: readable by all."""
    if caller.jurisdiction is None:
        return
    row = session.exec(select(Decision).where(Decision.id == decision_id)).first()
    if row is None or row.kind not in TAX_KINDS:
        return
    payload = json.loads(row.payload)
    if row.kind == "performance":
        contract(session, caller, str(payload.get("contract_no")))
    elif row.kind == "park_evaluation":
        park(session, caller, str(payload.get("park")))
    hidden = sorted({str(r) for r in decision_tax_regions(session, row.kind, payload) if not caller.sees_jurisdiction(r)})
    if hidden:
        raise HTTPException(403, f"decision {decision_id} contains tax figures reported by regions outside this key's "
                                 f"jurisdiction {caller.jurisdiction} ({', '.join(hidden)}); tax data is confidential "
                                 f"(决定含不在本辖区权限内的税收数据)")


def decision_tax_regions(session: Session, kind: str, payload: dict) -> list[str | None]:
    """The regions whose tax figures a stored decision contains.  Decisions stored since tax
    rows carry a region say so (``tax_regions``); for older ones the regions are derived the
    way their rows were backfilled (the USCC's default), from every USCC the payload names and,
    for a performance audit, from its contract's transferee — an unknown one is None (readable
    only by keys without a jurisdiction)."""
    if kind not in TAX_KINDS:
        return []
    if isinstance(payload.get("tax_regions"), list):
        return list(payload["tax_regions"])
    if kind == "scoring":
        return []          # counts and digests only
    out: set[str | None] = {enterprise_region(u) for u in _usccs(payload)}
    if kind == "performance":
        row = session.get(Contract, str(payload.get("contract_no")))
        out.add(enterprise_region(row.transferee_uscc) if row is not None else None)
    return sorted(out, key=lambda r: r or "")


def _usccs(node: object) -> set[str]:
    if isinstance(node, dict):
        out = {v for k, v in node.items() if k in ("uscc", "transferee_uscc") and isinstance(v, str)}
        for v in node.values():
            out |= _usccs(v)
        return out
    if isinstance(node, list):
        return set().union(*(_usccs(v) for v in node)) if node else set()
    return set()


def sees_decision(session: Session, caller: Caller, kind: str, payload: dict) -> bool:
    """Whether the caller may see the tax figures of a stored decision (lists of decisions)."""
    return caller.jurisdiction is None or all(caller.sees_jurisdiction(r)
                                              for r in decision_tax_regions(session, kind, payload))


def scoring_run(session: Session, doc: dict, caller: Caller) -> dict:
    """A stored scoring run with only the enterprises in scope (ranks as in the whole run).  An
    enterprise's region is decided as its tax rows' (``app.store.tax.enterprise_regions``: the
    reporting authority of its row for the run's year, else its latest, else the USCC's default):
    its values are tax-derived, so they follow the rows."""
    if caller.jurisdiction is None:
        return doc
    results = doc.get("results", [])
    year = doc.get("year") if isinstance(doc.get("year"), int) else None
    regions = tax.enterprise_regions(session, [r.get("id") for r in results if isinstance(r.get("id"), str)], year)
    kept = [r for r in results if caller.sees_jurisdiction(regions.get(r.get("id")))]
    hidden = len(doc.get("results", [])) - len(kept)
    return {**doc, "results": kept,
            "scope": {"jurisdiction": caller.jurisdiction, "hidden": hidden,
                      "note": f"{hidden} 家辖区外（或无法识别统一社会信用代码）的企业未显示；排名为全体排名"}}


def scoring_replay(session: Session, answer: dict, caller: Caller) -> dict:
    """A scoring run's replay with only the differences of enterprises in scope (as
    ``scoring_run``): a difference shows the enterprise's stored and replayed figures."""
    if caller.jurisdiction is None or answer.get("kind") != "scoring":
        return answer
    ids = sorted({d["enterprise"] for d in answer["differences"] if isinstance(d.get("enterprise"), str)})
    year = answer.get("year") if isinstance(answer.get("year"), int) else None
    regions = tax.enterprise_regions(session, ids, year) if ids else {}
    kept = [d for d in answer["differences"]
            if "enterprise" not in d or caller.sees_jurisdiction(regions.get(d["enterprise"]))]
    hidden = len(answer["differences"]) - len(kept)
    return {**answer, "differences": kept,
            "scope": {"jurisdiction": caller.jurisdiction, "hidden_differences": hidden,
                      "note": f"{hidden} 处辖区外企业的差异未显示（identical 为全体结果）"}}
