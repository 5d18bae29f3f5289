"""/metrics: Prometheus text exposition (app/observability/metrics.py says what is counted)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.observability import metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
def get_metrics() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
