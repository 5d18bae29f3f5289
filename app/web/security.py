"""Browser-facing protection: security headers on every response, and cross-site request refusal.

Headers (every response, unless the response set its own):

- ``Content-Security-Policy`` ``POLICY``: scripts, styles, images and fetches from this origin
  only — no inline script or style anywhere in the pages (the page scripts are files in
  ``static/``), no plug-ins, no ``<base>``, forms post only here, and no framing
  (``frame-ancestors 'none'``, with ``X-Frame-Options: DENY`` for older browsers);
- ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: same-origin`` (contract numbers in page
  URLs do not leak to other sites, and same-origin posts keep their ``Origin`` header).

The API documentation (``/docs``, its OAuth2 redirect, ``/redoc``) is FastAPI's generated HTML:
it loads Swagger UI / ReDoc from their CDN and starts them with an inline script.  It gets a
policy of its own (``docs_policy``): those CDN hosts, and each of its inline scripts by its
SHA-256 hash, computed from the page as served (so the policy follows FastAPI's template).

Cross-site requests (CSRF).  The key travels in the ``sl_key`` cookie for the pages (and the API
accepts it too), and ``SameSite=Strict`` does not separate other ports or sibling subdomains
(they are the same *site*).  So every state-changing request is checked:

- ``origin_verdict``: True when the browser proves the request comes from this origin
  (``Origin`` equal to this service's origin, or ``Sec-Fetch-Site: same-origin``), False when it
  says it comes from elsewhere (another origin, ``Origin: null``, ``Sec-Fetch-Site`` ``same-site``
  or ``cross-site``), None when it says nothing (not a browser: browsers send ``Origin`` with
  every POST).  "This service's origin" is ``scheme://Host`` of the request, or one of
  ``STANDARD_LAND_ORIGINS`` (comma-separated, for a TLS-terminating proxy that rewrites them).
- Pages: refused when False; ``POST /login`` (no key yet, so no token) only when True; every other
  form also needs its token (``PageRoute`` checks it): ``csrf_token(key, action)`` =
  HMAC-SHA256 keyed by SHA-256 of the caller's key over ``"csrf:" + action`` — no secret is stored
  on the server, and a page on another origin can neither read nor compute it.
- ``/v1``: a request with ``Authorization: Bearer`` is not cross-site forgeable and is not
  checked; otherwise refused when False, and when it is authenticated by the cookie, unless True.

A refusal is a 403 (a Chinese page for the pages, JSON for the API) before the body is read:
nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from app.access.auth import COOKIE
from app.core.config import settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
          "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"x-frame-options", b"DENY")]
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN = "/login"
TOKEN_FIELD = "csrf_token"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S | re.I)


def docs_policy(html: bytes) -> str:
    """The policy of a documentation page: its CDN scripts and styles, its inline scripts by hash;
    inline styles are allowed there (Swagger UI and ReDoc set them as they render)."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(m).digest()).decode()}'"
                      for m in _INLINE_SCRIPT.findall(html))
    return ("default-src 'none'; "
            f"script-src 'self' https://cdn.jsdelivr.net {hashes}; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
            "font-src https://fonts.gstatic.com; connect-src 'self'; worker-src blob:; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


# ---------------------------------------------------------------- same origin?

_DEFAULT_PORT = {"http": "80", "https": "443"}


def _origin(scheme: str, netloc: str) -> str:
    scheme, netloc = scheme.lower(), netloc.lower()
    host, sep, port = netloc.rpartition(":")
    if sep and "]" not in port and port == _DEFAULT_PORT.get(scheme):
        netloc = host
    return f"{scheme}://{netloc}"


def configured_origins() -> set[str]:
    out = set()
    for item in settings().origins.split(","):
        u = urlsplit(item.strip())
        if u.scheme and u.netloc:
            out.add(_origin(u.scheme, u.netloc))
    return out


def origin_verdict(scope: Scope) -> bool | None:
    """True: the browser says this request comes from this origin; False: from elsewhere;
    None: no ``Origin`` and no ``Sec-Fetch-Site`` (not a browser)."""
    headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    site = headers.get(b"sec-fetch-site", "").strip().lower()
    if site in ("same-site", "cross-site"):
        return False
    origin = headers.get(b"origin")
    if origin is not None:
        u = urlsplit(origin.strip())
        if not (u.scheme and u.netloc):
            return False                       # "null" (sandboxed frame, privacy redirect) or garbage
        own = {_origin(scope.get("scheme", "http"), headers.get(b"host", ""))} | configured_origins()
        return _origin(u.scheme, u.netloc) in own
    return True if site == "same-origin" else None


# ---------------------------------------------------------------- tokens

def csrf_token(key: str | None, action: str) -> str:
    """The form token for ``action`` (the path the form posts to) of the caller holding ``key``."""
    secret = hashlib.sha256((key or "").encode("utf-8")).digest()
    return hmac.new(secret, f"csrf:{action}".encode(), hashlib.sha256).hexdigest()


def token_ok(key: str | None, action: str, given: Any) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode("utf-8", "replace"),
                                                          csrf_token(key, action).encode())


