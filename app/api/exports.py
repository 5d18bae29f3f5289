"""Exports as an officer prints them (.xlsx through ``app.formats.excel.write_table``: title with the
park and the date, frozen header, units in the headers, a totals row, notes stating the
example status, tax basis and area basis) and charts as SVG images (``app.formats.charts``).

- GET /v1/parks/{id}/ledger.xlsx?as_of=       一宗一策台账 (the JSON ledger, flat: ``app.checks.parks.ledger.flat_ledger``)
- GET /v1/parks/{id}/evaluation.xlsx?year=    年度亩均税收评价 (stored as a decision, as the JSON GET)
- GET /v1/scoring/runs/{id}.xlsx              亩均效益综合评价结果 (a stored scoring run)
- GET /v1/parks/{id}/evaluation.svg?year=&chart=tax_per_mu|categories

Totals are the sums of the printed rows.  Numbers come from the same service functions as
the JSON endpoints; nothing is recomputed here except the sums.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from app.access import scope
from app.access.auth import ReadCaller
from app.access.deps import EngineDep, SessionDep
from app.checks import scoring
from app.checks.parks.common import CATEGORIES
from app.checks.parks.evaluation import evaluate, run_evaluation
from app.checks.parks.ledger import LEDGER_COLUMNS, flat_ledger
from app.checks.parks.ledger import ledger as park_ledger
from app.checks.parks.registry import park_view
from app.checks.parks.tax import AREA_BASIS
from app.checks.visibility import WITHHELD_STATUS, WITHHELD_ZH, TaxView
from app.core import clock
from app.formats import charts, excel
from app.formats.tables import EVAL_COLUMNS, VERDICTS, _by_category, _dec, _qv, evaluation_rows

router = APIRouter(tags=["exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SVG = "image/svg+xml"
_XLSX_RESPONSE = {200: {"content": {XLSX: {}}, "description": "the .xlsx file"}, 404: {"description": "not found"}}
_SVG_RESPONSE = {200: {"content": {SVG: {}}, "description": "the chart (SVG)"}, 404: {"description": "unknown park"}}
SHARE_LABEL = "未列入问题类型"
# Codes in the ledger's rows (``app.checks.parks.ledger.flat_ledger``) as the sheet shows them.
PLAN_STATUS_LABELS = {"missing": "未制定方案", "open": "处置中", "overdue": "已逾期", "completed": "已完成",
                      "no_current_category": "已不属问题类型"}
PROGRESS_LABELS = {"planned": "计划中", "in_progress": "推进中", "completed": "已完成", "suspended": "暂停",
                   "cancelled": "已取消"}
GOV_CAUSE_LABELS = {"late_delivery": "迟延交地", "plan_change": "规划调整", "policy_change": "政策调整", "petition": "信访",
                    "military_or_heritage": "军事管制或文物保护", "other_government_act": "其他政府行为",
                    "force_majeure": "不可抗力"}
LEDGER_VALUE_LABELS = {"方案状态": PLAN_STATUS_LABELS, "进度": PROGRESS_LABELS, "政府原因": GOV_CAUSE_LABELS}
PERIOD_LABELS = {"calendar_year": "自然年度"}
_n = excel.number_text      # a computed figure in a note: 2 decimals, rounded half-up


def _total(rows: list[list[Any]], i: int) -> Decimal:
    return sum((v for r in rows if isinstance(v := r[i], Decimal)), Decimal(0))


def _file(data: bytes, media: str, filename: str, inline: bool = False) -> Response:
    kind = "inline" if inline else "attachment"
    return Response(data, media_type=media, headers={"Content-Disposition": f'{kind}; filename="{filename}"'})


def _beijing(stored: str | None) -> str:
    """A stored UTC time (ISO text) in Beijing time, to the minute (stored times stay UTC)."""
    if not stored:
        return "—"
    t = dt.datetime.fromisoformat(stored.replace("Z", "+00:00"))
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def _stamp() -> str:
    return clock.now().strftime("%Y-%m-%d %H:%M")      # the configured zone (Asia/Shanghai: 北京时间)


def _example_notes(session, park_id: str, on: dt.date) -> list[str]:
    view = park_view(session, park_id, on)
    out = []
    if view.get("note"):
        out.append(f"园区说明：{view['note']}")
    rs = view.get("ruleset_in_force")
    if rs and rs.get("example"):
        out.append(f"示例数据：低效用地认定规则集 {rs['id']} {rs.get('version', '')} 为示例，"
                   "阈值未经官方核实。")
    return out


def _basis_text(b: dict) -> str:
    if b.get("status") != "ok":
        return f"税收口径：无（{b.get('message', '未知')}）"
    src = b.get("from") or {}
    refunds = "政策性退税加回" if b.get("refunds_added_back") else "不加回政策性退税"
    example = "，示例" if src.get("status") == "example" or src.get("example") else ""
    return (f"税收口径：{'、'.join(b.get('includes') or [])}（实际入库，{refunds}；{_period(b)}），"
            f"依据 {src.get('id')} {src.get('version') or ''}{example}")


def _period(b: dict) -> str:
    return PERIOD_LABELS.get(b.get("period") or "", b.get("period") or "")


def _area_text() -> str:
    return f"面积口径：{AREA_BASIS['label']}。{AREA_BASIS['note']}"


def _categories_text(totals: dict[str, tuple[int, Any]]) -> str:
    return "；".join(f"{CATEGORIES[k][1]} {n} 宗 {_n(a)} 亩" for k, (n, a) in totals.items()) + "（一宗可属多类）"


# =========================================================================== the ledger

@router.get("/v1/parks/{park_id}/ledger.xlsx", response_class=Response, responses=_XLSX_RESPONSE)
def ledger_xlsx(park_id: str, session: SessionDep, engine: EngineDep, caller: ReadCaller,
                as_of: dt.date | None = Query(None, description="the date of the ledger; default today")) -> Response:
    """The 一宗一策 ledger as a printable sheet: the JSON ledger's flat rows (``app.checks.parks.ledger.flat_ledger``)."""
    scope.park(session, caller, park_id)      # tax figures: as GET …/ledger
    on = as_of or clock.today()
    led = park_ledger(session, park_id, on, engine, view=TaxView.of(caller))
    flat = flat_ledger(led)
    columns = [excel.split_header(h) for h in LEDGER_COLUMNS]
    area_i = LEDGER_COLUMNS.index("面积（亩）")
    rows = [[_dec(r[h]) if i == area_i else
             (LEDGER_VALUE_LABELS.get(h, {}).get(r[h], r[h]) if r[h] != "" else None) for i, h in enumerate(LEDGER_COLUMNS)]
            for r in flat]
    totals = {1: f"共 {len(rows)} 宗", area_i: _total(rows, area_i)}
    name = led["park_name"] or park_id
    cats = {k: (v["count"], v["area"]["value"]) for k, v in led["totals"].items()}
    notes = [f"类型合计：{_categories_text(cats)}；未制定处置方案 {led['without_plan']} 宗。",
             _area_text(),
             f"低效用地认定中的亩均税收按 {on.year - 1} 年度（{on} 前最近一个完整年度）。",
             *([f"{len(led['withheld'])} 宗宗地的低效用地认定取决于{WITHHELD_ZH}的税收数据，未列入类型："
                f"{'、'.join(led['withheld'])}。"] if led.get("withheld") else []),
             *_example_notes(session, park_id, on),
             f"截至 {on}；制表 {_stamp()}（北京时间）；规则引擎 {led['engine']} {led['engine_version']}。"]
    data = excel.write_table(f"{name} 一宗一策台账（截至 {on}）", columns, rows, totals=totals, sheet="一宗一策台账", notes=notes)
    return _file(data, XLSX, f"ledger-{park_id}-{on}.xlsx")


