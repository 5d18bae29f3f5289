"""Tax records posted by the tax system (filled in by the tax-records work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/tax-records", tags=["tax"])
