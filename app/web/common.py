"""Shared helpers for the web pages: the template object, field-error mapping and number display."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from app.access.auth import presented_key
from app.core import clock
from app.core.errors import Problem
from app.web.security import TOKEN_FIELD, csrf_token

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))

_CJK = re.compile(r"[\u4e00-\u9fff]")

# pydantic's English messages, by their opening words, in Chinese.  A message that
# already carries Chinese (most of ours do) is shown as it is.
_ZH = [
    ("Field required", "必填项"),
    ("Input should be a valid decimal", "请输入有效的数字"),
    ("Decimal input should be", "请输入有效的数字"),
    ("Input should be a finite number", "请输入有限的数字"),
    ("Input should be a valid number", "请输入有效的数字"),
    ("Input should be a valid integer", "请输入整数"),
    ("Input should be a valid date", "请输入有效日期（YYYY-MM-DD）"),
    ("Input should be a valid datetime", "请输入有效的日期时间"),
    ("Input should be a valid boolean", "请选择是或否"),
    ("String should match pattern", "格式不正确"),
    ("String should have at least", "内容过短"),
    ("String should have at most", "内容过长"),
    ("Input should be greater than or equal", "数值过小"),
    ("Input should be less than or equal", "数值过大"),
    ("Extra inputs are not permitted", "不允许的字段"),
    ("Input should be a valid dictionary", "格式不正确，应为对象"),
    ("Input should be a valid list", "格式不正确，应为列表"),
    ("Input should be a valid string", "应为文本"),
    ("Input should be", "取值不在允许范围内"),
]


def zh_message(msg: str) -> str:
    """The problem message in Chinese: as it is if it has Chinese already, else translated."""
    if _CJK.search(msg):
        return msg
    for prefix, zh in _ZH:
        if msg.startswith(prefix):
            return f"{zh}（{msg}）"
    return f"输入无效（{msg}）"


def field_errors(problems: list[Problem], fields: set[str] | list[str]) -> tuple[dict[str, list[str]], list[dict]]:
    """Split problems into those shown next to a form field and those for the summary box.

    A problem path such as ``indicators.plot_ratio`` (the whole quantity) belongs to the
    form field ``indicators.plot_ratio.value``; a path below a field belongs to that field.
    Returns ({field name: [Chinese messages]}, [{"path", "msg"} for the summary])."""
    names = set(fields)
    by_field: dict[str, list[str]] = {}
    summary: list[dict] = []
    for p in problems:
        target = _field_for(p.path, names)
        msg = zh_message(p.msg)
        if target is None:
            summary.append({"path": p.path, "msg": msg})
        elif msg not in by_field.setdefault(target, []):
            by_field[target].append(msg)
    return by_field, summary


def _field_for(path: str, names: set[str]) -> str | None:
    parts = path.split(".") if path else []
    while parts:
        cand = ".".join(parts)
        for name in (cand, cand + ".value"):
            if name in names:
                return name
        parts = parts[:-1]
    return None


_KEY = re.compile(r"[0-9A-Za-z][0-9A-Za-z._\-]{0,63}")


def plain_key(value: str) -> bool:
    """An id or version as rule sets and decisions spell them.  Anything else cannot exist, so
    a page answers 404 without asking the database (PostgreSQL refuses NUL bytes with an error)."""
    return bool(_KEY.fullmatch(value))


_FRACTION = re.compile(r"-?\d+/\d+")


def _decimal(value: Any) -> Decimal | None:
    """A Decimal, Decimal text or exact fraction text (a ratio ``3137149/6651200``) as a Decimal
    (a fraction to 28 digits: for display only); None for anything else."""
    text = str(value)
    if _FRACTION.fullmatch(text):
        num, den = Fraction(text).as_integer_ratio()
        return Decimal(num) / Decimal(den)
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def fmt(value: Any, places: int | None = 2) -> str:
    """A Decimal-like value for display: thousands separators, no float rounding, no exponent, and
    at most ``places`` decimals, rounded half-up (a computed 亩均税收 9.846894 shows as 9.85; 12.5
    stays 12.5).  The API keeps the exact figure; pages only show it rounded.  ``places=None``
    shows every digit: see ``fmt_exact``."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return " – ".join(fmt(v, places) for v in value)
    d = _decimal(value)
    if d is None or not d.is_finite() or (places is None and _FRACTION.fullmatch(str(value))):
        return str(value)
    exp = d.as_tuple().exponent
    if places is not None and isinstance(exp, int) and exp < -places:
        d = d.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    text = f"{abs(d):f}"
    whole, _, frac = text.partition(".")
    whole = f"{int(whole):,}"
    return ("-" if d.is_signed() and d != 0 else "") + whole + (f".{frac}" if frac else "")


def fmt_exact(value: Any) -> str:
    """Rule text as written in a rule set or contract (a threshold, a benchmark, a daily rate):
    every digit, never rounded — rounding 0.0005 or a benchmark 24.097 would misquote the rule."""
    return fmt(value, None)


def as_written(value: Any) -> str:
    """A contract or rule value as written: a text (a code, a date, 411202) unchanged, a number
    every digit (``fmt_exact``), a range as ``a – b``, a flag 是/否."""
    if isinstance(value, list | tuple):
        return " – ".join(as_written(v) for v in value)
    if isinstance(value, str):
        return value
    return fmt_exact(value)


