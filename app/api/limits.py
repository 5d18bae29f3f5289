"""Hostile-input limits, enforced on the raw request before anything parses it.

The rule engine segfaults on multi-MiB keys and ids and Python's JSON parser recurses once per
nesting level (docs/engine.md), so size and depth are refused here, ahead of FastAPI, pydantic
and the engine:

- body size per route class (``ROUTE_LIMITS``; default ``DEFAULT_LIMIT``): 413, also for a
  chunked body without Content-Length — the bytes are counted as they arrive;
- for JSON under ``/v1``: a declared non-JSON Content-Type → 415; bytes that are not UTF-8 →
  422; a NUL character (``\\u0000``), nesting deeper than ``MAX_DEPTH`` or an integer longer
  than Python parses → 422; on single-object routes a key given twice in one object → 422
  (bulk routes parse their body once, in the endpoint, and are not re-parsed here for that);
- a NUL in a path → 404, in a query → 422 (PostgreSQL text cannot hold NUL); on the pages also in
  a form body → 422, each with a Chinese error page;
- ``document(app)`` adds those statuses (and 404 where a path names a stored object) to the
  OpenAPI schema, so that clients and schemathesis know every answer an operation can give.

String lengths, number sizes and non-finite numbers are refused by the request models
(``max_length``, ``allow_inf_nan=False``, ``app.schemas.proposal.MAX_ABS``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware

from app.core.input_limits import MAX_DEPTH, MAX_DIGITS, duplicate_key, too_deep, too_many_digits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Page = Callable[[int, str, str], bytes]     # (status, title, detail) → the HTML page

MiB = 1024 * 1024
DEFAULT_LIMIT = 1 * MiB
UPLOAD_LIMIT = 51 * MiB        # a 50 MiB .xlsx (app.api.checks.MAX_UPLOAD) plus multipart framing

# Measured with the bench generators (bench/checks.py, bench/tax.py): 10,000 proposals are 6 MiB
# (10 MiB indented; 30–35 MiB with every measure, indicator, floors, a waiver and a reference);
# 100,000 tax records 11.5 MiB (18.7 MiB indented).  The caps leave room for pretty-printed JSON.
ROUTE_LIMITS: dict[str, int] = {
    "/v1/checks/proposal:batch": 64 * MiB,
    "/v1/tax-records": 32 * MiB,       # 100,000 records (app.schemas.tax.MAX_RECORDS)
    "/v1/scoring/runs": 32 * MiB,      # 50,000 enterprises (app.checks.scoring.MAX_ENTERPRISES)
    "/v1/parks:import": 32 * MiB,      # 10,000 parcels
    "/v1/contracts/*/events": 4 * MiB,  # 1,000 events with notes
    # Web forms (app/web): the pasted scoring population, a rule-set YAML of up to 1 MiB (MAX_YAML)
    # sent as a file or pasted, form-encoded.
    "/parks/scoring": 32 * MiB,
    "/rulesets/upload": 4 * MiB,
}
BULK = frozenset(ROUTE_LIMITS)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def route_class(path: str) -> str | None:
    """The ``ROUTE_LIMITS`` key of a path, ``"upload"`` for a spreadsheet upload, else None."""
    if path.endswith(":xlsx"):
        return "upload"
    if path in ROUTE_LIMITS:
        return path
    parts = path.split("/")
    if len(parts) == 5 and parts[1:3] == ["v1", "contracts"] and parts[4] == "events":
        return "/v1/contracts/*/events"
    return None


def body_limit(path: str) -> int:
    cls = route_class(path)
    if cls == "upload":
        return UPLOAD_LIMIT
    return ROUTE_LIMITS.get(cls or "", DEFAULT_LIMIT)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


# ---------------------------------------------------------------- middleware

def _problem(msg: str, typ: str) -> dict:
    return {"detail": [{"loc": ["body"], "path": "", "msg": msg, "type": typ}]}


class LimitsMiddleware:
    """Reads the whole body (up to the route's cap), checks it, then hands it on unchanged."""

    def __init__(self, app: Callable, page: Page) -> None:
        self.app = app
        self.page = page        # the pages' Chinese error page (app.web.security.refused_page), given by app.main

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        api = path.startswith("/v1/")
        # PostgreSQL text cannot hold NUL: an id or parameter with one could only fail in the driver.
        # The same for the pages (which answer with a Chinese page).
        if "\x00" in path:
            if api:
                await _json(send, 404, {"detail": "未找到 (not found: the path contains a NUL character)"})
            else:
                await _page(send, self.page, 404, "未找到", "网址中含有 NUL 字符（\\0），没有这样的页面。")
            return
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            if api:
                await _json(send, 422, {"detail": [{"loc": ["query"], "path": "", "type": "nul_character",
                                                    "msg": "查询参数含 NUL 字符 (a query parameter contains NUL)"}]})
            else:
                await _page(send, self.page, 422, "输入无效", "查询参数中含有 NUL 字符（\\0），请去掉后重试。")
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = body_limit(path)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        length = headers.get("content-length")
        if length is not None and (not (length.strip().isascii() and length.strip().isdigit()) or int(length) > limit):
            if not (length.strip().isascii() and length.strip().isdigit()):
                await _json(send, 400, {"detail": "Content-Length 无效 (invalid Content-Length)"})
            else:
                await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if not api and nul_in_form(headers.get("content-type"), body):
            await _page(send, self.page, 422, "输入无效", "表单内容含有 NUL 字符（\\0），请去掉后重新提交；本次未保存任何内容。")
            return
        refusal = self._refusal(path, headers.get("content-type"), body)
        if refusal is not None:
            await _json(send, *refusal)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _refusal(path: str, content_type: str | None, body: bytes) -> tuple[int, dict] | None:
        cls = route_class(path)
        if not path.startswith("/v1/") or cls == "upload" or not body:
            return None
        if content_type is not None and not _is_json(content_type):
            return 415, {"detail": f"请求体应为 application/json (unsupported media type {content_type[:100]!r})"}
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            return 422, _problem(f"请求体不是有效的 UTF-8 (body is not valid UTF-8 at byte {e.start})", "utf8_invalid")
        if b"\\u0000" in body and b"\\u0000" in body.replace(b"\\\\", b""):
            return 422, _problem("字符串含 NUL 字符 \\u0000 (a string contains NUL)", "nul_character")
        if too_deep(body):
            return 422, _problem(f"JSON 嵌套超过 {MAX_DEPTH} 层 (nested deeper than {MAX_DEPTH} levels)",
                                 "json_too_deep")
        if too_many_digits(body):
            # Also a digit string that long: no field takes one, so the scan need not skip strings.
            return 422, _problem(f"数字超过 {MAX_DIGITS} 位 (more than {MAX_DIGITS} digits in a row)",
                                 "json_number_too_long")
        if cls not in BULK:
            dup = duplicate_key(text)
            if dup is not None:
                return 422, _problem(f"JSON 对象中键重复：{dup[:64]!r} (duplicate key)", "json_duplicate_key")
        return None


def nul_in_form(content_type: str | None, body: bytes) -> bool:
    """Whether a page's form body holds a NUL character: raw in any body, or ``%00`` in a
    URL-encoded one (the API refuses NUL in JSON; PostgreSQL text cannot hold it)."""
    if b"\x00" in body:
        return True
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/x-www-form-urlencoded" and b"%00" in body


async def _page(send: Send, page: Page, status: int, title: str, detail: str) -> None:
    """A refusal on a page's path: the site's Chinese error page (rendered by ``page``: the API
    does not import the pages, so ``app.main`` hands the renderer to ``install``)."""
    data = page(status, title, detail)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


async def _json(send: Send, status: int, body: dict) -> None:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


async def _too_large(send: Send, limit: int) -> None:
    await _json(send, 413, {"detail": f"请求体超过 {limit // MiB} MiB (request body larger than {limit} bytes)",
                            "limit": limit})


# ---------------------------------------------------------------- OpenAPI

_ERROR_SCHEMA = {"type": "object", "required": ["detail"],
                 "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]}}}


def _doc(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}


def document_operations(spec: dict) -> dict:
    """Add the statuses this module (and a lookup by path id) can answer to every operation of an
    OpenAPI document; an operation's own description of a status is kept."""
    for item in spec.get("paths", {}).values():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            params = [p for p in op.get("parameters", []) if isinstance(p, dict)]
            extra: dict[str, dict] = {}
            if method.upper() in _BODY_METHODS:
                extra["413"] = _doc("request body too large")
                extra["422"] = _doc("invalid input: every problem with its path; nothing stored")
                media = op.get("requestBody", {}).get("content", {})
                if "application/json" in media:
                    extra["415"] = _doc("request body is not JSON")
                if "multipart/form-data" in media:
                    extra["400"] = _doc("malformed multipart body")
            if any(p.get("in") == "path" for p in params):
                extra["404"] = _doc("not found")
            if params:
                extra.setdefault("422", _doc("invalid parameters: every problem with its path"))
            for status, response in extra.items():
                op["responses"].setdefault(status, response)
    return spec


def document(app: FastAPI) -> None:
    """Documented statuses of every operation include those of ``document_operations``."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document_operations(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI, page: Page) -> None:
    """Register the middleware and document its answers (call after every router is included);
    ``page`` renders the refusals on the pages' paths.

    Innermost of the middleware registered so far (``add_middleware`` would make it outermost), so
    that request logs and metrics count the requests it refuses."""
    if app.middleware_stack is not None:
        raise RuntimeError("install the limits before the application starts")
    app.user_middleware.append(Middleware(LimitsMiddleware, page=page))
    document(app)