# =========================================================================== the evaluation

@router.get("/v1/parks/{park_id}/evaluation.xlsx", response_class=Response, responses=_XLSX_RESPONSE)
def evaluation_xlsx(park_id: str, session: SessionDep, engine: EngineDep, caller: ReadCaller,
                    year: int = Query(..., ge=1990, le=2100, description="the evaluated (calendar) year")) -> Response:
    """The yearly evaluation as a printable sheet: every industrial parcel supplied by the year's
    end with its counted tax and 亩均税收; totals = Σ rows; the park figure, target, land by
    category and the bases in the notes.  Stored as a decision, like GET …/evaluation."""
    scope.park(session, caller, park_id)      # tax figures: as GET …/evaluation
    ev = run_evaluation(session, park_id, year, engine, view=TaxView.of(caller))
    t = ev["tax_per_mu"]
    rows = evaluation_rows(ev)
    hidden = len(t.get("parcels_withheld", []))
    totals = {1: f"共 {len(rows)} 宗" + (f"（{hidden} 宗{WITHHELD_ZH}，未计入本行合计）" if hidden else ""),
              3: _total(rows, 3), 4: _total(rows, 4), 5: _total(rows, 5)}
    name = ev["park_name"] or park_id
    tgt = ev["target"]
    value = t["value"]["value"] if t["value"] else None
    # The notes are sentences: computed figures rounded to 2 decimals (the cells above keep every
    # digit, shown with 2); the target is the park's own figure, shown as set.
    fig = (f"园区亩均税收 = Σ计入税收 ÷ 年末全部已供工业用地面积 = {_n(t['total_tax']['value'])} ÷ "
           f"{_n(t['area_counted']['value'])} = {_n(value)} 万元/亩"
           + ("（按全部企业计算，含不逐宗显示的宗地）" if hidden else "")
           if value is not None else f"园区亩均税收：{t.get('message') or WITHHELD_ZH}" if t["status"] == WITHHELD_STATUS
           else f"园区亩均税收：数据不足，无法计算（{t.get('message') or '缺数据不视为零'}）")
    target = (f"目标 {tgt['value']['value']} 万元/亩（{tgt.get('source')}）；"
              + (f"差距、完成率{WITHHELD_ZH}" if tgt.get("status") == WITHHELD_STATUS else
                 f"差距 {_n((tgt.get('distance') or {}).get('value'))} 万元/亩，"
                 f"完成率 {_n((tgt.get('attainment') or {}).get('value'))}%")
              if tgt.get("value") else "未设目标")
    yoy = ev["year_over_year"]
    withheld_or_none = WITHHELD_ZH if t["status"] == WITHHELD_STATUS else None
    counted_area = (t.get("area_counted") or {}).get("value", WITHHELD_ZH if t["status"] == WITHHELD_STATUS else None)
    if yoy.get("status") == WITHHELD_STATUS:
        yoy_text = f"上年（{yoy['previous_year']}）比较：{yoy.get('message')}。"
    else:
        yoy_text = (f"上年（{yoy['previous_year']}）园区亩均税收 {_n((yoy.get('previous') or {}).get('value'))} 万元/亩；"
                    f"变化 {_n((yoy.get('change') or {}).get('value'))} 万元/亩"
                    f"（{_n((yoy.get('change_percent') or {}).get('value'))}%）。")
    land = ev["land"]
    cats = {k: (v["count"], v["area"]["value"]) for k, v in land["by_category"].items()}
    secondary = t.get("over_land_with_data") or {}
    zero = t.get("parcels_zero", [])
    reasons = {}
    for p in zero:
        reasons[p["reason_label"]] = reasons.get(p["reason_label"], 0) + 1
    notes = [f"{fig}；{target}；结论：{VERDICTS.get(ev['verdict'], ev['verdict'])}。",
             *([f"结论待补充数据：{ev['incomplete']['message']}；缺数据宗地："
                f"{'、'.join(ev['incomplete']['parcels']) or '（不在本辖区权限内）'}。"] if ev.get("incomplete") else []),
             f"{secondary.get('label', '参考：仅计有税收数据的宗地')}：" + (
                 f"{_n(t['total_tax']['value'])} ÷ {_n(secondary['area']['value'])} 亩 = "
                 f"{_n(secondary['value']['value'])} 万元/亩。"
                 if (secondary.get("value") or {}).get("value") is not None else
                 (f"{WITHHELD_ZH}。" if t["status"] == WITHHELD_STATUS else "无。")),
             f"已供工业用地 {_n(t['area_in_scope']['value'])} 亩（全部计入分母），有税收数据 "
             f"{_n((t.get('area_with_data') or {}).get('value', counted_area))} 亩"
             f"（覆盖率 {_n((t.get('coverage') or {}).get('value', withheld_or_none))}%）；"
             f"无税收记录的宗地计为 0（{'、'.join(f'{k} {n} 宗' for k, n in reasons.items()) or '无'}）；"
             f"其中“缺少税收数据”为投产企业（或未关联纳税人的宗地）缺数据，不代表无税收。",
             yoy_text,
             f"土地分类（{ev['as_of']}）：{_categories_text(cats)}；登记 {land['registered']['count']} 宗 "
             f"{_n(land['registered']['area']['value'])} 亩，已供 {land['supplied']['count']} 宗 "
             f"{_n(land['supplied']['area']['value'])} 亩。",
             _basis_text(t["tax_basis"]), _area_text(),
             f"分摊规则：{t['allocation']['label']}——{t['allocation']['rule']}"
             "（计入税收保留至多 6 位小数，表中显示 2 位）；合计行为各行相加。",
             *_example_notes(session, park_id, dt.date(year, 12, 31)),
             f"决定编号 {ev.get('decision_id')}（已存入决定日志，可复核）；制表 {_stamp()}（北京时间）；"
             f"规则引擎 {ev['engine']} {ev['engine_version']}。"]
    data = excel.write_table(f"{name} {year} 年度亩均税收评价（截至 {ev['as_of']}）", EVAL_COLUMNS, rows, totals=totals,
                             sheet=f"{year}年度评价", notes=notes)
    return _file(data, XLSX, f"evaluation-{park_id}-{year}.xlsx")


