"""Roles by API key (DESIGN §8).  INTERFACE STUB — being implemented; the signatures stay.

- ``Role``: rule_admin, officer, tax_system, auditor.
- ``require(*roles)``: a FastAPI dependency; use as ``dependencies=[Depends(require("officer"))]``
  or ``caller: Annotated[Caller, Depends(require("officer", "auditor"))]``.  It reads the key from
  ``Authorization: Bearer <key>`` or, for the web pages, the ``sl_key`` cookie.  With no key
  configured at all (local use) every request passes as an open caller.
- ``Caller``: who is calling (role, key id, jurisdiction scope) — ``Caller.open()`` in open mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request


class Role(StrEnum):
    rule_admin = "rule_admin"
    officer = "officer"
    tax_system = "tax_system"
    auditor = "auditor"


COOKIE = "sl_key"


@dataclass(frozen=True)
class Caller:
    role: str | None          # None in open mode
    key_id: str | None
    jurisdiction: str | None  # None = every jurisdiction

    @classmethod
    def open(cls) -> Caller:
        return cls(role=None, key_id=None, jurisdiction=None)

    def sees_jurisdiction(self, code: str) -> bool:
        return self.jurisdiction is None or code.startswith(self.jurisdiction.rstrip("0") or "")


def require(*roles: str) -> Callable[[Request], Caller]:
    def dependency(request: Request) -> Caller:
        return Caller.open()
    return dependency
