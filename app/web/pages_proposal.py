"""方案预审: the proposal form, the verdict page and its A4 print view.

The form's input names are the request's dotted paths (``measures.annual_tax.value``), so a
problem reported by the check functions lands next to the input it concerns."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.access import scope_writes
from app.access.auth import READ, RULE_READ, WRITE, require
from app.access.deps import EngineDep, SessionDep
from app.checks import indicator_catalog, proposal, proposal_normalise
from app.core import clock
from app.core.errors import InputError, NotFound, Problem
from app.engine import Engine
from app.schemas.proposal import ProposalRequest, proposal_problems
from app.store import decisions
from app.store import rulesets as ruleset_store
from app.web.auth import PageRoute
from app.web.common import field_errors, plain_key, render, zh_text
from indicators.catalog import Catalog, known_keys, known_labels, load_catalog
from indicators.units import CANONICAL, UNITS

router = APIRouter(route_class=PageRoute)

CLASSIFICATIONS = ("GB/T 4754-2017", "GB/T 4754-2002")
FLOOR_ROWS = 3
VERDICTS = {"pass": "通过", "fail": "不通过", "incomplete": "资料不全（缺少必填指标）",
            "manual_review": "需人工复核（无适用阈值）"}
STATUSES = {"pass": "符合", "fail": "不符合", "missing": "缺失", "not_required": "不要求",
            "not_covered": "无适用阈值", "waived": "已豁免"}
OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "between": "介于", "in": "属于", "is_true": "须为“是”"}


def units_of(kind: str) -> list[str]:
    """The canonical spellings of a kind's units, the kind's canonical unit first."""
    symbols = list(dict.fromkeys(u.symbol for u in UNITS.values() if u.kind == kind))
    canonical = CANONICAL.get(kind, "")
    return sorted(symbols, key=lambda s: s != canonical)


@dataclass(frozen=True)
class QtyField:
    name: str            # request path of the quantity; inputs are <name>.value and <name>.unit
    label: str
    units: tuple[str, ...]
    hint: str | None = None

    @property
    def id(self) -> str:
        return self.name.replace(".", "-")


@dataclass(frozen=True)
class FlagField:
    name: str            # request path of the flag; the checkbox is <name>.value
    label: str
    hint: str | None = None

    @property
    def id(self) -> str:
        return self.name.replace(".", "-")


# Catalog labels that name an API field the form does not have (``floors``), as the form shows them.
LABELS = {"total_floor_area": "总建筑面积（未按层高折算；层高超过 8 米的楼层须按层高折算，请通过接口或 Excel 分层填报）"}


def _base_first(items: dict) -> list:
    """A catalog's declarations with the base document's first (in its order), then the additions'."""
    base = load_catalog()
    return sorted(items.items(), key=lambda kv: kv[0] not in base.measures and kv[0] not in base.indicators)


def _form_spec(cat: Catalog) -> dict[str, Any]:
    """The form's fields for one catalog (the union in force on the proposal date): every measure and
    indicator with its Chinese label and its kind's units, catalog additions included."""
    measures = [QtyField(f"measures.{mid}", LABELS.get(mid, m.label), tuple(units_of(m.kind)))
                for mid, m in _base_first(cat.measures)]
    quantities, flags = [], []
    for iid, ind in _base_first(cat.indicators):
        hint = f"可不填，由上方数据计算：{ind.note}" if ind.note else None
        if ind.is_boolean:
            flags.append(FlagField(f"indicators.{iid}", ind.label, "不勾选视为未提供" + (f"；{ind.note}" if ind.note else "")))
        else:
            quantities.append(QtyField(f"indicators.{iid}", ind.label, tuple(units_of(ind.kind)) if ind.unit else (), hint))
    land = QtyField("land_area", cat.land_area.label, tuple(units_of("area")))
    spec: dict[str, Any] = {"land": land, "measures": measures, "indicators": quantities, "flags": flags,
                            "floor_area_units": tuple(units_of("area"))}
    spec["fields"] = field_names(spec)
    return spec


# Specs by catalog: the union in force is one object per set of documents (app.checks.indicator_catalog
# caches it), so a spec is built once per catalog.  Keyed by id() with the catalog kept alive beside it.
_SPECS: dict[int, tuple[Catalog, dict[str, Any]]] = {}


def form_spec(cat: Catalog) -> dict[str, Any]:
    hit = _SPECS.get(id(cat))
    if hit is not None and hit[0] is cat:
        return hit[1]
    spec = _form_spec(cat)
    if len(_SPECS) > 64:
        _SPECS.clear()
    _SPECS[id(cat)] = (cat, spec)
    return spec


def catalog_on(session: Session, as_of: str | None) -> Catalog:
    """The catalog in force on the form's proposal date (today when it is empty or not a date: the
    date's own error is shown next to its field)."""
    try:
        on = dt.date.fromisoformat(as_of or "")
    except ValueError:
        on = clock.today()
    try:
        return indicator_catalog.in_force(session, on)[0]
    except InputError:           # documents in force that cannot be joined: the base alone
        return load_catalog()


