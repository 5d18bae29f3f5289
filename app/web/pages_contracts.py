"""合同履约 pages: the contract list and lookup, a contract's timeline with its current
performance and idle-land status, and the clause check before signing.

Every figure comes from the functions behind the API (``app.checks.performance.run`` as
``GET /v1/contracts/{no}/performance``, ``app.checks.contract.run`` as ``POST /v1/checks/contract``,
``app.store.contracts`` and ``app.store.tax`` for events and tax records); this module only
arranges them and translates codes into Chinese labels.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from app.access import auth, scope, scope_writes
from app.access.auth import Caller, require
from app.access.deps import EngineDep, SessionDep
from app.checks import contract as contract_check
from app.checks import performance as perf
from app.checks.parks import MEASURES, PROPOSAL_MEASURES
from app.checks.visibility import WITHHELD_STATUS, WITHHELD_ZH, TaxView
from app.core import clock
from app.core import input_limits as limits
from app.core.errors import InputError, NotFound, Problem, pydantic_problems
from app.lifecycle.idle import years_zh
from app.lifecycle.law import contract_models
from app.lifecycle.penalties import AMOUNT_LABEL
from app.lifecycle.state import effective_events
from app.schemas.contract import ContractRequest
from app.store import contracts as store
from app.store import decisions, tax
from app.web.auth import PageRoute
from app.web.common import beijing, field_errors, fmt, fmt_exact, percent, register_terms, render, zh_message

router = APIRouter(route_class=PageRoute)

# The API's capabilities (app.access.auth), route by route as the API grants them: the list, a contract and
# a stored check are what GET /v1/contracts/… and /v1/decisions/… show (READ); the clause-check form
# only serves POST /v1/checks/contract (WRITE).
READ = Depends(require(*auth.READ))
WRITE = Depends(require(*auth.WRITE))
PAGE_SIZE = 50
SECTION = {"section": "contracts"}

# ---------------------------------------------------------------- labels (codes → Chinese)

EVENT_LABELS = {"delivered": "交付土地", "extension_approved": "批准延期开工", "started": "开工", "progress": "建设进度",
                "construction_suspended": "停建（竣工验收前停止建设）", "construction_resumed": "复工",
                "production_stopped": "停产（竣工验收后停止生产）", "production_resumed": "复产",
                "government_delay": "政府原因延误", "completion_accepted": "竣工验收", "payment": "支付出让价款"}
GOV_CAUSES = {"late_delivery": "迟延交地", "plan_change": "规划调整", "policy_change": "政策调整", "petition": "信访",
              "military_or_heritage": "军事管制或文物保护", "other_government_act": "其他政府行为",
              "force_majeure": "不可抗力"}
EVENT_FIELDS = {"due_on": "应付日", "amount": "金额", "demanded": "已催告", "new_start_by": "新开工期限",
                "document": "批准文件", "cause": "原因", "developed_area": "已开发面积", "area_to_develop": "应开发面积",
                "invested": "已投资", "total_investment": "总投资", "land_price_included": "投资含地价",
                "suspended_since": "停建/停产自（旧字段：竣工验收前为停建，之后为停产）", "partial": "半停产",
                "fixed_asset_investment": "固定资产投资", "total_floor_area": "总建筑面积",
                "building_footprint": "建筑物基底面积", "structure_footprint": "构筑物基底面积", "yard_area": "露天堆场面积",
                "admin_land_area": "行政办公及生活服务设施用地", "admin_floor_area": "行政办公及生活服务设施建筑面积",
                "green_area": "绿地面积", "floors": "楼层", "note": "备注"}
PERF_STATUS = {"pass": "符合", "fail": "违约", "insufficient_data": "数据不足", "not_applicable": "不适用",
               WITHHELD_STATUS: WITHHELD_ZH}
PERF_VERDICT = {"pass": "履约正常", "fail": "存在违约", "incomplete": "数据不全，部分项目无法判定"}
# kind → (penalty item, name, the contract-model field whose clause sets the rate or the rule)
KINDS = {
    "late_payment": ("F1", "逾期付款", "penalties.late_payment_permille"),
    "late_start": ("F2", "延期开工", "penalties.late_start_permille"),
    "late_completion": ("F3", "延期竣工", "penalties.late_completion_permille"),
    "investment": ("F4", "投资不足", "penalties.shortfall_aggregate"),
    "plot_ratio": ("F5/F6", "容积率", "penalties.shortfall_aggregate"),
    "building_coefficient": ("F5/F6", "建筑系数", "penalties.shortfall_aggregate"),
    "green_ratio": ("F7", "绿地率", "penalties.over_limit_permille"),
    "admin_land_share": ("F7", "行政办公及生活服务设施用地比例", "penalties.over_limit_permille"),
    "admin_floor_share": ("F7", "行政办公及生活服务设施建筑面积比例", "penalties.over_limit_permille"),
    "late_delivery": ("F8", "出让人延期交地", "penalties.late_delivery_permille"),
    "tax_per_mu": ("", "亩均税收考核", None),
    "idle_land": ("53号令", "闲置土地", None),
}
IDLE_STATES = {"not_idle": "未构成闲置", "idle_1y": "闲置满一年（企业原因）", "idle_2y": "闲置满两年（企业原因）",
               "stalled": "已动工但停建闲置", "government_caused": "政府原因或不可抗力造成的延迟"}
TAX_OPTIONS = {"pay_difference": "补缴差额", "proportional": "按比例", "none": "不处理"}
CHECK_STATUS = {"pass": "符合", "missing": "缺失", "weaker": "弱于规则", "non_model": "非示范文本", "invalid": "无效",
                "warning": "提示"}
CHECK_VERDICT = {"pass": "通过：条款齐全，不弱于签订日有效的规则", "fail": "不通过：存在缺失、弱于规则或无效的条款"}
# The amount basis as the API states it (Chinese with an English gloss), in Chinese only.
AMOUNT_LABELS = {AMOUNT_LABEL: "合同约定金额（法院可依《民法典》第 585 条调整 ❓）"}


def _not_found(request: Request, detail: str) -> HTMLResponse:
    return render(request, "error.html", {**SECTION, "title": "未找到", "detail": detail}, status_code=404)


def _date(text: str | None, field: str, problems: list[Problem]) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(field, "请输入有效日期（YYYY-MM-DD）"))
        return None


# ---------------------------------------------------------------- list and lookup

@router.get("/contracts", response_class=HTMLResponse, dependencies=[READ])
def contracts_list(request: Request, session: SessionDep,
                   no: Annotated[str | None, Query(max_length=200)] = None,
                   page: Annotated[str | None, Query(max_length=12)] = None) -> Response:
    """A lookup form (contract number → its page) and the registered contracts, paged."""
    errors: dict[str, list[str]] = {}
    status = 200
    if no is not None and no.strip():
        wanted = no.strip()
        try:
            store.get(session, wanted)
        except NotFound:
            errors["no"] = [f"未找到合同 {wanted}（合同须先登记：POST /v1/contracts）"]
            status = 404
        else:
            return RedirectResponse(f"/contracts/{quote(wanted, safe='')}", status_code=303)
    n = int(page) if page and (page.isascii() and page.isdigit()) and int(page) >= 1 else 1
    rows, total = store.listing(session, (n - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "contracts/list.html",
                  {**SECTION, "rows": rows, "total": total, "page": n, "pages": pages, "no": no or "", "errors": errors},
                  status_code=status)


# ---------------------------------------------------------------- the clause check

def _qty(name: str, label: str, units: list[str]) -> dict:
    return {"kind": "qty", "name": name, "label": label, "units": units}


def _iv(name: str, label: str, unit: str | None) -> dict:
    return {"kind": "interval", "name": name, "label": label, "unit": unit}


def _f(kind: str, name: str, label: str, **extra: Any) -> dict:
    return {"kind": kind, "name": name, "label": label, **extra}


FORM = [
    ("基本信息", [
        _f("text", "contract_no", "合同编号"),
        _f("select", "model", "合同示范文本", options=[(m, m) for m in ("GF-2008-2601", "GF-2025-2601")]),
        _f("text", "supervision_no", "监管协议编号"),
        _f("text", "parcel_code", "宗地代码"),
        _f("text", "transferee.name", "受让人名称"),
        _f("text", "transferee.uscc", "受让人统一社会信用代码"),
        _f("text", "jurisdiction", "行政区划代码（6 位）"),
        _f("text", "industry.code", "行业代码"),
        _f("select", "industry.classification", "行业分类标准",
           options=[("GB/T 4754-2017", "GB/T 4754-2017"), ("GB/T 4754-2002", "GB/T 4754-2002")]),
        _f("text", "ruleset", "规则集 id（可空，按行政区划自动确定）"),
        _f("date", "signed_on", "签订日期"),
        _qty("land_area", "出让面积", ["亩", "m2", "公顷"]),
        _qty("land_price", "出让价款", ["万元", "元"]),
    ]),
    ("约定指标", [
        _qty("commitments.fixed_asset_investment", "固定资产投资总额", ["万元"]),
        _qty("commitments.investment_intensity", "亩均投资强度", ["万元/亩"]),
        _iv("commitments.plot_ratio", "容积率", None),
        _iv("commitments.building_coefficient", "建筑系数", "%"),
        _iv("commitments.admin_land_share", "行政办公及生活服务设施用地比例", "%"),
        _iv("commitments.admin_floor_share", "行政办公及生活服务设施建筑面积比例", "%"),
        _iv("commitments.green_ratio", "绿地率", "%"),
        _qty("commitments.tax_per_mu", "亩均税收", ["万元/亩"]),
        _f("int", "commitments.tax_per_mu.from_year", "亩均税收起始考核年度"),
        _qty("commitments.output_per_mu", "亩均产值", ["万元/亩"]),
    ]),
    ("开竣工时间", [
        _f("date", "schedule.delivery_on", "交付土地日期"),
        _f("date", "schedule.start_by", "开工期限"),
        _f("date", "schedule.complete_by", "竣工期限"),
    ]),
    ("违约责任", [
        _f("number", "penalties.late_payment_permille", "逾期付款违约金（每日 ‰）"),
        _f("number", "penalties.late_start_permille", "延期开工违约金（每日 ‰）"),
        _f("number", "penalties.late_completion_permille", "延期竣工违约金（每日 ‰）"),
        _f("number", "penalties.over_limit_permille", "指标超标违约金（‰，一次性）"),
        _f("number", "penalties.late_delivery_permille", "出让人延期交地违约金（每日 ‰）"),
        _f("select", "penalties.shortfall_aggregate", "多项不足比例的合并方式",
           options=[("", "（未约定）"), ("max", "取最大"), ("mean", "取平均"), ("sum", "相加")]),
        _f("select", "penalties.tax_shortfall", "亩均税收未达标的处理",
           options=[("", "（未约定）"), *TAX_OPTIONS.items()]),
        _f("select", "penalties.over_limit_mode", "超标违约金计收方式",
           options=[("once", "一次性（多项合计一次）"), ("per_item", "按项分别计收")]),
    ]),
    ("其他条款", [
        _f("int", "clauses.extension_notice_days", "延期开工应提前申请的天数"),
        _f("number", "clauses.extension_max_years", "延期开工最长年限"),
    ]),
]


def _input_names() -> list[str]:
    out = []
    for _, fields in FORM:
        for f in fields:
            if f["kind"] == "qty":
                out += [f"{f['name']}.value", f"{f['name']}.unit"]
            elif f["kind"] == "interval":
                out += [f"{f['name']}.min", f"{f['name']}.max"]
            else:
                out.append(f["name"])
    return out


INPUT_NAMES = _input_names()
CLAUSE_LABELS = {f["name"]: f["label"] for _, fields in FORM for f in fields} | {
    "model": "合同示范文本", "clauses.extension_notice_days": "延期开工提前申请天数",
    "clauses.extension_max_years": "延期开工最长年限"}
# A select clause's value (``max``, ``pay_difference``) as its option label.
OPTION_LABELS = {f["name"]: {v: label for v, label in f["options"] if v} for _, fields in FORM for f in fields
                 if f["kind"] == "select"}
# Codes and field paths in the check functions' messages (``缺少：penalties.late_start_permille``,
# ``（pay_difference）``) are shown with these labels (common.zh_text).
register_terms({**EVENT_FIELDS, **TAX_OPTIONS, **GOV_CAUSES, **EVENT_LABELS, **CLAUSE_LABELS,
                **{k: name for k, (_item, name, _field) in KINDS.items()},
                "commitments": "约定指标", "penalties": "违约责任", "schedule": "开竣工时间",
                "total_counted_floor": "总计容建筑面积", "uncompleted_counted_floor": "未竣工计容建筑面积"})

EXAMPLE = {
    "contract_no": "WEB-EXAMPLE-0001", "model": "GF-2008-2601", "supervision_no": "4112022024B00001",
    "transferee.name": "示例制造有限公司（示例）", "transferee.uscc": "91411202MA9WEB017U", "jurisdiction": "411202",
    "industry.code": "32", "industry.classification": "GB/T 4754-2017", "ruleset": "sanmenxia-standard-land",
    "signed_on": "2024-03-01",
    "land_area.value": "90", "land_area.unit": "亩", "land_price.value": "2700", "land_price.unit": "万元",
    "commitments.fixed_asset_investment.value": "27000", "commitments.investment_intensity.value": "300",
    "commitments.plot_ratio.min": "1.2", "commitments.plot_ratio.max": "2.0", "commitments.building_coefficient.min": "40",
    "commitments.admin_land_share.max": "7", "commitments.green_ratio.max": "15", "commitments.tax_per_mu.value": "15",
    "commitments.tax_per_mu.from_year": "2027", "schedule.delivery_on": "2024-04-01", "schedule.start_by": "2024-09-01",
    "schedule.complete_by": "2026-03-01", "penalties.late_payment_permille": "1", "penalties.late_start_permille": "1",
    "penalties.late_completion_permille": "0.5", "penalties.over_limit_permille": "5",
    "penalties.late_delivery_permille": "1", "penalties.shortfall_aggregate": "max",
    "penalties.tax_shortfall": "pay_difference", "penalties.over_limit_mode": "once",
    "clauses.extension_notice_days": "30", "clauses.extension_max_years": "1",
}
DEFAULTS = {"model": "GF-2008-2601", "industry.classification": "GB/T 4754-2017", "land_area.unit": "亩",
            "land_price.unit": "万元", "penalties.over_limit_mode": "once"}


def _put(doc: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        doc = doc.setdefault(p, {})
    doc[parts[-1]] = value


def request_from_fields(values: dict[str, str]) -> dict:
    """The ``POST /v1/checks/contract`` body from the form fields: empty fields are left out,
    a unit only goes with a value it qualifies, numbers stay decimal text."""
    doc: dict = {}
    for _, fields in FORM:
        for f in fields:
            name = f["name"]
            if f["kind"] == "qty":
                v = values.get(f"{name}.value", "").strip()
                if v:
                    _put(doc, f"{name}.value", v)
                    _put(doc, f"{name}.unit", values.get(f"{name}.unit") or f["units"][0])
            elif f["kind"] == "interval":
                lo, hi = values.get(f"{name}.min", "").strip(), values.get(f"{name}.max", "").strip()
                if lo:
                    _put(doc, f"{name}.min", lo)
                if hi:
                    _put(doc, f"{name}.max", hi)
                if (lo or hi) and f["unit"]:
                    _put(doc, f"{name}.unit", f["unit"])
            else:
                v = values.get(name, "").strip()
                if not v:
                    continue
                if f["kind"] == "int":
                    # Left as text when it is not an integer: the model reports it at this path.
                    _put(doc, name, int(v) if re.fullmatch(r"-?\d{1,9}", v) else v)
                else:
                    _put(doc, name, v)
    tax_year = doc.get("commitments", {}).get("tax_per_mu", {})
    if "from_year" in tax_year and "value" not in tax_year:
        # A start year alone is no commitment: keep it where the model will say what is missing.
        tax_year["value"] = None
    return doc


def _check_form(request: Request, values: dict[str, str], *, errors: dict | None = None, summary: list | None = None,
                document: str = "", status_code: int = 200) -> HTMLResponse:
    return render(request, "contracts/check_form.html",
                  {**SECTION, "form": FORM, "values": values, "errors": errors or {}, "summary": summary or [],
                   "document": document}, status_code=status_code)


@router.get("/contracts/check", response_class=HTMLResponse, dependencies=[WRITE])
def check_form(request: Request, example: Annotated[str | None, Query(max_length=4)] = None) -> HTMLResponse:
    return _check_form(request, dict(EXAMPLE if example else DEFAULTS))


MAX_DOCUMENT = 200_000


def json_refusal(text: str) -> str | None:
    """What the API's limits (app.api.limits) would refuse in this JSON text, in Chinese, or None:
    the pasted contract gets the same checks as ``POST /v1/checks/contract`` (no deep nesting, which
    would make the parser recurse, no NUL, no over-long number, no key given twice)."""
    body = text.encode("utf-8")
    if b"\\u0000" in body and b"\\u0000" in body.replace(b"\\\\", b""):
        return "字符串含 NUL 字符 \\u0000"
    if limits.too_deep(body):
        return f"JSON 嵌套超过 {limits.MAX_DEPTH} 层"
    if limits.too_many_digits(body):
        return f"数字超过 {limits.MAX_DIGITS} 位"
    dup = limits.duplicate_key(text)
    if dup is not None:
        return f"JSON 对象中键重复：{dup[:64]!r}"
    return None


@router.post("/contracts/check")
async def check_submit(request: Request, session: SessionDep, engine: EngineDep,
                       caller: Annotated[Caller, WRITE]) -> Response:
    """Run the clause check (stored as a decision, as the API does), then show it (POST-redirect-GET)."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k in set(INPUT_NAMES) | {"document"}}
    document = values.pop("document", "").strip()
    problems: list[Problem] = []
    body: Any = None
    if document:
        if len(document) > MAX_DOCUMENT:
            problems.append(Problem("document", f"合同 JSON 过长（最多 {MAX_DOCUMENT:,} 个字符）"))
        elif (refusal := json_refusal(document)) is not None:
            problems.append(Problem("document", refusal))
        else:
            try:
                body = json.loads(document, parse_float=Decimal)
            except ValueError as e:
                problems.append(Problem("document", f"不是有效的 JSON：{e}"))
            if body is not None and not isinstance(body, dict):
                problems.append(Problem("document", "应为一个 JSON 对象（合同）"))
    else:
        body = request_from_fields(values)
    result = None
    if not problems:
        try:
            req = ContractRequest.model_validate(body)
            scope_writes.contract_body(session, caller, req)     # as POST /v1/checks/contract: 403 outside
            result = contract_check.run(session, req, engine)
        except ValidationError as e:
            problems = pydantic_problems(e)
        except InputError as e:
            problems = list(e.problems)
    if problems:
        problems = [Problem(p.path, p.msg.removeprefix("Value error, ")) for p in problems]
        if document:
            # The pasted JSON is one field: each problem is shown next to it with its path.
            errors = {"document": [zh_message(p.msg) if p.path in ("", "document") else f"{p.path}：{zh_message(p.msg)}"
                                   for p in problems]}
            summary = []
        else:
            errors, summary = field_errors(problems, INPUT_NAMES)
        return _check_form(request, values, errors=errors, summary=summary, document=document, status_code=422)
    return RedirectResponse(f"/contracts/check/{result['decision_id']}", status_code=303)


