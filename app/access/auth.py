"""Roles by API key (docs/security.md).

- ``Role``: rule_admin (publish rule sets), officer (checks, contracts, parks, scoring),
  tax_system (post tax data, nothing else), auditor (read and verify).
- ``require(*roles)``: a FastAPI dependency; use as ``dependencies=[Depends(require("officer"))]``
  or ``caller: Annotated[Caller, Depends(require("officer", "auditor"))]``.  It reads the key from
  ``Authorization: Bearer <key>`` or, for the web pages, the ``sl_key`` cookie.  No key → 401 with
  ``WWW-Authenticate: Bearer``; an unknown or revoked key → 401; a role not listed → 403.
- Open mode: while no active key exists in the database (local use), every request passes as
  ``Caller.open()``; start-up says so loudly, and refuses with ``STANDARD_LAND_ENV=production``.
- ``Caller``: who is calling (role, key id, jurisdiction scope).

The open/keyed state and each key lookup are cached for ``CACHE_TTL`` seconds per process, so
that a check costs no extra query: a key revoked (or created) by ``standard-land keys`` takes
effect in every worker within that time.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.core.config import settings
from indicators.identifiers import division_prefix as scope_prefix

log = logging.getLogger("standard_land.auth")


class Role(StrEnum):
    rule_admin = "rule_admin"
    officer = "officer"
    tax_system = "tax_system"
    auditor = "auditor"


COOKIE = "sl_key"
CACHE_TTL = settings().key_cache_seconds
_CACHE_MAX = 10_000   # bounds memory under a flood of made-up keys

# Who may call what (the routers attach these; tests/access/test_auth.py holds the expected matrix).
PUBLISH = (Role.rule_admin,)
RULE_READ = (Role.rule_admin, Role.officer, Role.auditor)
WRITE = (Role.officer,)
READ = (Role.officer, Role.auditor)
TAX_POST = (Role.tax_system,)




@dataclass(frozen=True)
class Caller:
    role: str | None          # None in open mode
    key_id: str | None
    jurisdiction: str | None  # None = every jurisdiction

    @classmethod
    def open(cls) -> Caller:
        return cls(role=None, key_id=None, jurisdiction=None)

    def sees_jurisdiction(self, code: str | None) -> bool:
        """Whether data about division ``code`` is within this caller's scope (an unknown code
        is within no limited scope)."""
        if self.jurisdiction is None:
            return True
        return code is not None and code.startswith(scope_prefix(self.jurisdiction))


class _Cache:
    """Per-process memo of the keyed/open state and of key lookups (by SHA-256 of the key)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keyed: tuple[float, bool] | None = None
        self.open: tuple[float, bool] | None = None
        self.keys: dict[str, tuple[float, Caller | None]] = {}

    def clear(self) -> None:
        with self.lock:
            self.keyed = self.open = None
            self.keys.clear()


_cache = _Cache()
OPEN = Caller.open()


def reset_cache() -> None:
    """Forget cached key state (tests, and ``app.store.keys`` users in this process)."""
    _cache.clear()


def _session() -> Session:
    from app.store.db import get_engine

    return Session(get_engine())


def keys_configured() -> bool:
    """Whether any active key exists (cached for CACHE_TTL)."""
    now = time.monotonic()
    hit = _cache.keyed
    if hit is not None and hit[0] > now:
        return hit[1]
    from app.store import keys

    with _session() as session:
        keyed = keys.any_active(session)
    _cache.keyed = (now + CACHE_TTL, keyed)
    return keyed


_MISS = object()   # "not cached": the answer needs a query