# =========================================================================== a scoring run

UNIT_LABELS = {"fraction": "比值"}


@router.get("/v1/scoring/runs/{run_id}.xlsx", response_class=Response, responses=_XLSX_RESPONSE)
def scoring_xlsx(run_id: str, session: SessionDep, caller: ReadCaller) -> Response:
    """A stored scoring run as a printable sheet, in rank order: class, score, every indicator's
    value (its unit) and sub-score; unscored (incomplete) enterprises last."""
    doc = scope.scoring_run(session, json.loads(scoring.get_run(session, run_id)), caller)   # as GET /v1/scoring/runs/{id}
    rs = doc["ruleset"]
    inds = rs["indicators"]
    columns: list[tuple[str, str | None]] = [("排名", None), ("排名百分位", "%"), ("类别", None), ("类别说明", None),
                                             ("企业标识（统一社会信用代码）", None), ("企业名称", None), ("综合得分", "分")]
    for i in inds:
        # a fraction (研发经费占比 0.0302) is shown as a percentage (3.02%), the cell keeps the fraction
        columns += [(i["label"], "%" if i["unit"] == "fraction" else UNIT_LABELS.get(i["unit"], i["unit"])),
                    (f"{i['label']}得分", "分")]
    percent_columns = {7 + 2 * n: excel.PERCENT_FORMAT for n, i in enumerate(inds) if i["unit"] == "fraction"}
    labels = {i["key"]: i["label"] for i in inds}
    columns.append(("数据状态", None))
    rows = []
    for r in doc["results"]:
        row = [r["rank"], _dec(r["percentile"]), r["class"], r["class_label"], r["id"], r["name"], _dec(r["score"])]
        for i in inds:
            s = r["sub_scores"][i["key"]]
            row += [_dec(s["value"]), _dec(s["sub_score"])]
        state = "完整" if not r["missing"] else f"缺 {'、'.join(labels.get(k, k) for k in r['missing'])}"
        row.append(state if r["complete"] else
                   f"数据不全，未计分（{'、'.join(labels.get(k, k) for k in r['incomplete_because'])}）")
        rows.append(row)
    counts = doc["counts"]
    totals = {5: f"共 {counts['enterprises']} 家，计分 {counts['scored']} 家"}
    weights = "、".join(f"{i['label']} {i['weight']}（基准 {i['benchmark']}）" for i in inds)
    classes = "；".join(f"{k} 类 {v} 家" for k, v in doc["class_counts"].items())
    notes = [f"计分公式：{rs.get('formula') or '得分 = Σ 指标值 ÷ 基准值 × 权重'}；权重与基准值：{weights}。",
             f"分类（按排名百分位）：{classes}；数据不全 {counts['incomplete']} 家。",
             *(n.replace("（status: example）", "") for n in doc.get("notes", [])),
             f"评价规则集 {rs['id']} {rs['version']}（{'示例' if rs.get('status') == 'example' else '正式'}）："
             f"{rs.get('title')}。",
             f"评价编号 {doc.get('run_id')}；决定编号 {doc.get('decision_id')}；"
             f"生成于 {_beijing(doc.get('created_at'))}（北京时间）；制表 {_stamp()}（北京时间）。"]
    data = excel.write_table(f"{rs.get('title') or rs['id']} — {doc['year']} 年度评价结果", columns, rows, totals=totals,
                             sheet=f"{doc['year']}年度评价结果", notes=notes, formats=percent_columns)
    return _file(data, XLSX, f"scoring-run-{run_id}.xlsx")


