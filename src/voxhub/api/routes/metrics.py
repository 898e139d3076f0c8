"""GET /metrics: Prometheus text for an operator's scraper (no API key; VOXHUB_METRICS=off
removes it). It holds counts and timings by route template, engine and job kind, never an
account, key, voice or path."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from voxhub.api.auth import services
from voxhub.errors import NotFound
from voxhub.metrics import CONTENT_TYPE

__all__ = ["router"]

router = APIRouter(tags=["Metrics"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry = services(request)
    if not registry.metrics.answered_here:
        raise NotFound("Metrics are off (VOXHUB_METRICS=off) or on their own port.")
    return Response(await registry.metrics_exposition(), media_type=CONTENT_TYPE)