@router.get("/contracts/check/{decision_id}", response_class=HTMLResponse)
def check_result(request: Request, decision_id: str, session: SessionDep,
                 caller: Annotated[Caller, READ]) -> HTMLResponse:
    scope.decision(session, caller, decision_id)
    try:
        d = decisions.get(session, decision_id)
    except NotFound:
        d = None
    if d is None or d.get("kind") != "contract":
        return _not_found(request, f"未找到条款检查结论 {decision_id}")
    rows = [{**f, "clause_label": CLAUSE_LABELS.get(f["clause"], f["clause"]),
             "status_label": CHECK_STATUS.get(f["status"], f["status"]),
             "contract_value": OPTION_LABELS.get(f["clause"], {}).get(f["contract_value"], f["contract_value"])
             if isinstance(f.get("contract_value"), str) else f.get("contract_value"),
             "rule_value": OPTION_LABELS.get(f["clause"], {}).get(f["rule_value"], f["rule_value"])
             if isinstance(f.get("rule_value"), str) else f.get("rule_value")} for f in d["findings"]]
    return render(request, "contracts/check_result.html",
                  {**SECTION, "d": d, "rows": rows, "verdict": CHECK_VERDICT.get(d["verdict"], d["verdict"]),
                   "status_labels": CHECK_STATUS})


