"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.routing import BaseRoute

import voxhub
from voxhub.api.auth import SECURITY_SCHEMES
from voxhub.api.errors import install_error_handlers
from voxhub.api.limits import BodyLimitMiddleware
from voxhub.api.middleware import RequestContextMiddleware
from voxhub.api.query import refuse_repeated_query
from voxhub.api.routes import (
    assets,
    clones,
    design,
    files,
    health,
    metrics,
    openai,
    playground,
    speech,
    streaming,
    uploads,
    voices,
    webhooks,
)
from voxhub.services import Services
from voxhub.services.background import api_tasks

__all__ = [
    "ROUTE_ORDER",
    "ServicesFactory",
    "create_app",
    "install_common",
    "new_fastapi",
]

ServicesFactory = Callable[[], AbstractAsyncContextManager[Services]]
# Routes in the order they are matched. Fixed paths under /v3/voices/ (speech, clone) come
# before the voice-id routes; Get Voice's fast route before FastAPI's documented one (they
# share a path: Starlette answers a method mismatch from the first route whose path matches,
# so DELETE's route, in clones, comes first too). The fixed asset paths (uploads; list and search
# declared first in assets) come before ``/v3/assets/{asset_id}``.
ROUTE_ORDER: tuple[APIRouter | BaseRoute, ...] = (
    speech.router,
    streaming.router,
    clones.router,
    voices.get_voice_fast_route,
    voices.router,
    uploads.router,
    design.router,  # POST /v3/voices (GET /v3/voices, in voices, is List Voices)
    assets.router,
    webhooks.router,
    files.router,
    health.router,
    openai.router,
    metrics.router,
    playground.router,
)


def new_fastapi(**options: Any) -> FastAPI:
    """A FastAPI app as voxhub configures it, whatever its routes.

    FastAPI's built-in OpenTelemetry hooks are off: voxhub logs each request itself, and
    the hooks' per-request checks cost more than Get Voice's own work.
    """
    return FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False}, **options)


def install_common(app: FastAPI) -> None:
    """What every voxhub ASGI app has, whatever its routes: errors and request context."""
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)


def create_app(open_services: ServicesFactory) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services() as opened:
            app.state.services = opened
            # Everything loaded so far lives as long as the process: keep it out of the
            # garbage collector's full passes, which otherwise stall requests for tens of ms.
            gc.collect()
            gc.freeze()
            tasks = api_tasks(opened)
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    app = new_fastapi(
        title="voxhub",
        version=voxhub.__version__,
        description="A self-hostable voice service that speaks HeyGen's v3 Voices API.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        dependencies=[Depends(refuse_repeated_query)],
    )
    install_common(app)
    for entry in ROUTE_ORDER:
        if isinstance(entry, APIRouter):
            app.include_router(entry)
        else:
            app.router.routes.append(entry)
    body_limits = {
        clones.CLONE_PATH: clones.MAX_CLONE_BODY_BYTES,
        assets.ASSETS_PATH: assets.MAX_UPLOAD_BODY_BYTES,
    }
    app.add_middleware(BodyLimitMiddleware, limits=body_limits)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, corrected to what the service really answers."""
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path in document.get("paths", {}).values():
        for operation in path.values():
            # Validation errors are answered 400 in the error envelope, never 422.
            operation.get("responses", {}).pop("422", None)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    document["components"]["securitySchemes"] = SECURITY_SCHEMES
    return document
