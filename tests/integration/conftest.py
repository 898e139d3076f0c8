"""Integration fixtures: real stores on SQLite and PostgreSQL, and a live HTTP server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.conftest import fresh_postgres_database
from voxhub.container import prepare
from voxhub.domain import Voice
from voxhub.server import build_app, uvicorn_config
from voxhub.services import IssuedKey, Services
from voxhub.settings import Settings, load_settings
from voxhub.store import MemoryStore, Store, open_store
from voxhub.store.migrate import upgrade

BACKENDS = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """The same store contract on each backend, empty and migrated."""
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")
    opened = open_store(url)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


# Live servers of the contract and fuzz tests: no rate limit in the way, one speech worker,
# previews not rendered (a test of its own renders them), base voices not measured ahead (that
# would hold the one worker for a minute or more).
LIVE_ENVIRONMENT = {
    "VOXHUB_RATE_LIMIT": "100000/second",
    "VOXHUB_SPEECH_WORKERS": "1",
    "VOXHUB_RENDER_PREVIEWS": "false",
    "VOXHUB_MEASURE_BASE_VOICES": "false",
}


@dataclass
class LiveServer:
    base_url: str
    settings: Settings
    key: str
    app: Any = None

    @property
    def services(self) -> Services:
        registry: Services = self.app.state.services
        return registry

    def insert_voice(self, voice: Voice) -> None:
        async def insert() -> None:
            store = open_store(self.settings.database_url)
            await store.open()
            try:
                await store.insert_voice(voice, updated_at=time.time_ns() // 1000)
            finally:
                await store.close()

        asyncio.run(insert())

    def new_key(self, account: str, **options: object) -> IssuedKey:
        from voxhub.container import open_key_service

        async def create() -> IssuedKey:
            async with open_key_service(self.settings) as keys:
                return await keys.create(account, **options)  # type: ignore[arg-type]

        return asyncio.run(create())


def run_live_server(settings: Settings) -> Iterator[LiveServer]:
    prepare(settings, first_key=False)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = build_app(settings)
    server = uvicorn.Server(uvicorn_config(app, settings))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "server thread died"
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        live = LiveServer(f"http://127.0.0.1:{port}", settings, key="", app=app)
        live.key = live.new_key("live").plain
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """voxhub on the embedded default (SQLite), served over real HTTP from a thread."""
    data_dir = tmp_path_factory.mktemp("voxhub-data")
    settings = load_settings(environ={"VOXHUB_DATA_DIR": str(data_dir), **LIVE_ENVIRONMENT})
    yield from run_live_server(settings)


@pytest.fixture(scope="module")
def live_postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """voxhub on its own PostgreSQL database (the scale-out store), served over real HTTP."""
    data_dir = tmp_path_factory.mktemp("voxhub-pg-data")  # files, never the checkout
    with fresh_postgres_database() as url:
        environ = {"VOXHUB_DATABASE_URL": url, "VOXHUB_DATA_DIR": str(data_dir)}
        settings = load_settings(environ={**environ, **LIVE_ENVIRONMENT})
        yield from run_live_server(settings)