# ---------------------------------------------------------------- a contract's timeline and performance

def _show(v: Any) -> str:
    if isinstance(v, dict) and "value" in v:
        return f"{fmt(v['value'])} {v.get('unit') or ''}".strip()
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, list):
        return f"{len(v)} 项"
    return str(v)


def timeline(events: list[dict]) -> list[dict]:
    """Every stored event in date order, each marked as in force, corrected or a correction."""
    in_force = {e["id"] for e in effective_events(events)}
    corrected_by = {e["correct"]: e["id"] for e in events if e.get("correct")}
    seq = {e["id"]: i for i, e in enumerate(events, start=1)}
    out = []
    for e in sorted(events, key=lambda e: (e["on"], seq[e["id"]])):
        details = [(EVENT_FIELDS.get(k, k), GOV_CAUSES.get(v, v) if k == "cause" else _show(v))
                   for k, v in e.items() if k not in ("id", "type", "on", "recorded_at", "correct")]
        out.append({"n": seq[e["id"]], "id": e["id"], "type": EVENT_LABELS.get(e["type"], e["type"]), "on": e["on"],
                    "recorded_at": beijing(e.get("recorded_at"), label=False), "details": details,
                    "corrects": seq.get(e.get("correct") or "", None) if e.get("correct") else None,
                    "corrected_by": seq.get(corrected_by.get(e["id"], ""), None),
                    "in_force": e["id"] in in_force})
    return out