def percent(value: Any, places: int = 2) -> str:
    """A fraction (unit ``fraction``, 0.0302) as a percentage with at most ``places`` decimals
    (3.02%): officers read shares as percentages."""
    if value is None or value == "":
        return "—"
    d = _decimal(value)
    return f"{fmt(d * 100, places)}%" if d is not None and d.is_finite() else str(value)


def zone_label() -> str:
    """What the shown times are: 北京时间 in the default zone (Asia/Shanghai), else the zone's name."""
    name = str(clock.zone())
    return "北京时间" if name in ("Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC") else name


def beijing(value: Any, label: bool = True) -> str:
    """A stored UTC time (ISO text or datetime; stored times stay UTC) shown in the service's zone
    (``app.core.clock``, Beijing time by default) to the minute, with the label:
    ``2024-03-01T02:05:09.123+00:00`` → ``2024-03-01 10:05（北京时间）``.  A time without an offset
    is UTC (as the store writes them)."""
    if value is None or value == "":
        return "—"
    text = clock.local_text(value, timespec="minutes")
    if text == value:       # not a time: shown as it is
        return str(value)
    return f"{text}（{zone_label()}）" if label else text


# Units as the pages show them (the value sent with the form stays the API's unit).
UNIT_LABELS = {"fraction": "比值"}


def unit_label(unit: Any) -> str:
    return UNIT_LABELS.get(unit, unit) if isinstance(unit, str) else ("" if unit is None else str(unit))


# ---------------------------------------------------------------- identifiers in messages → Chinese

# Field paths, rule ids and option codes (``penalties.late_start_permille``, ``tax_per_mu_min``,
# ``pay_difference``) reach some messages of the check functions; pages show them in Chinese.
# Page modules add their label maps (``register_terms``); the indicator catalog gives the rest.
TERMS: dict[str, str] = {"min": "下限", "max": "上限", "tax_records": "税收记录", "contract_no": "合同编号",
                         "park_average": "园区亩均税收", "calendar_year": "自然年度"}
_IDENT = re.compile(r"(?<![\w./:-])[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+(?![\w/-])")
_STATUS_NOTE = re.compile(r"\s*[（(]status: [a-z_]+[）)]")      # 为示例数据（status: example） → 为示例数据
_GLOSS = re.compile(r"\s*\(([^()（）\u4e00-\u9fff]*[a-z]{3,}[^()（）\u4e00-\u9fff]*)\)")


def register_terms(labels: dict[str, str]) -> None:
    """Add a page module's code → label map to the identifiers ``zh_text`` translates."""
    TERMS.update({k: v for k, v in labels.items() if isinstance(k, str) and isinstance(v, str)})


def _catalog_terms() -> dict[str, str]:
    from indicators.catalog import known_labels

    # the label without its bracketed note (总建筑面积（未按层高折算…）→ 总建筑面积); catalog additions
    # published since start-up too (their keys reach messages as the base's do)
    labels = known_labels()
    if len(labels) != _TERMS_CACHE.get("n"):
        _TERMS_CACHE.update(n=len(labels), terms={key: re.sub(r"[（(].*$", "", label) for key, label in labels.items()})
    return _TERMS_CACHE["terms"]  # type: ignore[return-value]


_TERMS_CACHE: dict[str, object] = {}


def _label(token: str) -> str | None:
    return TERMS.get(token) or _catalog_terms().get(token)


def term(token: str) -> str | None:
    """The Chinese label of a code or dotted field path (each part labelled), or None."""
    if found := _label(token):
        return found
    bound = re.fullmatch(r"(.+)_(min|max)", token)
    if bound and (base := _label(bound.group(1))):
        return base + TERMS[bound.group(2)]
    parts = token.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = _label(".".join(parts[:cut]))
        if head:
            rest = [term(p) for p in parts[cut:]]
            return "·".join([head, *(r for r in rest if r)]) if all(rest) else None
    return None


def zh_text(value: Any) -> str:
    """A message for the page: codes and field paths as their Chinese labels, and an English gloss
    in brackets after the Chinese (``逾期天数 (days)``) left out."""
    if value is None:
        return ""
    text = _GLOSS.sub("", _STATUS_NOTE.sub("", str(value)))
    return _IDENT.sub(lambda m: term(m.group(0)) or m.group(0), text)


def show(value: Any) -> str:
    """A document value (diffs, thresholds) as compact JSON with Chinese left readable."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def safe_url(value: Any) -> str | None:
    """A stored URL fit for ``href``: http(s) only, else None (the template shows text instead).
    Every stored URL rendered as a link goes through this filter — also one that reached the store
    before validation refused other schemes."""
    from app.rulesets.document import web_url

    return value if isinstance(value, str) and web_url(value) else None


def csrf_field(request: Request, action: str) -> Markup:
    """The hidden token input of a form posting to ``action`` (``app.web.security``): put
    ``{{ csrf_field(request, "/the/action") }}`` in every ``method="post"`` form."""
    token = csrf_token(presented_key(request), action)
    return Markup(f'<input type="hidden" name="{TOKEN_FIELD}" value="{token}">')


templates.env.globals["csrf_field"] = csrf_field
templates.env.filters["fmt"] = fmt
templates.env.filters["fmt_exact"] = fmt_exact
templates.env.filters["as_written"] = as_written
templates.env.filters["percent"] = percent
templates.env.filters["beijing"] = beijing
templates.env.filters["unit_label"] = unit_label
templates.env.filters["zh"] = zh_text
templates.env.filters["show"] = show
templates.env.filters["safe_url"] = safe_url


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> HTMLResponse:
    """Render ``name`` with the shared base context (the request and the page's own values)."""
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code)