REFUSED_PAGE = "请求被拒绝：表单来自其他网站或已失效。请回到本站页面重新打开表单后提交；本次未保存任何内容。"
REFUSED_API = ("跨站请求被拒绝 (cross-site request refused: a request authenticated by the sl_key cookie must come "
               "from this site's own pages; other clients send 'Authorization: Bearer <key>'); nothing was stored")


def refused_page(status: int, title: str, detail: str) -> bytes:
    """A Chinese error page (the site's own template), for answers given before any route runs."""
    from app.web.common import templates

    return templates.get_template("error.html").render(title=title, detail=detail).encode("utf-8")


# ---------------------------------------------------------------- the middleware

class SecurityMiddleware:
    """Refuses cross-site state-changing requests (see the module docstring) and adds the security
    headers to every response."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if scope["method"] not in SAFE_METHODS:
            refusal = self._refusal(scope)
            if refusal is not None:
                await _answer(send, *refusal)
                return
        if path in DOCS_PATHS:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_headers(message.get("headers", []), POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _refusal(scope: Scope) -> tuple[int, str, bytes] | None:
        verdict = origin_verdict(scope)
        path = scope["path"]
        if path.startswith("/v1/") or path == "/v1":
            headers = {k.lower(): v for k, v in scope.get("headers", [])}
            if headers.get(b"authorization", b"").strip().lower().startswith(b"bearer "):
                return None
            by_cookie = _has_cookie(scope)
            if verdict is False or (by_cookie and verdict is not True):
                return 403, "application/json", json.dumps({"detail": REFUSED_API}, ensure_ascii=False).encode()
            return None
        if verdict is False or (path == LOGIN and verdict is not True):
            return 403, "text/html; charset=utf-8", refused_page(403, "请求被拒绝", REFUSED_PAGE)
        return None

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        body: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                html = b"".join(body)
                start["headers"] = _with_headers(start.get("headers", []), docs_policy(html))
                await send(start)
                await send({"type": "http.response.body", "body": html, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, collect)


def _has_cookie(scope: Scope) -> bool:
    """Whether the request carries a non-empty key cookie (what ``presented_key`` would use)."""
    for k, v in scope.get("headers", []):
        if k.lower() != b"cookie":
            continue
        for part in v.decode("latin-1").split(";"):
            name, _, value = part.partition("=")
            if name.strip() == COOKIE and value.strip().strip('"'):
                return True
    return False


def _with_headers(headers: Any, policy: str) -> list[tuple[bytes, bytes]]:
    out = list(headers)
    have = {k.lower() for k, _ in out}
    for k, v in [(b"content-security-policy", policy.encode()), *HEADERS]:
        if k not in have:
            out.append((k, v))
    return out


async def _answer(send: Send, status: int, content_type: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": _with_headers([(b"content-type", content_type.encode()),
                                          (b"content-length", str(len(body)).encode())], POLICY)})
    await send({"type": "http.response.body", "body": body})


def install(app: Any) -> None:
    """Register the middleware inside the observability middleware (so that refusals are logged and
    counted) and outside the limits (so that a cross-site body is refused before it is read).
    Call before ``app.api.limits.install``."""
    from starlette.middleware import Middleware

    if app.middleware_stack is not None:
        raise RuntimeError("install the security middleware before the application starts")
    app.user_middleware.append(Middleware(SecurityMiddleware))
