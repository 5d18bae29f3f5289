"""Excel in and out (openpyxl).

Import: a sheet with one header row, Chinese or ASCII headers (indicators/excel_headers.yaml,
plus every catalog id and label), units in the headers.  Every bad row is reported with
its row number and column; nothing is returned from a sheet with any problem.
Export: a sheet as an officer would print it — title row, frozen header, units in the
headers, a totals row where the columns add up.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from app.core.errors import InputError, Problem
from app.formats import workbook
from indicators.catalog import Catalog, known_labels, load_catalog

HEADERS = Path(__file__).resolve().parents[2] / "indicators" / "excel_headers.yaml"
MAX_ROWS = 100_000
# Rows a sheet may have below its header, by kind: as many as one request of that kind takes
# (app.schemas.tax.MAX_RECORDS; app.api.checks.MAX_BATCH; 10,000 parcels in POST /v1/parks:import).
ROW_LIMITS = {"tax": MAX_ROWS, "proposal": 10_000, "parcel": 10_000}
MAX_TITLE_ROWS = 20     # rows above the header (a title, notes)
_UNIT = re.compile(r"^(.*?)\s*[（(\[【]\s*([^）)\]】]+?)\s*[）)\]】]\s*$")


# A totals row (our exports add one) is not data.
SUMMARY_ROWS = ("合计", "总计")


def split_header(h: str) -> tuple[str, str | None]:
    m = _UNIT.match(h.strip())
    return (m.group(1).strip(), m.group(2).strip()) if m else (h.strip(), None)


@cache
def header_map(kind: str) -> dict[str, str]:
    """Header name (without unit) → dotted field, for a sheet kind (proposals: the base catalog)."""
    raw = yaml.safe_load(HEADERS.read_text(encoding="utf-8"))[kind]
    out = {alias: field for field, aliases in raw.items() for alias in aliases}
    if kind == "proposal":
        out = catalog_headers(load_catalog(), out)
    return out


def catalog_headers(cat: Catalog, names: dict[str, str]) -> dict[str, str]:
    """``names`` and every measure and indicator of ``cat`` under its key and its Chinese label
    (without a bracketed note); a name already taken keeps its field."""
    out = dict(names)
    for mid, m in cat.measures.items():
        out.setdefault(mid, f"measures.{mid}")
        out.setdefault(split_header(m.label)[0], f"measures.{mid}")
    for iid, ind in cat.indicators.items():
        out.setdefault(iid, f"indicators.{iid}")
        out.setdefault(split_header(ind.label)[0], f"indicators.{iid}")
    return out


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def read_sheet(data: bytes, kind: str, names: dict[str, str] | None = None
               ) -> tuple[list[tuple[str, str, str | None]], list[tuple[int, list[Any]]]]:
    """Columns [(header, field, unit)] and rows [(row number, values)] of the first sheet.
    Read by ``app.formats.workbook.read``: the archive checked first, the sheet streamed in a worker
    process (blocks: call from a thread, not the event loop).  ``names``: the headers accepted
    (default ``header_map(kind)``; passed to the worker, which knows no published catalog)."""
    return workbook.read(data, sheet_from_rows, kind, names)


def sheet_from_rows(rows: Iterator[tuple[int, list[Any]]], kind: str, names: dict[str, str] | None = None
                    ) -> tuple[list[tuple[str, str, str | None]], list[tuple[int, list[Any]]]]:
    """``read_sheet`` from the rows of ``app.formats.workbook.sheet_rows``.  Every row below the header
    counts against the kind's cap, blank and 合计 rows too: the cap bounds the work, not only the
    data kept."""
    cap = ROW_LIMITS[kind]
    header_row, header_no, seen = None, 0, 0
    for n, row in rows:
        # The header is the first row with two or more cells: a title row above it has one.
        if sum(_cell(v) is not None for v in row) >= 2:
            header_row, header_no = row, n
            break
        seen += 1
        if seen >= MAX_TITLE_ROWS:
            raise InputError([Problem("file", f"前 {MAX_TITLE_ROWS} 行中没有表头（至少有两个非空单元格的一行） "
                                              f"(no header row in the first {MAX_TITLE_ROWS} rows)")])
    if header_row is None:
        raise InputError([Problem("file", "工作表为空 (the sheet is empty)")])
    names = names if names is not None else header_map(kind)
    columns, problems = [], []
    for i, h in enumerate(header_row):
        h = _cell(h)
        if h is None:
            columns.append(("", "", None))
            continue
        name, unit = split_header(str(h))
        field = names.get(name)
        if field is None:
            col = get_column_letter(i + 1)
            problems.append(Problem(f"header.{col}", f"第 {header_no} 行 {col} 列：未知列名 {h!r}"))
        columns.append((str(h), field or "", unit))
    if problems:
        raise InputError(problems)
    width = len(header_row)
    body = []
    for count, (n, row) in enumerate(rows, start=1):
        if count > cap:
            raise InputError([Problem("file", f"表头以下超过 {cap} 行（空行和合计行也计入），请删除多余的行或拆分后分批上传 "
                                              f"(more than {cap} rows below the header, blank and total rows included)")])
        values = [_cell(v) for v in row[:width]]
        if all(v is None for v in values) or values[0] in SUMMARY_ROWS:
            continue
        body.append((n, values))
    return columns, body


def _set(obj: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        obj = obj.setdefault(p, {})
    obj[parts[-1]] = value


def _number(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float | Decimal):
        return str(Decimal(str(v)))
    if isinstance(v, str):
        try:
            return str(Decimal(v.replace(",", "")))
        except InvalidOperation:
            return v
    return v


QUANTITY_PREFIXES = ("measures.", "indicators.")


@cache
def _closed_values() -> dict[str, dict[str, str]]:
    return yaml.safe_load(HEADERS.read_text(encoding="utf-8")).get("values", {})
# Yes/no cells; anything else is passed on and refused by the request model with its row.
YES_NO = {"是": True, "否": False, "true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def rows_to_requests(columns, rows, kind: str, cat: Catalog | None = None) -> list[tuple[int, dict]]:
    """Each row as a request dict (quantities with their header's unit).  ``cat``: whose boolean
    indicators are yes/no cells (default the base catalog)."""
    cat = cat if cat is not None else load_catalog()
    out = []
    for n, values in rows:
        req: dict = {}
        for (_header, field, unit), v in zip(columns, values, strict=False):
            if not field or v is None:
                continue
            if isinstance(v, dt.datetime):
                v = v.date()
            if isinstance(v, dt.date):
                v = v.isoformat()
            ind = cat.indicators.get(field.split(".", 1)[1]) if field.startswith("indicators.") else None
            if ind is not None and ind.is_boolean:
                v = {"value": YES_NO.get(str(v).strip().lower(), v)}
            elif field in _closed_values():
                v = _closed_values()[field].get(str(v), v)
            elif field.startswith(QUANTITY_PREFIXES) or field in ("land_area", "tax_paid", "policy_refunds", "area"):
                v = {"value": _number(v), **({"unit": unit} if unit else {})}
            elif field in ("year",):
                v = int(v) if isinstance(v, int | float) and float(v).is_integer() else v
            elif field == "tax_region" and isinstance(v, int | float) and float(v).is_integer():
                v = str(int(v))          # a code typed as a number: 411202, not 411202.0
            else:
                v = str(v) if not isinstance(v, str) else v
            _set(req, field, v)
        out.append((n, req))
    return out


def row_problems(n: int, columns, path_problems: list[Problem], prefix: str = "rows") -> list[Problem]:
    """Problems of one row, with its row number and the column the field came from."""
    by_field = {field: header for header, field, _ in columns if field}
    out = []
    for p in path_problems:
        column = next((h for f, h in by_field.items() if p.path == f or p.path.startswith(f + ".")), None)
        where = f"第 {n} 行" + (f"「{column}」列" if column else "")
        out.append(Problem(f"{prefix}.{n}.{p.path}".rstrip("."), f"{where}：{p.msg}"))
    return out


# ---------------------------------------------------------------- export

# Texts a spreadsheet would evaluate (OWASP CSV injection): "=" starts a formula, and Excel or
# LibreOffice also read "+", "-", "@" and a leading tab or CR as the start of one on entry.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(cell: Any) -> None:
    """Keep a cell holding a ``str`` a text cell, whatever it starts with: openpyxl writes
    "=…" as a formula and "#N/A" as an error.  A text that a spreadsheet would evaluate when
    edited also gets the quotePrefix style (Excel's leading apostrophe, which is not part of
    the value), so the stored value is unchanged and an import reads it back as it was."""
    if not isinstance(cell.value, str):
        return
    cell.data_type = "s"
    if cell.value.startswith(FORMULA_START):
        cell.quotePrefix = True


def append_row(ws: Any, values: list[Any]) -> None:
    """``ws.append`` with every text kept as text (``text_cell``): the one way the service
    writes a row into any workbook."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        text_cell(cell)


# Numbers are written exact (the cell keeps every digit: an export read back gives the same value)
# and shown with at most 2 decimals by the cell's number format, as officers read them.
NUMBER_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"       # a fraction (0.0302) shown as 3.02%


def number_text(v: Any, places: int = 2) -> str:
    """A computed figure in a sentence (a note under the table): at most ``places`` decimals,
    rounded half-up, no separators (9.846894 → 9.85; 12.5 → 12.5); None → 无."""
    if v is None or v == "":
        return "无"
    try:
        d = Decimal(str(v))
    except (InvalidOperation, ValueError):
        return str(v)
    if d.is_finite() and isinstance(exp := d.as_tuple().exponent, int) and exp < -places:
        d = d.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return f"{d:f}"


def _format_numbers(cells: Any, formats: dict[int, str]) -> None:
    for i, cell in enumerate(cells):
        if isinstance(cell.value, float) or (isinstance(cell.value, int) and i in formats):
            cell.number_format = formats.get(i, NUMBER_FORMAT)


def write_table(title: str, columns: list[tuple[str, str | None]], rows: list[list[Any]],
                totals: dict[int, Any] | None = None, sheet: str = "Sheet1", notes: list[str] | None = None,
                formats: dict[int, str] | None = None) -> bytes:
    """One sheet: a title row, the header (units in brackets), frozen panes, the rows, a totals row.
    Every text is written as text, never as a formula (``append_row``).  Every non-integer number
    gets ``NUMBER_FORMAT`` (2 decimals shown, the value exact) unless ``formats`` gives its column
    (0-based) another format; integers (序号, 排名, counts) stay as they are."""
    formats = formats or {}
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    append_row(ws, [title])
    ws["A1"].font = Font(bold=True, size=14)
    headers = [f"{h}（{u}）" if u else h for h, u in columns]
    append_row(ws, headers)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for i in range(1, len(headers) + 1):
        c = ws.cell(row=2, column=i)
        c.font, c.fill, c.alignment = Font(bold=True), fill, Alignment(wrap_text=True, vertical="center")
    for r in rows:
        append_row(ws, [_excel_value(v) for v in r])
        _format_numbers(ws[ws.max_row], formats)
    if totals:
        total_row = ["合计"] + [None] * (len(headers) - 1)
        for i, v in totals.items():
            total_row[i] = _excel_value(v)
        append_row(ws, total_row)
        _format_numbers(ws[ws.max_row], formats)
        for i in range(1, len(headers) + 1):
            ws.cell(row=ws.max_row, column=i).font = Font(bold=True)
    for note in notes or []:
        append_row(ws, [note])
    ws.freeze_panes = "A3"
    for i, h in enumerate(headers, start=1):
        width = max([len(str(h)) * 2] + [len(str(r[i - 1])) + 2 for r in rows[:200] if i - 1 < len(r)])
        ws.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 60)
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _excel_value(v: Any) -> Any:
    """Decimal text stays exact: numbers are written as text-free Decimals where exact."""
    if isinstance(v, Decimal):
        return float(v) if v == Decimal(str(float(v))) else str(v)
    return v


