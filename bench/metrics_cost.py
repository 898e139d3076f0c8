"""What metrics cost Get Voice inside one API process, without the noise of a server and a load
generator on a shared machine: the app is called through ASGI with the same requests, metrics on
and off in turns, and the process's CPU time per request compared (``get_voice.py
--compare-metrics`` calls it after its HTTP runs, on the same data dir)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from voxhub.api import create_app
from voxhub.container import build_services
from voxhub.jobs import StoreQueue
from voxhub.metrics import MULTIPROCESS_VARIABLE, NO_METRICS, Metrics, PrometheusMetrics
from voxhub.observability import ACCESS_LOG
from voxhub.settings import load_settings
from voxhub.storage import open_storage
from voxhub.store import Store, open_store
from voxhub.workers import InlineRunner

__all__ = ["in_process_cost"]


def _app(env: dict[str, str], store: Store, metrics: Metrics) -> FastAPI:
    settings = load_settings(environ=env)
    services = build_services(
        settings, store, open_storage(settings.storage_url), InlineRunner(), StoreQueue(store),
        metrics=metrics,
    )  # fmt: skip

    @asynccontextmanager
    async def opened() -> AsyncIterator[Any]:
        await services.voices.load_catalog()
        await services.previews.find_existing()
        yield services

    return create_app(opened)


class _Lifespan:
    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(
            self._app(scope, self._inbox.get, self._outbox.put)  # type: ignore[arg-type]
        )
        await self._inbox.put({"type": "lifespan.startup"})
        await self._outbox.get()

    async def __aexit__(self, *_: object) -> None:
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._outbox.get()
        assert self._task is not None
        await self._task


async def _cpu_us_per_request(app: FastAPI, key: str, paths: list[str], requests: int) -> float:
    headers = [(b"x-api-key", key.encode()), (b"host", b"bench")]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for number in range(requests):
        path = paths[number % len(paths)]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }  # fmt: skip
        await app(scope, receive, send)  # type: ignore[arg-type]
    used = time.process_time() - started
    assert set(statuses) <= {200, 404}, set(statuses)
    return used / requests * 1e6


def in_process_cost(
    env: dict[str, str], key: str, paths: list[str], rounds: int, requests: int = 4000
) -> list[tuple[float, float]]:
    """CPU µs per Get Voice with metrics on and off, one pair per round (order alternating)."""
    os.environ[MULTIPROCESS_VARIABLE] = tempfile.mkdtemp(prefix="voxhub-metrics-")  # as served
    ACCESS_LOG.enabled = False  # both alike; a bench's stderr is not a log

    async def run() -> list[tuple[float, float]]:
        store = open_store(load_settings(environ=env).database_url)
        await store.open()
        try:
            apps = {
                "on": _app(env, store, PrometheusMetrics()),
                "off": _app(env, store, NO_METRICS),
            }
            async with _Lifespan(apps["on"]), _Lifespan(apps["off"]):
                for app in apps.values():  # warm-up
                    await _cpu_us_per_request(app, key, paths, requests // 4)
                pairs = []
                for round_number in range(rounds):
                    order = ["on", "off"] if round_number % 2 == 0 else ["off", "on"]
                    cost = {
                        label: await _cpu_us_per_request(apps[label], key, paths, requests)
                        for label in order
                    }
                    pairs.append((cost["on"], cost["off"]))
                return pairs
        finally:
            await store.close()

    return asyncio.run(run())