def _yuan(amount: str | None) -> str | None:
    """万元 → 元 for display (exact: a decimal shift)."""
    if amount is None:
        return None
    try:
        return str((Decimal(amount) * 10000).quantize(Decimal("0.01")))
    except InvalidOperation:
        return None


def _clause(contract: ContractRequest, kind: str, finding: dict) -> dict | None:
    if finding.get("cite"):
        return finding["cite"]
    field = KINDS.get(kind, (None, None, None))[2]
    model = contract_models().get(contract.model)
    if field and model and field in model.required:
        return model.cite(model.required[field])
    return None


def _measure(f: dict) -> str | None:
    inputs = f.get("inputs") or {}
    # Computed figures rounded for display (2 decimals; a ratio as a percentage); the agreed
    # values are contract text, shown as written.
    if "days" in inputs:
        return f"逾期 {inputs['days']} 天"
    if "ratio" in inputs:
        return f"不足（超出）比例 {percent(inputs['ratio'])}"
    if f.get("kind") == "tax_per_mu" and "actual_tax_per_mu" in inputs:
        return f"实际 {fmt(inputs['actual_tax_per_mu'])}，约定 {fmt_exact(inputs.get('committed'))} 万元/亩"
    if f.get("kind") == "investment" and "total_actual" in inputs:
        return f"实际 {fmt(inputs['total_actual'])}，约定 {fmt_exact(inputs['total_agreed'])} 万元"
    return None


