"""Liveness and readiness probes (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from voxhub.api.auth import services

__all__ = ["router"]

router = APIRouter(tags=["Health"])


@router.get("/healthz", summary="Liveness", response_model=dict[str, str])
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get("/readyz", summary="Readiness: the database answers", response_model=dict[str, str])
async def readyz(request: Request) -> Response:
    await services(request).check_ready()
    return Response(b'{"status":"ready"}', media_type="application/json")