# =========================================================================== charts

def _r2(v: Decimal | None) -> Decimal | None:
    return None if v is None else v.quantize(Decimal("0.01"), ROUND_HALF_UP)


def tax_chart(ev: dict) -> str:
    t = ev["tax_per_mu"]
    n = len(t["parcels_counted"]) + len(t.get("parcels_zero", [])) + len(t.get("parcels_withheld", []))
    average = (f"园区亩均税收（{WITHHELD_ZH}）" if t["status"] == WITHHELD_STATUS else
               f"园区亩均税收（全部已供工业用地 {n} 宗）")
    bars: list[tuple[str, object]] = [(average, _r2(_qv(t["value"])))]
    secondary = t.get("over_land_with_data") or {}
    if t["status"] != WITHHELD_STATUS:
        bars.append(("参考：仅计有税收数据的宗地", _r2(_qv(secondary.get("value")))))
    counted = sorted(t["parcels_counted"], key=lambda p: (_qv(p["tax_per_mu"]), p["code"]))
    bars += [(f"{p['code']}（{p['reason_label']}，计为 0）", Decimal(0))
             for p in sorted(t.get("parcels_zero", []), key=lambda p: p["code"])]
    bars += [(p["code"], _r2(_qv(p["tax_per_mu"]))) for p in counted]
    bars += [(f"{p['code']}（{WITHHELD_ZH}）", None) for p in sorted(t.get("parcels_withheld", []), key=lambda p: p["code"])]
    target = _qv(ev["target"]["value"])
    label = "目标"
    if target is None and t["value"] is not None:
        target, label = _r2(_qv(t["value"])), "园区平均"
    name = ev["park_name"] or ev["park"]
    return charts.bar_chart(f"{name} {ev['year']} 年亩均税收（按宗地，低于目标为红色）", bars, unit="万元/亩",
                            target=target, target_label=label)


