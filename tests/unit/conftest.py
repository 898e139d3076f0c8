"""Unit fixtures: the real services and app over the in-memory store and a small catalog."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from fastapi.testclient import TestClient

from voxhub.api import create_app
from voxhub.engines import Engine, EngineVoice
from voxhub.services import KeyService, RateLimitService, Services, VoiceService
from voxhub.services.catalog import sync_catalog
from voxhub.store import MemoryStore


class StaticEngine(Engine):
    name = "static"

    def voices(self) -> list[EngineVoice]:
        def voice(key: str, name: str, language: str, gender: str) -> EngineVoice:
            return EngineVoice("static", key, name, language, gender, None, True, False)

        return [
            voice("en-1", "Alice", "English", "female"),
            voice("en-2", "Bob", "English", "male"),
            voice("fr-1", "Chloé", "French", "female"),
            voice("de-1", "Dieter", "German", "male"),
            voice("en-3", "Eve", "English", "female"),
        ]


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    asyncio.run(sync_catalog(store, [StaticEngine()], synced_at=1))
    return store


@pytest.fixture
def services(store: MemoryStore) -> Services:
    return Services(
        store=store,
        keys=KeyService(store, default_rate_limit="1000/second", cache_seconds=0),
        voices=VoiceService(store, [StaticEngine.name]),
        rate_limits=RateLimitService("memory://"),
    )


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    @asynccontextmanager
    async def open_services() -> AsyncIterator[Services]:
        await services.voices.load_catalog()
        yield services

    with TestClient(create_app(open_services), raise_server_exceptions=False) as test_client:
        yield test_client


def issue_key(services: Services, account: str = "acme", **options: object) -> str:
    return asyncio.run(services.keys.create(account, **options)).plain  # type: ignore[arg-type]


def account_of(services: Services, plain: str) -> str:
    return asyncio.run(services.keys.authenticate(plain)).account_id