# ---------------------------------------------------------------- proposals and tax records

def proposal_requests(data: bytes, with_rows: bool = False, session: Session | None = None) -> list:
    """Every row of a proposals sheet as a ProposalRequest; InputError listing every bad row
    (format and value problems: units, bounds).  ``with_rows`` also returns the row numbers.

    ``session``: the columns of every published catalog document are accepted (by key or Chinese
    label), and each row is checked against the catalog in force on its own ``as_of`` — a column of
    a document not in force that day is refused in that row.  Without one: the base catalog."""
    from pydantic import ValidationError

    from app.checks import indicator_catalog
    from app.checks.proposal_normalise import normalise
    from app.core.errors import pydantic_problems
    from app.schemas.proposal import ProposalRequest

    every = indicator_catalog.declared(session) if session is not None else load_catalog()
    names = catalog_headers(every, header_map("proposal")) if session is not None else None
    columns, rows = read_sheet(data, "proposal", names)
    out, numbers, problems = [], [], []
    by_date: dict = {}          # the catalog in force, once per date of the sheet (up to 10,000 rows)

    def catalog_on(day):
        if session is None:
            return None
        if day not in by_date:
            by_date[day] = indicator_catalog.in_force(session, day)[0]
        return by_date[day]

    for n, raw in rows_to_requests(columns, rows, "proposal", every):
        try:
            req = ProposalRequest.model_validate(raw)
            normalise(req, catalog_on(req.as_of))
        except ValidationError as e:
            problems += row_problems(n, columns, pydantic_problems(e))
            continue
        except InputError as e:
            problems += row_problems(n, columns, e.problems)
            continue
        out.append(req)
        numbers.append(n)
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError([Problem("file", "没有数据行 (no data rows)")])
    return (out, numbers) if with_rows else out


