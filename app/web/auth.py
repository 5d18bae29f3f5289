"""Page-side handling of the API-key roles: login form, cookie, redirects."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from app.access.auth import COOKIE, presented_key
from app.web.common import render
from app.web.security import LOGIN, REFUSED_PAGE, SAFE_METHODS, TOKEN_FIELD, token_ok


def safe_next(target: str | None) -> str:
    """Only a local path: a login link must not send the officer to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class PageRoute(APIRoute):
    """A page route: an authentication failure becomes a page, not a JSON body; a state-changing
    request (POST …) needs the form token of its path (``csrf_field(request, path)`` in the form;
    ``app.web.security``) — except the login form, which has no key yet and is checked by origin."""

    def get_route_handler(self):
        handler = super().get_route_handler()
        action = self.path

        async def page_handler(request: Request) -> Response:
            try:
                if request.method not in SAFE_METHODS and action != LOGIN:
                    form = await request.form()     # cached on the request: the endpoint reads the same
                    if not token_ok(presented_key(request), action, form.get(TOKEN_FIELD)):
                        return render(request, "error.html", {"title": "请求被拒绝", "detail": REFUSED_PAGE},
                                      status_code=403)
                return await handler(request)
            except HTTPException as e:
                if e.status_code == 401:
                    nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    # A key was sent and refused: the login form says so.
                    invalid = "&invalid=1" if COOKIE in request.cookies else ""
                    return RedirectResponse(f"/login?next={quote(nxt)}{invalid}", status_code=303)
                if e.status_code == 403:
                    return render(request, "forbidden.html", {"detail": e.detail}, status_code=403)
                raise

        return page_handler
