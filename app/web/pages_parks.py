"""园区 pages: the park list, the 一宗一策 ledger (filters, server-side paging), the yearly
evaluation with its charts and a data-table alternative, and 亩均效益 scoring runs.

The figures come from the functions behind the API: ``app.checks.parks.ledger`` /
``flat_ledger`` (``GET /v1/parks/{id}/ledger``), ``run_evaluation`` (``GET …/evaluation``, stored as
a decision), ``app.formats.tables.evaluation_rows`` (the rows of ``evaluation.xlsx``) and
``app.checks.scoring.parse_request`` / ``run`` (``POST /v1/scoring/runs``).  Filtering and paging
the ledger's rows is presentation and happens here; the charts are the API's SVG endpoints.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.access import auth, scope
from app.access.auth import Caller, require
from app.access.deps import EngineDep, SessionDep
from app.checks import scoring
from app.checks.parks.common import CATEGORIES
from app.checks.parks.evaluation import run_evaluation
from app.checks.parks.ledger import flat_ledger
from app.checks.parks.ledger import ledger as park_ledger
from app.checks.parks.registry import park_view
from app.checks.scoring import published
from app.checks.visibility import WITHHELD_ZH, TaxView
from app.core import clock
from app.core.errors import InputError, NotFound, Problem
from app.core.gc import gc_paused
from app.formats.tables import VERDICTS, evaluation_rows
from app.store import parks as parks_store
from app.web.auth import PageRoute
from app.web.common import field_errors, render

router = APIRouter(route_class=PageRoute)

# The API's capabilities (app.access.auth), as the API grants them: parks, ledgers, evaluations and scoring
# runs are READ (GET /v1/parks/…, /v1/scoring/runs/…); the scoring form lists the scoring rule sets
# (GET /v1/scoring/rulesets: RULE_READ); scoring a population is WRITE (POST /v1/scoring/runs).
READ = Depends(require(*auth.READ))
RULE_READ = Depends(require(*auth.RULE_READ))
WRITE = Depends(require(*auth.WRITE))
PAGE_SIZE = 50
SECTION = {"section": "parks"}
MIN_YEAR, MAX_YEAR = 1990, 2100

PLAN_STATUSES = {"missing": "未制定方案", "open": "处置中", "overdue": "已逾期", "completed": "已完成",
                 "no_current_category": "已不属问题类型"}
CATEGORY_OPTIONS = {k: label for k, (_code, label) in CATEGORIES.items()}
TARGET_STATUS = {"meets": "达到目标", "below": "低于目标", "no_target": "未设目标", "insufficient_data": "数据不足",
                 "withheld": WITHHELD_ZH}
DIRECTIONS = {"up": "上升", "down": "下降", "unchanged": "持平"}


def _not_found(request: Request, detail: str) -> HTMLResponse:
    return render(request, "error.html", {**SECTION, "title": "未找到", "detail": detail}, status_code=404)


def _today() -> dt.date:
    return clock.today()


# ---------------------------------------------------------------- the park list and a park

@router.get("/parks", response_class=HTMLResponse, dependencies=[READ])
def parks_list(request: Request, session: SessionDep) -> HTMLResponse:
    on = _today()
    rows = [park_view(session, p.id, on) for p in parks_store.all_parks(session)]
    return render(request, "parks/list.html", {**SECTION, "rows": rows, "year": on.year - 1})


# ---------------------------------------------------------------- scoring runs (before /parks/{park_id})

def _rulesets(session: Session) -> list[scoring.ScoringRuleSet]:
    return published.every(session)


def _ruleset(session: Session, rid: str, version: str | None) -> scoring.ScoringRuleSet | None:
    try:
        return published.get(session, rid, version, _today())
    except InputError:
        return None                   # parse_request reports the unknown rule set at its path


def _header_key(cell: str, rs: scoring.ScoringRuleSet | None) -> str | None:
    text = cell.strip().lower()
    if text in ("id", "企业标识", "统一社会信用代码", "企业标识（统一社会信用代码）"):
        return "id"
    if text in ("name", "企业名称", "名称"):
        return "name"
    for ind in rs.indicators if rs else ():
        if text in (ind.key, ind.label.lower()):
            return ind.key
    return None


def _split(line: str) -> list[str]:
    # Pasted from a spreadsheet the cells are tab-separated; typed by hand, comma-separated.
    return line.split("\t") if "\t" in line else re.split(r"[,，]", line)


def scoring_body(session: Session, ruleset: str, year: str,
                 table: str) -> tuple[dict, list[Problem], list[int], list[str]]:
    """The ``POST /v1/scoring/runs`` body from the form: the rule set ``id@version``, the year
    and a pasted table (header row: id, name, one column per indicator key or label).
    Returns (body, table problems, the line number of each enterprise, the header keys)."""
    rid, _, version = ruleset.partition("@")
    y = year.strip()
    body: dict[str, Any] = {"ruleset": rid or scoring.DEFAULT_RULESET,
                            "year": int(y) if y.isascii() and y.isdigit() else y or None}
    if version:
        body["ruleset_version"] = version
    rs = _ruleset(session, body["ruleset"], version or None)
    problems: list[Problem] = []
    lines = [(n, line) for n, line in enumerate(table.splitlines(), start=1) if line.strip()]
    if not lines:
        return body, [Problem("enterprises", "请粘贴企业数据：第一行为表头，其后每行一家企业")], [], []
    (_, head), rows = lines[0], lines[1:]
    keys = []
    for cell in _split(head):
        key = _header_key(cell, rs)
        if key is None:
            problems.append(Problem("enterprises", f"第 1 行表头：未知的列“{cell.strip()}”"))
        keys.append(key)
    if "id" not in keys:
        problems.append(Problem("enterprises", "表头缺少 id（企业标识）列"))
    if not rows:
        problems.append(Problem("enterprises", "表头之后没有企业数据"))
    enterprises, line_numbers = [], []
    for n, line in rows:
        cells = [c.strip() for c in _split(line)]
        if len(cells) != len(keys):
            problems.append(Problem("enterprises", f"第 {n} 行：有 {len(cells)} 列，表头为 {len(keys)} 列"))
            continue
        cols = dict(zip(keys, cells, strict=True))
        ent: dict[str, Any] = {"id": cols.get("id", ""), "values": {k: (v or None) for k, v in cols.items()
                                                                   if k not in (None, "id", "name")}}
        if cols.get("name"):
            ent["name"] = cols["name"]
        enterprises.append(ent)
        line_numbers.append(n)
    body["enterprises"] = enterprises
    return body, problems, line_numbers, [k for k in keys if k]


def _by_line(p: Problem, line_numbers: list[int], labels: dict[str, str]) -> Problem:
    """``enterprises.3.values.tax_per_mu`` → a message naming the pasted line and the column."""
    m = re.match(r"^enterprises\.(\d+)(?:\.(?:values\.)?(\w+))?", p.path)
    if not m or int(m.group(1)) >= len(line_numbers):
        return p
    column = labels.get(m.group(2) or "", m.group(2) or "")
    return Problem("enterprises", f"第 {line_numbers[int(m.group(1))]} 行{('“' + column + '”') if column else ''}：{p.msg}")


def _scoring_form(request: Request, session: Session, values: dict, errors: dict | None = None,
                  summary: list | None = None, status_code: int = 200) -> HTMLResponse:
    sets = _rulesets(session)
    return render(request, "parks/scoring_form.html",
                  {**SECTION, "rulesets": sets, "values": values, "errors": errors or {}, "summary": summary or []},
                  status_code=status_code)


@router.get("/parks/scoring", response_class=HTMLResponse, dependencies=[RULE_READ])
def scoring_form(request: Request, session: SessionDep) -> HTMLResponse:
    default = _ruleset(session, scoring.DEFAULT_RULESET, None)
    return _scoring_form(request, session, {"ruleset": f"{default.id}@{default.version}" if default else "",
                                            "year": str(_today().year - 1), "enterprises": ""})


@router.post("/parks/scoring", dependencies=[WRITE])
async def scoring_submit(request: Request, session: SessionDep, engine: EngineDep) -> Response:
    """Score the pasted population (stored with its decision, as the API does), then show the run."""
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("ruleset", "year", "enterprises")}
    body, table_problems, lines, _keys = scoring_body(session, values["ruleset"], values["year"], values["enterprises"])
    problems = list(table_problems)
    with gc_paused():
        try:
            req = scoring.parse_request(body, resolve=published.resolver(session, _today()))
        except InputError as e:
            rs = _ruleset(session, body["ruleset"], body.get("ruleset_version"))
            labels = {i.key: i.label for i in rs.indicators} | {"id": "企业标识", "name": "企业名称"} if rs else {}
            # With a malformed table its own problems say more than "the population is empty".
            problems += [Problem("ruleset", p.msg) if p.path == "ruleset_version" else _by_line(p, lines, labels)
                         for p in e.problems if not (table_problems and p.path.startswith("enterprises"))]
        if not problems:
            doc = json.loads(scoring.run(session, req, engine))
    if problems:
        errors, summary = field_errors(problems, ["ruleset", "year", "enterprises"])
        return _scoring_form(request, session, values, errors, summary, status_code=422)
    return RedirectResponse(f"/parks/scoring/runs/{doc['run_id']}", status_code=303)


@router.get("/parks/scoring/runs/{run_id}", response_class=HTMLResponse)
def scoring_run(request: Request, run_id: str, session: SessionDep, caller: Annotated[Caller, READ]) -> HTMLResponse:
    try:
        # Only the enterprises in the key's jurisdiction, as GET /v1/scoring/runs/{id}.
        doc = scope.scoring_run(session, json.loads(scoring.get_run(session, run_id)), caller)
    except NotFound:
        return _not_found(request, f"未找到评价结果 {run_id}")
    # Indicator keys (missing, incomplete) as the rule set's labels.
    labels = {i["key"]: i["label"] for i in doc["ruleset"]["indicators"]}
    names = {r["id"]: {"missing": [labels.get(k, k) for k in r.get("missing") or []],
                       "incomplete": [labels.get(k, k) for k in r.get("incomplete_because") or []]}
             for r in doc["results"]}
    return render(request, "parks/scoring_run.html", {**SECTION, "doc": doc, "rs": doc["ruleset"], "names": names})


# ---------------------------------------------------------------- one park

@router.get("/parks/{park_id}", response_class=HTMLResponse, dependencies=[READ])
def park_page(request: Request, park_id: str, session: SessionDep) -> HTMLResponse:
    on = _today()
    try:
        view = park_view(session, park_id, on)
    except NotFound:
        return _not_found(request, f"未找到园区 {park_id}")
    return render(request, "parks/park.html", {**SECTION, "p": view, "year": on.year - 1})


def _matches(row: dict, category: str, plan_status: str, q: str) -> bool:
    if category and category not in {c["category"] for c in row["categories"]}:
        return False
    if plan_status and row["plan_status"] != plan_status:
        return False
    if q:
        b = row["parcel"]
        c = b.get("contract") or {}
        hay = [b["code"], c.get("contract_no"), (c.get("transferee") or {}).get("name"),
               (c.get("transferee") or {}).get("uscc")]
        if not any(q.lower() in (h or "").lower() for h in hay):
            return False
    return True


@router.get("/parks/{park_id}/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, park_id: str, session: SessionDep, engine: EngineDep, caller: Annotated[Caller, READ],
                category: Annotated[str, Query(max_length=40)] = "",
                plan_status: Annotated[str, Query(max_length=40)] = "",
                q: Annotated[str, Query(max_length=100)] = "",
                page: Annotated[str, Query(max_length=12)] = "1",
                as_of: Annotated[str, Query(max_length=40)] = "") -> HTMLResponse:
    """The 一宗一策 ledger on ``as_of`` (default today), filtered and paged (50 rows)."""
    scope.park(session, caller, park_id)      # tax figures inside: as the API's GET …/ledger
    problems = []
    if category and category not in CATEGORY_OPTIONS:
        problems.append(Problem("category", "请选择列表中的类型"))
    if plan_status and plan_status not in PLAN_STATUSES:
        problems.append(Problem("plan_status", "请选择列表中的方案状态"))
    on = _today()
    if as_of:
        try:
            on = dt.date.fromisoformat(as_of)
        except ValueError:
            problems.append(Problem("as_of", "请输入有效日期（YYYY-MM-DD）"))
    try:
        led = park_ledger(session, park_id, on, engine, view=TaxView.of(caller))
    except NotFound:
        return _not_found(request, f"未找到园区 {park_id}")
    valid = not problems
    rows = [r for r in led["rows"] if _matches(r, category, plan_status, q.strip())] if valid else led["rows"]
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    n = min(int(page), pages) if (page.isascii() and page.isdigit()) and int(page) >= 1 else 1
    shown = rows[(n - 1) * PAGE_SIZE:n * PAGE_SIZE]
    flat = flat_ledger({"rows": shown})
    filters = {k: v for k, v in (("category", category), ("plan_status", plan_status), ("q", q.strip()),
                                 ("as_of", as_of)) if v and valid}
    errors, _ = field_errors(problems, ["category", "plan_status", "as_of"])
    return render(request, "parks/ledger.html", {
        **SECTION, "led": led, "rows": list(zip(shown, flat, strict=True)), "total": len(rows), "page": n,
        "pages": pages, "first": (n - 1) * PAGE_SIZE + 1, "last": (n - 1) * PAGE_SIZE + len(shown),
        "prev_url": f"?{urlencode({**filters, 'page': n - 1})}" if n > 1 else None,
        "next_url": f"?{urlencode({**filters, 'page': n + 1})}" if n < pages else None,
        "values": {"category": category, "plan_status": plan_status, "q": q, "as_of": as_of},
        "categories": CATEGORY_OPTIONS, "plan_statuses": PLAN_STATUSES, "errors": errors,
        "xlsx": f"/v1/parks/{park_id}/ledger.xlsx?{urlencode({'as_of': led['as_of']})}", "withheld_label": WITHHELD_ZH,
    }, status_code=422 if problems else 200)


@router.get("/parks/{park_id}/evaluation", response_class=HTMLResponse)
def evaluation_page(request: Request, park_id: str, session: SessionDep, engine: EngineDep, caller: Annotated[Caller, READ],
                    year: Annotated[str, Query(max_length=12)] = "") -> HTMLResponse:
    """The yearly evaluation (stored as a decision, as ``GET /v1/parks/{id}/evaluation``) with its
    two charts and the same figures as tables."""
    if not parks_store.park_exists(session, park_id):
        return _not_found(request, f"未找到园区 {park_id}")
    scope.park(session, caller, park_id)
    y = _today().year - 1
    if year:
        if not ((year.isascii() and year.isdigit()) and MIN_YEAR <= int(year) <= MAX_YEAR):
            errors, _ = field_errors([Problem("year", f"评价年度应为 {MIN_YEAR}–{MAX_YEAR} 的整数")], ["year"])
            return render(request, "parks/evaluation.html", {**SECTION, "park_id": park_id, "ev": None,
                                                             "year_text": year, "errors": errors}, status_code=422)
        y = int(year)
    ev = run_evaluation(session, park_id, y, engine, view=TaxView.of(caller))
    return render(request, "parks/evaluation.html", {
        **SECTION, "park_id": park_id, "ev": ev, "year_text": str(y), "errors": {}, "rows": evaluation_rows(ev),
        "verdict": VERDICTS.get(ev["verdict"], ev["verdict"]),
        "target_status": TARGET_STATUS.get(ev["target"].get("status"), ev["target"].get("status")),
        "direction": DIRECTIONS.get(ev["year_over_year"].get("direction") or "", "—"),
        "chart_query": urlencode({"year": y}), "withheld_label": WITHHELD_ZH,
    })
