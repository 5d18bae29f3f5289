"""Contracts: registration, clause checks, lifecycle events, performance."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["contracts"])
