"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

import voxhub
from voxhub.api.auth import SECURITY_SCHEMES
from voxhub.api.errors import install_error_handlers
from voxhub.api.limits import BodyLimitMiddleware
from voxhub.api.middleware import RequestContextMiddleware
from voxhub.api.routes import assets, clones, files, health, speech, voices
from voxhub.services import Services

__all__ = [
    "ServicesFactory",
    "background_tasks",
    "create_app",
    "install_common",
    "new_fastapi",
]

ServicesFactory = Callable[[], AbstractAsyncContextManager[Services]]
log = logging.getLogger(__name__)
PURGE_INTERVAL_SECONDS = 3600


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


def background_tasks(registry: Services) -> list[asyncio.Task[None]]:
    """Work a serving process does besides requests: previews, expired speech files."""
    tasks = [asyncio.create_task(_purge_expired_speech(registry))]
    if registry.render_previews:
        tasks.append(asyncio.create_task(_render_previews(registry)))
    if registry.process_clones:
        tasks.append(asyncio.create_task(registry.clones.run_jobs()))
    if registry.measure_base_voices:
        tasks.append(asyncio.create_task(_measure_base_voices(registry)))
    return tasks


async def _measure_base_voices(registry: Services) -> None:
    try:
        measured = await registry.clones.measure_base_voices()
    except Exception:  # a clone measures what it needs itself; this only saves it the wait
        log.exception("could not measure the base voices ahead of clones")
        return
    log.info("base voices measured for cloning", extra={"voices": measured})


async def _render_previews(registry: Services) -> None:
    made = await registry.previews.render_missing()
    log.info("public voice previews ready", extra={"rendered": made})


async def _purge_expired_speech(registry: Services) -> None:
    while True:
        try:
            await registry.speech.purge_expired()
        except Exception:
            log.exception("could not purge expired speech files")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


def create_app(open_services: ServicesFactory) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services() as opened:
            app.state.services = opened
            # Everything loaded so far lives as long as the process: keep it out of the
            # garbage collector's full passes, which otherwise stall requests for tens of ms.
            gc.collect()
            gc.freeze()
            tasks = background_tasks(opened)
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
    )
    install_common(app)
    app.include_router(speech.router)
    app.include_router(clones.router)
    # First the speech route (/v3/voices/speech is not a voice id), then Get Voice's fast
    # route: Starlette answers a method mismatch from the first route whose path matches.
    clone_routes = app.router.routes.pop()
    speech_routes = app.router.routes.pop()
    app.router.routes[0:0] = [speech_routes, clone_routes, voices.get_voice_fast_route]
    body_limits = {
        clones.CLONE_PATH: clones.MAX_CLONE_BODY_BYTES,
        assets.ASSETS_PATH: assets.MAX_UPLOAD_BODY_BYTES,
    }
    app.add_middleware(BodyLimitMiddleware, limits=body_limits)
    app.include_router(voices.router)
    app.include_router(assets.router)
    app.include_router(files.router)
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