def findings_view(contract: ContractRequest, result: dict) -> list[dict]:
    out = []
    for f in result["findings"]:
        kind = f["kind"]
        item, name, _ = KINDS.get(kind, (kind, kind, None))
        formula = f.get("formula") or ""
        m = re.match(r"^(F\d)\b", formula)
        if m:
            item = m.group(1)
        if f.get("year"):
            name = f"{name}（{f['year']} 年度）"
        status = "构成闲置" if kind == "idle_land" and f["status"] == "fail" else PERF_STATUS.get(f["status"], f["status"])
        out.append({**f, "item": item, "name": name, "status_label": status,
                    "measure": _measure(f), "amount_yuan": _yuan(f.get("amount")), "clause": _clause(contract, kind, f),
                    "party_label": "出让人" if f.get("party") == "transferor" else "受让人"})
    return out


def tax_years(session: Session, uscc: str, result: dict | None, view: TaxView) -> list[dict]:
    """The enterprise's tax rows by year (corrections and what they superseded), with the year's
    亩均税收 as the performance audit counted it (only the reviewed years have one).  A row reported
    by a region ``view`` may not see says only its year and 不在本辖区权限内."""
    reviewed = {f["year"]: f for f in (result or {}).get("findings", []) if f["kind"] == "tax_per_mu" and f.get("year")}
    out = []
    for r in tax.history(session, uscc):
        if not view.sees(r["tax_region"]):
            out.append({"year": r["year"], "current": r["current"], "withheld": True})
            continue
        f = reviewed.get(r["year"])
        inputs = (f or {}).get("inputs") or {}
        out.append({**r, "tax_per_mu": inputs.get("actual_tax_per_mu") if r["current"] else None,
                    "committed": inputs.get("committed") if r["current"] else None,
                    "status_label": PERF_STATUS.get(f["status"]) if f and r["current"] else None})
    return out


