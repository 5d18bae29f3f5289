"""Parks, parcels, the one-parcel-one-plan ledger and the yearly evaluation (filled in by the parks work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["parks"])
