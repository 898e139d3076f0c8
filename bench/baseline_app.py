"""The benchmark's baseline: voxhub's server stack answering a constant JSON body.

Same framework, same middleware (request id, access log), same error handling, same kind of
route (a Starlette route in a FastAPI app, as voxhub serves Get Voice), same uvicorn settings
and logging as ``voxhub serve`` — but no authentication, rate limit or database.

    python bench/baseline_app.py --port 8001 --body-bytes 250
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voxhub.api.app import install_common, new_fastapi
from voxhub.observability import configure_logging
from voxhub.server import uvicorn_config
from voxhub.settings import load_settings


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body-bytes", type=int, default=250)
    parser.add_argument("--route", choices=["starlette", "fastapi"], default="starlette")
    args = parser.parse_args()
    settings = load_settings(overrides={"server.port": args.port})
    configure_logging(settings.server.log_level)
    uvicorn.Server(uvicorn_config(build(args.body_bytes, args.route), settings)).run()


if __name__ == "__main__":
    main()
