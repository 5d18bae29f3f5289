"""Shared helpers for the web pages: the template object, field-error mapping and number display."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
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


def fmt(value: Any) -> str:
    """A Decimal-like value for display: thousands separators, no float rounding, no exponent."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return " – ".join(fmt(v) for v in value)
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not d.is_finite():
        return str(value)
    sign, digits, exp = d.as_tuple()
    text = f"{abs(d):f}"
    whole, _, frac = text.partition(".")
    whole = f"{int(whole):,}"
    return ("-" if sign and d != 0 else "") + whole + (f".{frac}" if frac else "")


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
templates.env.filters["show"] = show
templates.env.filters["safe_url"] = safe_url
templates.env.filters["local_time"] = clock.local_text     # stored UTC → the configured zone (北京时间)


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> HTMLResponse:
    """Render ``name`` with the shared base context (the request and the page's own values)."""
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code)
