"""The benchmark's baseline: voxhub's server stack answering a constant JSON body.

Same framework, same middleware (request id, access log), same error handling, same kind of
route (a Starlette route in a FastAPI app, as voxhub serves Get Voice), same uvicorn settings
and logging as ``voxhub serve`` — but no authentication, rate limit or database. With
``--workers N`` (N > 1) it is served as ``voxhub serve --api-processes N`` serves voxhub: N
processes on one port under uvicorn's Multiprocess supervisor, each building the app from a
factory.

    python bench/baseline_app.py --port 8001 --body-bytes 250 [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import os

import uvicorn
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.supervisors import Multiprocess

from voxhub.api.app import install_common, new_fastapi
from voxhub.observability import configure_logging
from voxhub.server import uvicorn_config
from voxhub.settings import load_settings

# How the worker processes learn what to build (they start from the factory, not from main).
BODY_VARIABLE, ROUTE_VARIABLE = "BASELINE_BODY_BYTES", "BASELINE_ROUTE"


def constant_body(size: int) -> bytes:
    """A Get Voice-shaped JSON body padded to ``size`` bytes."""
    body = {"data": {"voice_id": "0" * 32, "name": "", "support_pause": True}}
    raw = json.dumps(body, separators=(",", ":")).encode()
    pad = max(0, size - len(raw))
    body["data"]["name"] = "x" * pad
    return json.dumps(body, separators=(",", ":")).encode()


def build(size: int, route: str = "starlette") -> FastAPI:
    """``route``: "starlette" (a plain route, as voxhub serves Get Voice) or "fastapi"."""
    app = new_fastapi()
    install_common(app)
    payload = constant_body(size)

    async def constant(request: Request) -> Response:
        return Response(payload, media_type="application/json")

    if route == "fastapi":

        @app.get("/v3/voices/{voice_id}")
        async def documented(voice_id: str) -> Response:
            return Response(payload, media_type="application/json")

    else:
        app.router.routes.insert(0, Route("/v3/voices/{voice_id}", constant, methods=["GET"]))
    return app


def app_from_environment() -> FastAPI:
    """A worker process (``--workers`` > 1): as voxhub.server.app_from_environment sets up an
    API process — logging from the settings, uvicorn's own access log silenced."""
    settings = load_settings()
    configure_logging(settings.server.log_level, settings.server.access_log)
    access = logging.getLogger("uvicorn.access")
    access.handlers, access.propagate = [], False
    return build(int(os.environ[BODY_VARIABLE]), os.environ[ROUTE_VARIABLE])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body-bytes", type=int, default=250)
    parser.add_argument("--route", choices=["starlette", "fastapi"], default="starlette")
    parser.add_argument("--workers", type=int, default=1, help="processes on the port")
    args = parser.parse_args()
    settings = load_settings(overrides={"server.port": args.port})
    configure_logging(settings.server.log_level, settings.server.access_log)
    if args.workers <= 1:  # as voxhub.server._serve_http with one API process
        uvicorn.Server(uvicorn_config(build(args.body_bytes, args.route), settings)).run()
        return
    os.environ.update({BODY_VARIABLE: str(args.body_bytes), ROUTE_VARIABLE: args.route})
    config = uvicorn_config("baseline_app:app_from_environment", settings, workers=args.workers)
    Multiprocess(config, sockets=[config.bind_socket()]).run()


if __name__ == "__main__":
    main()
