"""Running the service: ``voxhub serve``."""

from __future__ import annotations

import shlex
import sys
from typing import TextIO

import uvicorn
from fastapi import FastAPI

from voxhub.api import create_app
from voxhub.container import open_services, prepare
from voxhub.services import IssuedKey
from voxhub.settings import Settings

__all__ = ["build_app", "serve", "uvicorn_config"]


def build_app(settings: Settings) -> FastAPI:
    return create_app(lambda: open_services(settings))


def uvicorn_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """The production server settings (also used by the benchmark's baseline)."""
    return uvicorn.Config(
        app,
        host=settings.server.host,
        port=settings.server.port,
        loop="auto",  # uvloop when installed
        http="auto",  # httptools when installed
        log_config=None,
        access_log=False,  # voxhub logs each request itself, with its id
        server_header=False,
        lifespan="on",
        timeout_keep_alive=30,
    )


def announce_first_key(issued: IssuedKey, settings: Settings, out: TextIO) -> None:
    host = settings.server.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - display only
    url = f"http://{shown}:{settings.server.port}/v3/voices?limit=3"
    print("voxhub: no API key existed, so one was created for account 'default'.", file=out)
    print("It is shown this once; only its hash is stored. Try it:", file=out)
    print(f"  curl -H {shlex.quote('x-api-key: ' + issued.plain)} {shlex.quote(url)}", file=out)
    print(issued.plain, file=out, flush=True)


def serve(settings: Settings) -> None:
    issued = prepare(settings)
    if issued is not None:
        announce_first_key(issued, settings, sys.stdout)
    uvicorn.Server(uvicorn_config(build_app(settings), settings)).run()
