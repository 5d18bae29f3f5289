"""The tables that the .xlsx exports (``app.api.exports``) and the park pages (``app.web.pages_parks``)
both print: the verdict labels and the rows of the yearly evaluation (moved from ``app.api.exports``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.checks.visibility import WITHHELD_STATUS, WITHHELD_ZH

VERDICTS = {"meets_target": "达到目标", "below_target": "低于目标", "no_target": "未设目标", "insufficient_data": "数据不足",
            "incomplete": "待补充数据（低于目标，缺数据宗地可能改变结论）", WITHHELD_STATUS: WITHHELD_ZH}


def _dec(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def _qv(q: dict | None) -> Decimal | None:
    return None if q is None else _dec(q["value"])


EVAL_COLUMNS = [("序号", None), ("宗地代码", None), ("受让人统一社会信用代码", None), ("宗地面积", "亩"), ("计入面积", "亩"),
                ("计入税收", "万元"), ("亩均税收", "万元/亩"), ("低于园区亩均", None), ("类型", None), ("说明", None)]


def _by_category(ev: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for cat in ev["land"]["by_category"].values():
        for code in cat["parcels"]:
            out.setdefault(code, []).append(cat["label"])
    return out


def evaluation_rows(ev: dict) -> list[list[Any]]:
    t = ev["tax_per_mu"]
    labels = _by_category(ev)
    below = {p["code"] for p in ev["pulling_down"]}
    items = []
    for p in t["parcels_counted"]:
        shared = p["inputs"].get("shared_with") or []
        note = (f"纳税人另有 {len(shared)} 宗用地（{'、'.join(shared)}），税收按面积分摊" if shared else "")
        items.append((p["code"], [p["code"], p["inputs"].get("uscc"), _qv(p["area"]), _qv(p["area"]),
                                  _qv(p["allocated_tax"]), _qv(p["tax_per_mu"]), "是" if p["code"] in below else "否",
                                  "、".join(labels.get(p["code"], [])), note]))
    for p in t.get("parcels_zero", []):
        # No record: in the park figure with 0 and its reason (only data_missing is unknown tax).
        what = "缺少税收数据，计为 0（补齐后结论可能改变）" if p["reason"] == "data_missing" else f"{p['reason_label']}，计为 0"
        items.append((p["code"], [p["code"], p.get("transferee_uscc"), _qv(p["area"]), _qv(p["area"]), Decimal(0), Decimal(0),
                                  "是" if p["code"] in below else "否", "、".join(labels.get(p["code"], [])),
                                  f"{what}：{p['message']}"]))
    for p in t.get("parcels_withheld", []):
        # Neither the taxpayer nor any figure: the row says only that it is withheld.
        items.append((p["code"], [p["code"], WITHHELD_ZH, _qv(p["area"]), None, WITHHELD_ZH, WITHHELD_ZH, WITHHELD_ZH,
                                  "、".join(labels.get(p["code"], [])), f"税收数据{WITHHELD_ZH}，本行不显示"]))
    items.sort(key=lambda x: x[0])
    return [[n, *row] for n, (_, row) in enumerate(items, start=1)]