def _decisions(session: Session, caller: Caller, contract_no: str) -> list[dict]:
    """The stored decisions about the contract; the penalty total of one holding tax figures the
    caller may not see (stored by a broader key) is withheld, as GET /v1/decisions/{id} is."""
    out = []
    for d in store.decisions_about(session, contract_no):
        if d["kind"] == "performance" and not scope.sees_decision(session, caller, d["kind"], d["payload"]):
            d = {**d, "verdict": None, "amount_total": None, "withheld": True}
        out.append({k: v for k, v in d.items() if k != "payload"})
    return out


def idle_view(result: dict) -> dict | None:
    f = next((x for x in result["findings"] if x["kind"] == "idle_land"), None)
    if f is None:
        return None
    label = IDLE_STATES.get(f.get("state") or "", "无法判定")
    if f.get("idle_years"):
        # The years of the 53号令 version the audit applied (the labels above are the bundled version's).
        label = f"闲置满{years_zh(f['idle_years'])}年（企业原因）"
    return {**f, "state_label": label,
            "status_label": "构成闲置" if f["status"] == "fail" else PERF_STATUS.get(f["status"], f["status"]),
            "proposal_labels": [MEASURES.get(PROPOSAL_MEASURES.get(p, p), p) for p in f.get("proposals") or []]}


