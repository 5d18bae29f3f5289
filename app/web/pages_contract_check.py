"""合同条款检查 pages: the clause check before signing (a form or a pasted JSON contract), run
and stored as ``POST /v1/checks/contract`` does (``app.checks.contract.run``), and its result."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.access import scope, scope_writes
from app.access.auth import Caller
from app.access.deps import EngineDep, SessionDep
from app.checks import contract as contract_check
from app.core import input_limits as limits
from app.core.errors import InputError, NotFound, Problem, pydantic_problems
from app.schemas.contract import ContractRequest
from app.store import decisions
from app.web.auth import PageRoute
from app.web.common import field_errors, register_terms, render, zh_message
from app.web.contracts_common import (
    CHECK_STATUS,
    CHECK_VERDICT,
    EVENT_FIELDS,
    EVENT_LABELS,
    GOV_CAUSES,
    KINDS,
    READ,
    SECTION,
    TAX_OPTIONS,
    WRITE,
    not_found,
)

router = APIRouter(route_class=PageRoute)


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
        return not_found(request, f"未找到条款检查结论 {decision_id}")
    rows = [{**f, "clause_label": CLAUSE_LABELS.get(f["clause"], f["clause"]),
             "status_label": CHECK_STATUS.get(f["status"], f["status"]),
             "contract_value": OPTION_LABELS.get(f["clause"], {}).get(f["contract_value"], f["contract_value"])
             if isinstance(f.get("contract_value"), str) else f.get("contract_value"),
             "rule_value": OPTION_LABELS.get(f["clause"], {}).get(f["rule_value"], f["rule_value"])
             if isinstance(f.get("rule_value"), str) else f.get("rule_value")} for f in d["findings"]]
    return render(request, "contracts/check_result.html",
                  {**SECTION, "d": d, "rows": rows, "verdict": CHECK_VERDICT.get(d["verdict"], d["verdict"]),
                   "status_labels": CHECK_STATUS})