def by_row(p: Problem, row_numbers: list[int], prefix: str) -> Problem:
    """``items.3.x`` / ``records.3.x`` → ``rows.<sheet row>.x`` with the row in the message."""
    parts = p.path.split(".")
    if len(parts) > 1 and parts[0] == prefix and (parts[1].isascii() and parts[1].isdigit()) and int(parts[1]) < len(row_numbers):
        n = row_numbers[int(parts[1])]
        return Problem(".".join(["rows", str(n), *parts[2:]]), f"第 {n} 行：{p.msg}")
    return p


def tax_records(data: bytes, batch_id: str) -> tuple[dict, list[int]]:
    """A tax-records sheet validated as the JSON batch is (``app.schemas.tax.parse_batch``), with
    problems reported by sheet row; also the sheet row number of each record.  All of it runs in
    the reader's worker process: for 100,000 rows the conversion and validation hold the GIL for
    seconds in long single calls (the JSON text of the batch, its validation), which in the server
    would stall the event loop."""
    return workbook.read(data, _tax_records_from_rows, batch_id)


def _tax_records_from_rows(rows: Iterator[tuple[int, list[Any]]], batch_id: str) -> tuple[dict, list[int]]:
    from app.schemas import tax

    columns, body = sheet_from_rows(rows, "tax")
    pairs = rows_to_requests(columns, body, "tax")
    numbers = [n for n, _ in pairs]
    batch = {"batch_id": batch_id, "records": [r for _, r in pairs]}
    try:
        return tax.parse_batch(json.dumps(batch, ensure_ascii=False, default=str).encode("utf-8")), numbers
    except InputError as e:
        raise InputError([by_row(p, numbers, "records") for p in e.problems]) from None


