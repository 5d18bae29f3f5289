"""亩均效益 scoring runs (filled in by the scoring work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["scoring"])
