"""The audit of one contract on a date: the parts (dates, completion, 亩均税收, idle land) collect
their comparisons, the engine evaluates them once, the parts build their findings, and the
verdict and totals are read from them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlmodel import Session

from app.checks import law
from app.checks import tax_per_mu as tpm
from app.checks.contract import resolve_idle_law, resolve_model
from app.checks.performance.completion import completion_parts
from app.checks.performance.dates import late_completion, late_delivery, late_payment, late_start
from app.checks.performance.findings import ZERO, Audit
from app.checks.performance.tax import tax_years
from app.checks.visibility import WITHHELD, WITHHELD_STATUS, WITHHELD_ZH, TaxView, is_withheld, lookup, screen
from app.core import clock
from app.core.numbers import dec_str
from app.engine import Engine
from app.lifecycle import idle, penalties
from app.lifecycle.law import ContractModel, IdleLandLaw, contract_models, idle_land_law
from app.lifecycle.state import fold
from app.lifecycle.terms import ContractTerms, terms_of
from app.rulesets.resolve import Registry
from app.schemas.contract import ContractRequest
from app.store import contracts, decisions, rulesets, tax
from app.store.parks import park_of_parcel

_BUNDLED = object()


def evaluate(session: Session, contract_no: str, as_of: dt.date, engine: Engine,
             known_at: dt.datetime | None = None, *, view: TaxView) -> dict:
    """Load the contract, its events and the enterprise's tax records (screened by ``view``:
    the caller's), resolve the contract model (in force on the signing date) and 53号令 (in force
    on ``as_of``), then audit.  The decision pins both documents and records the tax figures and
    land it used (``inputs``), so that ``replay`` recomputes it from what it saw."""
    known_at = known_at or clock.utcnow()
    _, document = contracts.get(session, contract_no)
    c = ContractTerms.from_request(ContractRequest.model_validate(document))
    uscc = tax.normalise_uscc(c.uscc)
    records = screen({uscc: tax.current_records(session, uscc)}, view)[uscc]
    model_doc = resolve_model(session, c.model, c.signed_on)
    law_doc = resolve_idle_law(session, as_of)
    park = park_of_parcel(session, c.parcel_code)
    land = tpm.enterprise_land(session, [uscc]).get(uscc, [])
    result = audit(c, contracts.events(session, contract_no), as_of, engine,
                   tax_records=records, registry=rulesets.registry(session), known_at=known_at, park=park, land=land,
                   model=model_doc.value if model_doc else None, law=law_doc.value)
    pins = ([law.pin(model_doc)] if model_doc else []) + [law.pin(law_doc)]
    years = sorted({f["year"] for f in result["findings"] if f["kind"] == "tax_per_mu" and f.get("year")})
    return {**result, "law": pins, "inputs": recorded_inputs({y: lookup(records, y) for y in years}, land, park)}


def recorded_inputs(records: dict[int, Any], land: list[tpm.Holding], park: str | None) -> dict:
    """What the audit read besides the contract and its events, as the decision keeps it: the tax
    figures of the reviewed years as the caller saw them (a withheld year stays withheld; other
    years are not kept, so the decision tells nothing more than its findings) and the land."""
    return {"tax_records": {str(y): "withheld" if is_withheld(r) else
                            {"tax_paid": str(r["tax_paid"]), "policy_refunds": None if r["policy_refunds"] is None
                             else str(r["policy_refunds"]), "batch_id": r["batch_id"], "region": r.get("region")}
                            for y, r in sorted(records.items()) if r is not None},
            "land": [{"contract_no": h.contract_no, "parcel": h.parcel, "area": str(h.area),
                      "supplied_on": h.supplied_on.isoformat() if h.supplied_on else None} for h in land],
            "park": park}


def read_inputs(inputs: dict) -> tuple[dict[int, Any], list[tpm.Holding], str | None]:
    """``recorded_inputs`` read back (for replay)."""
    records = {int(y): WITHHELD if r == "withheld" else
               {"tax_paid": Decimal(r["tax_paid"]), "batch_id": r["batch_id"], "region": r["region"],
                "policy_refunds": None if r["policy_refunds"] is None else Decimal(r["policy_refunds"])}
               for y, r in inputs["tax_records"].items()}
    land = [tpm.Holding(h["contract_no"], h["parcel"], Fraction(h["area"]),
                        dt.date.fromisoformat(h["supplied_on"]) if h["supplied_on"] else None) for h in inputs["land"]]
    return records, land, inputs["park"]


def replay(session: Session, stored: dict, engine: Engine) -> dict:
    """A stored performance decision recomputed: the registered contract, the events recorded by its
    ``known_at``, the tax figures and land it recorded, and the documents it pinned."""
    known_at = dt.datetime.fromisoformat(stored["known_at"])
    _, document = contracts.get(session, stored["contract_no"])
    events = [e for e in contracts.events(session, stored["contract_no"])
              if dt.datetime.fromisoformat(e["recorded_at"]) <= known_at]
    docs = {p["kind"]: law.by_digest(session, p["kind"], p["digest"]) for p in stored.get("law", [])}
    records, land, park = read_inputs(stored["inputs"])
    return audit(ContractRequest.model_validate(document), events, dt.date.fromisoformat(stored["as_of"]), engine,
                 tax_records=records, registry=rulesets.registry(session), known_at=known_at, park=park, land=land,
                 model=docs["contract_model"].value if "contract_model" in docs else None,
                 law=docs["idle_land"].value)


def audit(contract: ContractRequest | ContractTerms, stored_events: list[dict], as_of: dt.date, engine: Engine, *,
          tax_records: dict[int, dict], registry: Registry, known_at: dt.datetime, park: str | None = None,
          land: list[tpm.Holding] | None = None, model: ContractModel | None | object = _BUNDLED,
          law: IdleLandLaw | None = None) -> dict:
    """The audit itself, without the database: the same inputs give the same findings.
    ``tax_records`` as screened for the caller (``visibility.screen``); ``land`` the transferee's
    land its tax is allocated over (``tax_per_mu.enterprise_land``; none: this contract alone);
    ``model`` and ``law`` the contract model and the 53号令 document (default: the bundled ones)."""
    c = terms_of(contract)
    if model is _BUNDLED:
        model = contract_models().get(c.model)
    law = law or idle_land_law()
    st = fold(c, stored_events, as_of)
    price = c.price_wan
    a = Audit()
    builders: list = [late_delivery(st, a), *late_payment(st, a), late_start(st, model, law, a),  # type: ignore[arg-type]
                      late_completion(st, model, a)]  # type: ignore[arg-type]
    builders += completion_parts(st, a)
    regions: set[str | None] = set()
    builders += tax_years(tax_records, registry, st, a, known_at, park, regions, land)
    ins = idle.inputs(st, price, law)
    for key, value, op, threshold in idle.tests(st, ins, law):
        a.add(key, value, op, threshold)
    holds = a.run(engine)
    findings: list[dict] = []
    for b in builders:
        made = b(holds)
        findings += made if isinstance(made, list) else [made]
    findings.append(idle.finding(st, ins, holds, law))
    statuses = {f["status"] for f in findings}
    # A withheld year could be a failure: never "pass", and the total is only of what is shown.
    verdict = ("fail" if "fail" in statuses else "incomplete" if statuses & {"insufficient_data", WITHHELD_STATUS}
               else "pass")
    total = sum((Fraction(f["amount"]) for f in findings
                 if f.get("amount") and f["status"] == "fail" and f.get("party") != "transferor"), ZERO)
    withheld = [f.get("year") for f in findings if f["status"] == WITHHELD_STATUS]
    partial = {"amount_total_complete": False, "withheld_years": withheld,
               "amount_total_note": f"不含{WITHHELD_ZH}的 {len(withheld)} 个年度（亩均税收考核），合计不完整"} if withheld else {}
    return {**_reduction_note(findings, price),
        "kind": "performance", "verdict": verdict, "contract_no": c.contract_no, "as_of": as_of.isoformat(),
        "known_at": known_at.isoformat(), "findings": findings,
        "amount_total": dec_str(total, 2), "amount_label": penalties.AMOUNT_LABEL, **partial,
        "tax_regions": sorted(regions, key=lambda r: r or ""),
        "state": {"start_due": str(st.start_due), "complete_due": str(st.complete_due), "delivered_on": str(st.delivered_on),
                  "started_on": str(st.started_on), "completed_on": str(st.completion.on if st.completion else None)},
        "events_used": st.events_used, "engine": engine.name, "engine_version": engine.version,
    }


def _reduction_note(findings: list[dict], price: Fraction | None) -> dict:
    """The transferee's contractual penalties (违约金; not the idle fee, an administrative charge) above
    the land price: shown with the note that a court or arbitration body may reduce a penalty that
    is excessively higher than the loss on a party's request (民法典 Art. 585 ¶2).  The amounts stay
    the contractual ones: whether and how much to reduce is for the court."""
    penalties_total = sum((Fraction(f["amount"]) for f in findings if f.get("amount") and f["status"] == "fail"
                           and f.get("party") != "transferor" and f["kind"] != "idle_land"), ZERO)
    out: dict = {"penalty_total": dec_str(penalties_total, 2), "penalty_note": None}
    if price is not None and penalties_total > price:
        out["penalty_note"] = {
            "code": "exceeds_land_price", "penalty_total": dec_str(penalties_total, 2), "land_price": dec_str(price, 2),
            "cite": {"title": "中华人民共和国民法典", "article": "第五百八十五条第二款", "number": None, "url": None},
            "message": f"违约金合计 {dec_str(penalties_total, 2)} 万元超过出让价款 {dec_str(price, 2)} 万元。约定的违约金"
                       f"过分高于造成的损失的，人民法院或者仲裁机构可以根据当事人的请求予以适当减少（民法典第五百八十五条）；"
                       f"以上金额为合同约定金额，未作调整。"}
    return out


def run(session: Session, contract_no: str, as_of: dt.date, engine: Engine, *, view: TaxView) -> dict:
    """Audit as ``view`` may see it, and store the result as a decision."""
    result = evaluate(session, contract_no, as_of, engine, view=view)
    return decisions.append(session, [result])[0]