def field_names(spec: dict[str, Any]) -> set[str]:
    names = {"as_of", "jurisdiction", "ruleset", "reference", "industry", "industry.code",
             "industry.classification", "measures.admitted_industries", "measures.floors"}
    for q in [spec["land"], *spec["measures"], *spec["indicators"]]:
        names |= {f"{q.name}.value", f"{q.name}.unit"}
    names |= {f"{f.name}.value" for f in spec["flags"]}
    for i in range(FLOOR_ROWS):
        names |= {f"measures.floors.{i}.area.value", f"measures.floors.{i}.area.unit",
                  f"measures.floors.{i}.height.value", f"measures.floors.{i}.count"}
    return names


SPEC = form_spec(load_catalog())      # the base catalog's form (what code without a date uses)
_POSTED = re.compile(r"^(measures|indicators)\.([a-z][a-z0-9_]{0,47})\.value$")


def raw_request(form: Any, spec: dict[str, Any] | None = None) -> dict:
    """The JSON request the API would receive, from the form's fields (empty ones left out).

    ``spec``: the form of the catalog in force on the posted date.  A field of another catalog
    document (the page was shown for another date) is sent too, so the check refuses it at its path
    rather than dropping what the officer typed."""
    spec = spec or SPEC

    def get(name: str) -> str:
        v = form.get(name)
        return v.strip() if isinstance(v, str) else ""

    raw: dict[str, Any] = {}
    for key in ("as_of", "jurisdiction", "ruleset", "reference"):
        if get(key):
            raw[key] = get(key)
    if get("industry.code"):
        raw["industry"] = {"code": get("industry.code"),
                           "classification": get("industry.classification") or CLASSIFICATIONS[0]}

    def qty(f: QtyField) -> dict | None:
        value = get(f"{f.name}.value")
        if not value:
            return None
        return {"value": value, "unit": get(f"{f.name}.unit") or None} if f.units else {"value": value}

    if (land := qty(spec["land"])) is not None:
        raw["land_area"] = land
    measures = {f.name.split(".", 1)[1]: q for f in spec["measures"] if (q := qty(f)) is not None}
    floors = []
    for i in range(FLOOR_ROWS):
        p = f"measures.floors.{i}"
        if get(f"{p}.area.value") or get(f"{p}.height.value"):
            floors.append({"area": {"value": get(f"{p}.area.value"), "unit": get(f"{p}.area.unit") or None},
                           "height": {"value": get(f"{p}.height.value"), "unit": "m"},
                           "count": get(f"{p}.count") or "1"})
    if floors:
        measures["floors"] = floors
    admitted = [c for c in get("measures.admitted_industries").replace("，", ",").replace("、", ",").split(",") if c.strip()]
    if admitted:
        measures["admitted_industries"] = [c.strip() for c in admitted]
    indicators = {f.name.split(".", 1)[1]: q for f in spec["indicators"] if (q := qty(f)) is not None}
    for f in spec["flags"]:
        if get(f"{f.name}.value"):
            indicators[f.name.split(".", 1)[1]] = {"value": True}
    known_m, known_i = known_keys()
    for name in list(form.keys()):
        m = _POSTED.match(name)
        group = m and (measures if m.group(1) == "measures" else indicators)
        if not m or name in spec["fields"] or m.group(2) not in (known_m if m.group(1) == "measures" else known_i):
            continue
        if value := get(name):
            unit = get(f"{m.group(1)}.{m.group(2)}.unit")
            group.setdefault(m.group(2), {"value": value, **({"unit": unit} if unit else {})})  # type: ignore[union-attr]
    if measures:
        raw["measures"] = measures
    if indicators:
        raw["indicators"] = indicators
    return raw


def check(session: Session, engine: Engine, raw: dict, cat: Catalog | None = None) -> tuple[dict | None, list[Problem]]:
    """The same validation and check as ``POST /v1/checks/proposal``: (stored decision, [])
    or (None, every problem).  ``cat``: the catalog in force on the posted date, so that a request
    with format errors also gets the value errors of its catalog-addition fields in the same answer."""
    try:
        req = ProposalRequest.model_validate(raw)
    except ValidationError:
        return None, proposal_problems(raw, ProposalRequest, functools.partial(proposal_normalise.normalise, catalog=cat))
    try:
        return proposal.run(session, req, engine), []
    except InputError as e:
        return None, e.problems


def resolution(session: Session, values: dict) -> dict:
    """The layered rule set for the form's jurisdiction, industry and date, or why there is none."""
    try:
        as_of = dt.date.fromisoformat(values.get("as_of", ""))
    except ValueError:
        return {"error": "请先填写有效的预审日期（YYYY-MM-DD）"}
    jurisdiction = values.get("jurisdiction", "")
    rid = values.get("ruleset") or None
    if not rid and not (len(jurisdiction) == 6 and (jurisdiction.isascii() and jurisdiction.isdigit())):
        return {"error": "请先填写 6 位行政区划代码"}
    code = values.get("industry.code", "")
    industry = {"code": code, "classification": values.get("industry.classification") or CLASSIFICATIONS[0]} if code else None
    try:
        res = ruleset_store.registry(session).resolve(ruleset=rid, jurisdiction=jurisdiction or None, as_of=as_of,
                                                      known_at=clock.utcnow(), industry=industry)
    except InputError as e:
        return {"error": "；".join(p.msg for p in e.problems)}
    return {"ruleset": res.ref(), "rule_count": len(res.rules)}


