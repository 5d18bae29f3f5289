"""Parcels in and out of a workbook: the sheet an officer uploads to register a park's parcels, and
the registered parcels written back as a sheet that reads back unchanged."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.formats.excel import _closed_values, _plain, read_sheet, rows_to_requests, write_table

PARCEL_COLUMNS = [("code", "宗地代码", None), ("area", "面积", "area"), ("use", "用途", None),
                  ("supply_status", "供应状态", None), ("approval.document", "批准文号", None),
                  ("approval.date", "批准日期", None), ("contract_no", "合同编号", None), ("supplied_on", "供地日期", None),
                  ("supervision_no", "电子监管号", None), ("location", "坐落", None), ("note", "备注", None)]


def parcel_rows(data: bytes, park_id: str) -> tuple[list[dict], list[int]]:
    """A parcels sheet as ParcelIn dicts for ``park_id``, with the sheet row numbers."""
    columns, rows = read_sheet(data, "parcel")
    pairs = rows_to_requests(columns, rows, "parcel")
    return [{**r, "park": park_id} for _, r in pairs], [n for n, _ in pairs]


def _value_label(field: str, v: Any) -> Any:
    """A closed code (``approved_unsupplied``) as the Chinese label that ``rows_to_requests`` reads
    back to the same code (the longest of its aliases: 批而未供, 工业用地)."""
    labels = [label for label, code in _closed_values().get(field, {}).items() if code == v]
    return max(labels, key=len) if labels else v


def parcels_sheet(documents: list[dict], title: str) -> bytes:
    """Registered parcels (their stored request documents) as a sheet ``parcel_rows`` reads back.
    Areas keep their own unit: one column per unit used."""
    units_used: list[str] = []
    for d in documents:
        u = d["area"].get("unit")
        if u not in units_used:
            units_used.append(u)
    cols: list[tuple[str, str | None]] = []
    for _field, header, kind in PARCEL_COLUMNS:
        if kind == "area":
            cols += [(header, u) for u in units_used]
        else:
            cols.append((header, None))
    rows, total = [], {u: Decimal(0) for u in units_used}
    for d in documents:
        row: list[Any] = []
        for field, _, kind in PARCEL_COLUMNS:
            if kind == "area":
                for u in units_used:
                    hit = d["area"].get("unit") == u
                    row.append(_plain(str(d["area"]["value"])) if hit else None)
                    if hit:
                        total[u] += Decimal(str(d["area"]["value"]))
                continue
            v: Any = d
            for part in field.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            row.append(_value_label(field, v))
        rows.append(row)
    totals = {1 + i: total[u] for i, u in enumerate(units_used)}
    return write_table(title, cols, rows, totals=totals, sheet="parcels")
