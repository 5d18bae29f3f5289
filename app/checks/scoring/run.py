"""A run: evaluate a request into the run document, store it with its decision, read it back
(whole, or as one flat table).

A run is stored as one ``scoring_run`` row (its document: the request, normalised, and every
result) and one decision (kind ``scoring``, verdict ``complete`` or ``incomplete``) whose
``document_digest`` is the SHA-256 of the stored document, in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from app.core import clock
from app.core.errors import NotFound
from app.core.numbers import dec_str
from app.engine import Engine
from app.store import decisions
from app.store.models import ScoringRun

from .arithmetic import Result, classify, rank, score_all
from .arithmetic import dec as _dec
from .request import Request
from .ruleset import ScoringRuleSet


def evaluate(req: Request, engine: Engine) -> dict:
    """Score, rank and classify; the run document (no ids, no storage)."""
    rs = req.ruleset
    results, avg = score_all(rs, req.enterprises)
    n = rank(rs, results)
    classes = classify(rs, (r.percentile for r in results if r.percentile is not None), engine)
    for r in results:
        if r.percentile is not None:
            r.cls = classes[r.percentile]
    order = sorted(results, key=lambda r: (r.rank is None, r.rank or 0, r.ent.index))
    labels = {b.cls: b.label for b in rs.bands}
    fixed = {i.key: (_dec(i.benchmark), _dec(i.weight)) for i in rs.indicators}
    counts = {b.cls: 0 for b in rs.bands}
    for r in results:
        if r.cls is not None:
            counts[r.cls] += 1
    incomplete = len(results) - n
    desc = rs.describe()
    for item in desc["indicators"]:
        if item["key"] in avg:
            a, k = avg[item["key"]]
            item["average_sub_score"], item["average_over"] = dec_str(a), k
    notes = []
    if rs.status == "example":
        notes.append(f"评价规则集 {rs.id} {rs.version} 为示例数据（status: example），未经官方核实，不能作为正式评价依据。")
    if incomplete:
        notes.append(f"{incomplete} 家企业数据不全，未计分、未排名；排名百分比按已计分的 {n} 家计算。")
    return {
        "kind": "scoring",
        "verdict": "complete" if incomplete == 0 else "incomplete",
        "year": req.year,
        "ruleset": desc,
        "request_digest": req.digest(),
        "counts": {"enterprises": len(results), "scored": n, "incomplete": incomplete},
        "class_counts": counts,
        "results": [_result_dict(r, rs, fixed, labels, n) for r in order],
        "notes": notes,
        "engine": {"name": engine.name, "version": engine.version},
        **({"law": [req.law]} if req.law else {}),
    }


def _result_dict(r: Result, rs: ScoringRuleSet, fixed: Mapping[str, tuple[str, str]], labels: Mapping[str, str | None],
                 n: int) -> dict:
    subs = {}
    texts = r.ent.texts
    for ind in rs.indicators:
        s = r.subs[ind.key]
        bench, weight = fixed[ind.key]
        subs[ind.key] = {"value": texts[ind.key], "benchmark": bench, "weight": weight, "sub_score": _dec(s.sub),
                         "status": s.status, "note": s.note}
        if ind.key in r.ent.exact:
            subs[ind.key]["value_exact"] = r.ent.exact[ind.key]
    out = {"index": r.ent.index, "id": r.ent.id, "name": r.ent.name, "complete": r.score is not None,
           "score": _dec(r.score) if rs.places is None else dec_str(r.score, rs.places), "weight_used": _dec(r.weight_used),
           "rank": r.rank, "rank_of": n if r.rank is not None else None, "percentile": _dec(r.percentile),
           "class": r.cls, "class_label": labels.get(r.cls) if r.cls else None,
           "missing": r.missing, "incomplete_because": r.incomplete_because, "sub_scores": subs}
    if rs.places is not None:
        out["score_unrounded"] = _dec(r.exact)
    return out


# ---------------------------------------------------------------- storage

def run(session: Session, req: Request, engine: Engine) -> str:
    """Evaluate and store: the ``scoring_run`` row and its decision, in one transaction.
    Returns the stored document as JSON text, with ``decision_id``."""
    doc = evaluate(req, engine)
    run_id = str(uuid.uuid4())
    created = clock.utcnow()
    doc = {"run_id": run_id, "created_at": created.isoformat(timespec="microseconds"), **doc}
    text = decisions.canonical(doc)
    record = {"kind": "scoring", "verdict": doc["verdict"], "run_id": run_id, "year": req.year,
              "ruleset": req.ruleset.summary(), "example": req.ruleset.status == "example",
              "counts": doc["counts"], "class_counts": doc["class_counts"], "request_digest": doc["request_digest"],
              "document_digest": hashlib.sha256(text.encode("utf-8")).hexdigest(),
              "engine": engine.name, "engine_version": engine.version, **({"law": doc["law"]} if "law" in doc else {})}
    row = {"id": run_id, "ruleset_id": req.ruleset.id, "ruleset_digest": req.ruleset.digest, "year": req.year,
           "created_at": created, "document": text}

    def add_run(conn: Any, stored: list[dict]) -> None:
        # In the decision's own transaction: the run and its decision are stored together.
        conn.execute(insert(ScoringRun.__table__).values(**row, decision_id=stored[0]["decision_id"]))

    stored = decisions.append(session, [record], also=add_run)[0]
    return _with_decision(text, stored["decision_id"])


def _with_decision(text: str, decision_id: str | None) -> str:
    return '{"decision_id":' + json.dumps(decision_id) + "," + text[1:]


def get_run(session: Session, run_id: str) -> str:
    row = session.get(ScoringRun, run_id)
    if row is None:
        raise NotFound(f"scoring run {run_id} not found")
    return _with_decision(row.document, row.decision_id)


def table(doc: dict) -> dict:
    """A run as one flat table (for spreadsheets): ``columns`` and ``rows``, one row per
    enterprise in rank order, every sub-score in its own columns; numbers as decimal text."""
    keys = [i["key"] for i in doc["ruleset"]["indicators"]]
    columns = ["rank", "percentile", "class", "class_label", "id", "name", "score", "complete", "missing", "weight_used"]
    for k in keys:
        columns += [f"{k}.value", f"{k}.sub_score", f"{k}.status"]
    rows = []
    for r in doc["results"]:
        row = [r["rank"], r["percentile"], r["class"], r["class_label"], r["id"], r["name"], r["score"], r["complete"],
               ",".join(r["missing"]), r["weight_used"]]
        for k in keys:
            s = r["sub_scores"][k]
            row += [s["value"], s["sub_score"], s["status"]]
        rows.append(row)
    return {"run_id": doc.get("run_id"), "year": doc.get("year"),
            "ruleset": {k: doc["ruleset"][k] for k in ("id", "version", "digest", "status")},
            "indicators": [{k: i[k] for k in ("key", "label", "unit", "weight", "benchmark")}
                           for i in doc["ruleset"]["indicators"]],
            "columns": columns, "rows": rows}