def _form_values(form: Any, spec: dict[str, Any]) -> dict[str, str]:
    return {k: v.strip() for k, v in form.items() if isinstance(v, str) and k in spec["fields"]}


def _form_page(request: Request, spec: dict[str, Any], values: dict, errors: dict | None = None,
               summary: list | None = None, resolved: dict | None = None, status_code: int = 200) -> HTMLResponse:
    return render(request, "proposal_form.html", {
        "section": "proposal", "spec": spec, "values": values, "errors": errors or {}, "summary": summary or [],
        "resolved": resolved, "classifications": CLASSIFICATIONS, "floor_rows": range(FLOOR_ROWS),
        "today": clock.today().isoformat()}, status_code=status_code)


@router.get("/proposal", response_class=HTMLResponse)
def proposal_form(request: Request, session: SessionDep, _caller=Depends(require(*RULE_READ))) -> HTMLResponse:
    """The empty form; with ``jurisdiction``/``as_of``… in the query (the 查询适用规则集 button
    without JavaScript) it is pre-filled and shows the resolved rule set (GET /v1/rulesets/resolve:
    RULE_READ).  The fields are those of the indicator catalog in force on ``as_of`` (default today)."""
    spec = form_spec(catalog_on(session, request.query_params.get("as_of")))
    values = _form_values(request.query_params, spec)
    resolved = resolution(session, values) if values.get("as_of") or values.get("jurisdiction") else None
    return _form_page(request, spec, values, resolved=resolved)


@router.post("/proposal", response_class=HTMLResponse)
async def proposal_submit(request: Request, session: SessionDep, engine: EngineDep,
                          _caller=Depends(require(*WRITE))) -> Response:
    form = await request.form()
    as_of = form.get("as_of")
    cat = await run_in_threadpool(catalog_on, session, as_of if isinstance(as_of, str) else None)
    spec = form_spec(cat)
    values = _form_values(form, spec)
    raw = raw_request(form, spec)
    scope_writes.proposal(_caller, raw.get("jurisdiction"))     # as POST /v1/checks/proposal: 403 outside
    decision, problems = await run_in_threadpool(check, session, engine, raw, cat)
    if decision is not None:
        return RedirectResponse(f"/proposal/result/{decision['decision_id']}", status_code=303)
    errors, summary = field_errors(problems, spec["fields"])
    summary = [{"path": _path_label(x["path"]), "msg": zh_text(x["msg"])} for x in summary]
    resolved = await run_in_threadpool(resolution, session, values)
    return _form_page(request, spec, values, errors, summary, resolved, status_code=422)


def _path_label(path: str) -> str:
    """A problem's field path as the officer knows the field: ``measures.average_employees`` →
    年平均职工人数 (a field of a catalog document not in force on the date has no input on the page,
    so its problem is listed above the form)."""
    parts = path.split(".")
    if len(parts) >= 2 and parts[0] in ("measures", "indicators") and (label := known_labels().get(parts[1])):
        return label
    return zh_text(path)


def _decision(session: Session, decision_id: str) -> dict | None:
    if not plain_key(decision_id):
        return None
    try:
        d = decisions.get(session, decision_id)
    except NotFound:
        return None
    return d if d.get("kind") == "proposal" else None


def _result_context(d: dict) -> dict:
    req = d.get("request", {})
    return {"section": "proposal", "d": d, "req": req, "verdict_text": VERDICTS.get(d["verdict"], d["verdict"]),
            "statuses": STATUSES, "ops": OPS, "layers": {layer["id"]: layer for layer in d["ruleset"].get("layers", [])}}


def _not_found(request: Request, decision_id: str) -> HTMLResponse:
    return render(request, "error.html", {"title": "未找到预审结论",
                                          "detail": f"没有编号为 {decision_id} 的方案预审结论。"}, status_code=404)


@router.get("/proposal/result/{decision_id}", response_class=HTMLResponse)
def proposal_result(request: Request, decision_id: str, session: SessionDep,
                    _caller=Depends(require(*READ))) -> HTMLResponse:
    """A stored verdict: what GET /v1/decisions/{id} shows (READ)."""
    d = _decision(session, decision_id)
    if d is None:
        return _not_found(request, decision_id)
    return render(request, "proposal_result.html", _result_context(d))


@router.get("/proposal/result/{decision_id}/print", response_class=HTMLResponse)
def proposal_print(request: Request, decision_id: str, session: SessionDep,
                   _caller=Depends(require(*READ))) -> HTMLResponse:
    d = _decision(session, decision_id)
    if d is None:
        return _not_found(request, decision_id)
    return render(request, "proposal_print.html", _result_context(d))