def category_parts(ev: dict, areas: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
    """Registered land split into disjoint parts by area: the land in no category, each category
    alone and each combination that occurs (a parcel can be in several: the parts add up to the
    registered area)."""
    labels = _by_category(ev)
    order = [c["label"] for c in ev["land"]["by_category"].values()]
    parts: dict[str, Decimal] = {}
    for code, area in sorted(areas.items()):
        mine = labels.get(code)
        key = "＋".join(sorted(mine, key=order.index)) if mine else SHARE_LABEL
        parts[key] = parts.get(key, Decimal(0)) + area
    # the land in no category first (the palette's neutral blue), then each category and combination
    keys = sorted(parts, key=lambda k: (k != SHARE_LABEL, min((order.index(x) for x in k.split("＋") if x in order),
                                                              default=-1), k))
    return [(k, parts[k]) for k in keys]


@router.get("/v1/parks/{park_id}/evaluation.svg", response_class=Response, responses=_SVG_RESPONSE)
def evaluation_svg(park_id: str, session: SessionDep, engine: EngineDep, caller: ReadCaller,
                   year: int = Query(..., ge=1990, le=2100, description="the evaluated (calendar) year"),
                   chart: Literal["tax_per_mu", "categories"] = Query(
                       "tax_per_mu", description="tax_per_mu: 亩均税收 by parcel against the target; "
                                                 "categories: land by category (area)")) -> Response:
    """The park evaluation as a chart (not stored as a decision: a picture of GET …/evaluation)."""
    scope.park(session, caller, park_id)      # a picture of the tax figures
    ev = evaluate(session, park_id, year, engine, view=TaxView.of(caller))
    if chart == "tax_per_mu":
        svg = tax_chart(ev)
    else:
        from app.store import parks as pstore

        areas = {p.code: Decimal(p.area_mu) for p in pstore.parcels_of_park(session, park_id)}
        name = ev["park_name"] or park_id
        svg = charts.share_bar(f"{name} 土地分类（{ev['as_of']}，按面积）", category_parts(ev, areas), unit="亩")
    return _file(svg.encode("utf-8"), SVG, f"evaluation-{park_id}-{year}-{chart}.svg", inline=True)