@router.get("/contracts/{contract_no}", response_class=HTMLResponse)
def contract_page(request: Request, contract_no: str, session: SessionDep, engine: EngineDep,
                  caller: Annotated[Caller, READ],
                  as_of: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    """The contract, its events in date order, tax years, stored decisions and its performance
    on ``as_of`` (default today), stored as a decision exactly as the API's GET does."""
    try:
        row, document = store.get(session, contract_no)
    except NotFound:
        return _not_found(request, f"未找到合同 {contract_no}")
    scope.contract(session, caller, contract_no)      # tax records inside: as the API's GET …/performance
    contract = ContractRequest.model_validate(document)
    problems: list[Problem] = []
    on = _date(as_of, "as_of", problems) if as_of else clock.today()
    view = TaxView.of(caller)
    result = perf.run(session, contract_no, on, engine, view=view) if on else None
    errors, _ = field_errors(problems, ["as_of"])
    return render(request, "contracts/timeline.html", {
        **SECTION, "no": contract_no, "c": contract, "row": row, "as_of": (on or clock.today()).isoformat(),
        "as_of_text": as_of if problems else (on.isoformat() if on else ""), "errors": errors,
        "events": timeline(store.events(session, contract_no)),
        "tax_rows": tax_years(session, row.transferee_uscc, result, view),
        "decisions": _decisions(session, caller, contract_no), "result": result, "withheld_label": WITHHELD_ZH,
        "findings": findings_view(contract, result) if result else [], "idle": idle_view(result) if result else None,
        "verdict": PERF_VERDICT.get(result["verdict"], result["verdict"]) if result else None,
        "amount_label": AMOUNT_LABELS.get(result["amount_label"], result["amount_label"]) if result else None,
        "tax_options": TAX_OPTIONS, "kind_labels": {"contract": "条款检查", "performance": "履约评估"},
        "verdict_labels": {"contract": {"pass": "通过", "fail": "不通过"},
                           "performance": {"pass": "履约正常", "fail": "存在违约", "incomplete": "数据不全"}},
    }, status_code=422 if problems else 200)
