"""Web pages in Chinese for land-transfer officers (issue 5).

Conventions for every page module (``pages_*.py``, one per section):

- Each module defines ``router = APIRouter(route_class=PageRoute)`` (``from app.web.auth import PageRoute``)
  and is included below; all page routes stay out of the OpenAPI schema.
- Templates live in ``templates/``: a section's pages are ``<section>_*.html`` (``proposal_form.html``)
  or ``<section>/*.html`` (``contracts/timeline.html``) and extend ``base.html``, filling ``{% block title %}`` (the
  ``<title>``, Chinese) and ``{% block content %}``; ``{% block head %}`` adds page CSS/JS.
  Render with ``common.render(request, "name.html", {"section": "contracts", ...})``: ``section``
  (proposal, rulesets, contracts, parks) marks the current nav link.  Numbers (Decimal strings from the
  check functions) are shown with the ``|fmt`` filter (at most 2 decimals, rounded half-up); rule text as
  written in a rule set or contract (thresholds, benchmarks, rates) with ``|fmt_exact``; a fraction as a
  percentage with ``|percent``; stored UTC times with ``|beijing`` (北京时间); messages that may carry codes
  or field paths with ``|zh``.  Never convert numbers to float.
- Field errors: collect ``app.core.errors.Problem``s (from ``InputError.problems`` or
  ``pydantic_problems``), then ``errors, summary = common.field_errors(problems, FIELD_NAMES)``,
  where the form's input names are the request's dotted paths (``land_area.value``).  In the
  template use the ``field_error(errors, name)`` macro from ``_forms.html`` after the input (it
  sets an id ``err-<name>`` that the input references with ``aria-describedby``) and
  ``summary_box(summary)`` at the top (``role="alert"``).  Messages are Chinese (``zh_message``).
  Invalid input re-renders the form with status 422; it never stores anything.
- Auth: protect every route with ``Depends(require(*CAPABILITY))``, CAPABILITY one of the API's role
  constants in ``app.access.auth`` (``PUBLISH``, ``RULE_READ``, ``WRITE``, ``READ``, ``TAX_POST``): the one
  of the API operation the page shows or submits, so that a role sees on the pages exactly what the API
  gives it (``tests/web/test_pages_security.py`` holds the page → operation table and checks every
  page route against the API's matrix).  ``PageRoute`` turns a 401 into a redirect to ``/login?next=…``
  and a 403 into a Chinese page.
- Forms that change anything are ``method="post"`` and carry ``{{ csrf_field(request, "/action") }}``;
  ``PageRoute`` refuses a post without the token of its path, and ``app.web.security`` refuses a
  cross-site one.  No inline script or style (the Content-Security-Policy forbids them): files in
  ``static/``.
- Pages work without JavaScript (plain forms, POST-redirect-GET); ``static/*.js`` only enhances.
- Call the same functions as the API routers (``app.checks``, ``app.store``, ``app.rulesets``) with
  ``SessionDep`` / ``EngineDep`` from ``app.access.deps``: nothing is computed twice.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.web import pages_home
from app.web.common import STATIC_DIR

__all__ = ["router", "STATIC_DIR"]

router = APIRouter(include_in_schema=False)
router.include_router(pages_home.router)

for _name in ("pages_proposal", "pages_rulesets", "pages_contracts", "pages_parks"):
    # Sections are added by separate modules; one that is not written yet is simply absent.
    try:
        _mod = __import__(f"app.web.{_name}", fromlist=["router"])
    except ModuleNotFoundError as _e:
        if _e.name != f"app.web.{_name}":
            raise
        continue
    router.include_router(_mod.router)
