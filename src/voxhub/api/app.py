"""The ASGI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

import voxhub
from voxhub.api.auth import SECURITY_SCHEMES
from voxhub.api.errors import install_error_handlers
from voxhub.api.middleware import RequestContextMiddleware
from voxhub.api.routes import health, voices
from voxhub.services import Services

__all__ = ["ServicesFactory", "create_app", "install_common", "new_fastapi"]

ServicesFactory = Callable[[], AbstractAsyncContextManager[Services]]


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
            yield

    app = new_fastapi(
        title="voxhub",
        version=voxhub.__version__,
        description="A self-hostable voice service that speaks HeyGen's v3 Voices API.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    install_common(app)
    app.router.routes.insert(0, voices.get_voice_fast_route)
    app.include_router(voices.router)
    app.include_router(health.router)

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