def _lookup(secret: str, cached_only: bool = False) -> Caller | None | object:
    now = time.monotonic()
    h = hashlib.sha256(secret.encode("utf-8")).hexdigest()
    hit = _cache.keys.get(h)
    if hit is not None and hit[0] > now:
        return hit[1]
    if cached_only:
        return _MISS
    from app.store import keys

    with _session() as session:
        info = keys.lookup(session, secret)
    caller = None if info is None else Caller(role=info.role, key_id=info.id, jurisdiction=info.jurisdiction)
    with _cache.lock:
        if len(_cache.keys) >= _CACHE_MAX:
            _cache.keys.clear()
        _cache.keys[h] = (now + CACHE_TTL, caller)
    return caller


def presented_key(request: Request) -> str | None:
    """The key from ``Authorization: Bearer …``, else from the ``sl_key`` cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    cookie = request.cookies.get(COOKIE)
    return cookie.strip() if cookie and cookie.strip() else None


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def production() -> bool:
    return settings().env.lower() == "production"


def _open(cached_only: bool = False) -> bool | None:
    """Open mode now (cached with the keyed state: reading the environment costs more than the rest);
    None when not cached and ``cached_only``."""
    now = time.monotonic()
    hit = _cache.open
    if hit is not None and hit[0] > now:
        return hit[1]
    if cached_only:
        return None
    is_open = not keys_configured() and not production()
    _cache.open = (now + CACHE_TTL, is_open)
    return is_open


def authenticate(request: Request) -> Caller:
    """The caller behind this request, whatever its role; 401 if keys are configured and the
    request has no valid key.  In production the service never turns open, not even when its
    last key is revoked while it runs."""
    caller = _authenticate(request, cached_only=False)
    assert caller is not None
    return caller


def _authenticate(request: Request, cached_only: bool) -> Caller | None:
    """``authenticate``; with ``cached_only``, None instead of a database query."""
    is_open = _open(cached_only)
    if is_open is None:
        return None
    if is_open:
        return OPEN
    secret = presented_key(request)
    if secret is None:
        raise _unauthorized("API key required: send 'Authorization: Bearer <key>' (需要 API 密钥)")
    if len(secret) > 200:
        raise _unauthorized("invalid API key (无效的 API 密钥)")
    caller = _lookup(secret, cached_only)
    if caller is _MISS:
        return None
    if caller is None:
        raise _unauthorized("invalid or revoked API key (API 密钥无效或已吊销)")
    assert isinstance(caller, Caller)
    return caller


def require(*roles: str) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency admitting the listed roles (any caller in open mode)."""
    allowed = frozenset(str(r) for r in roles)
    unknown = allowed - set(Role)
    if unknown or not allowed:
        raise ValueError(f"require() needs roles from {[r.value for r in Role]}, got {sorted(unknown) or 'none'}")
    listed = ", ".join(sorted(allowed))

    async def dependency(request: Request) -> Caller:
        # Async: FastAPI runs a sync dependency on the thread pool, a hand-off per request that
        # cost more than the check's own work.  Only a cache miss (a query) leaves the loop.
        caller = _authenticate(request, cached_only=True)
        if caller is None:
            caller = await run_in_threadpool(authenticate, request)
        if caller.role is not None and caller.role not in allowed:
            raise HTTPException(403, f"role {caller.role} may not call this endpoint; allowed roles: {listed} "
                                     f"(角色无权访问)")
        return caller

    return dependency


class ProductionWithoutKeys(RuntimeError):
    pass


def check_startup() -> None:
    """At start-up: open mode is refused in production and announced loudly elsewhere."""
    reset_cache()
    if keys_configured():
        return
    if production():
        raise ProductionWithoutKeys(
            "STANDARD_LAND_ENV=production and no API keys configured: refusing to run OPEN. "
            "Create keys with `standard-land keys create --role …` first.")
    log.warning("running OPEN: no API keys configured — every request is allowed with every role. "
                "For local use only; create keys with `standard-land keys create --role …`.")


def allow(*roles: str) -> list:
    """``dependencies=allow(*WRITE)`` on a route decorator."""
    return [Depends(require(*roles))]


ReadCaller = Annotated[Caller, Depends(require(*READ))]