def proposals_sheet(requests: list[dict], title: str = "出让方案（标准地控制指标）") -> bytes:
    """Proposals as a sheet that ``proposal_requests`` reads back to the same requests.
    A quantity gets one column per unit used, so no value is converted."""
    cat = load_catalog()
    flat_rows: list[dict[tuple[str, str | None], Any]] = []
    order: list[tuple[str, str | None]] = []
    for req in requests:
        flat: dict[tuple[str, str | None], Any] = {}

        def put(field: str, value: Any, unit: str | None = None, flat: dict = flat) -> None:
            key = (field, unit)
            if key not in order:
                order.append(key)
            flat[key] = value

        for field in ("reference", "ruleset", "as_of", "jurisdiction"):
            if req.get(field) is not None:
                put(field, req[field])
        if req.get("industry"):
            put("industry.code", req["industry"]["code"])
            put("industry.classification", req["industry"].get("classification", "GB/T 4754-2017"))
        put("land_area", req["land_area"]["value"], req["land_area"].get("unit"))
        for group in ("measures", "indicators"):
            for k, q in (req.get(group) or {}).items():
                if isinstance(q, dict) and "value" in q:
                    ind = cat.indicators.get(k) if group == "indicators" else None
                    value = ("是" if q["value"] else "否") if ind is not None and ind.is_boolean else q["value"]
                    put(f"{group}.{k}", value, q.get("unit"))
        flat_rows.append(flat)
    header_of = {field: aliases[0] for aliases, field in _first_alias("proposal").items()}
    labels = known_labels()

    def header(f: str) -> str:
        # a catalog field without an alias: its Chinese label (read back by ``catalog_headers``), never its key
        if f in header_of:
            return header_of[f]
        key = f.split(".")[-1]
        return split_header(labels[key])[0] if f.startswith(QUANTITY_PREFIXES) and key in labels else key

    columns = [(header(f), u) for f, u in order]
    # Only quantities become numbers: a reference, jurisdiction or industry code stays text
    # ("0612" must not come back as 612).
    numeric = [f == "land_area" or f.startswith(QUANTITY_PREFIXES) for f, _ in order]
    rows = [[_plain(r.get(key)) if num else r.get(key) for key, num in zip(order, numeric, strict=True)]
            for r in flat_rows]
    return write_table(title, columns, rows, sheet="proposals")


def _first_alias(kind: str) -> dict[tuple[str, ...], str]:
    raw = yaml.safe_load(HEADERS.read_text(encoding="utf-8"))[kind]
    return {tuple(aliases): field for field, aliases in raw.items()}


def _plain(v: Any) -> Any:
    """Numbers as exact Decimals (written as numbers when a float holds them exactly)."""
    if isinstance(v, str):
        try:
            d = Decimal(v)
            return d if d.is_finite() and re.fullmatch(r"-?\d+(\.\d+)?", v) else v
        except InvalidOperation:
            return v
    return v
