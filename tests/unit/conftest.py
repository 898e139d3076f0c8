"""Unit fixtures: the real services and app over the in-memory store and a small catalog."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from fastapi.testclient import TestClient

from voxhub.api import create_app
from voxhub.container import build_services
from voxhub.engines import Engine, EngineVoice, PieceAudio, SpokenSpan
from voxhub.jobs import JobHandler, JobWorker, StoreQueue
from voxhub.metrics import NO_METRICS, Metrics
from voxhub.services import Services
from voxhub.services.catalog import sync_catalog
from voxhub.services.clones import CLONE_JOB
from voxhub.services.previews import PREVIEW_JOB
from voxhub.settings import load_settings
from voxhub.storage import MemoryStorage
from voxhub.store import MemoryStore
from voxhub.workers import InlineRunner


class StaticEngine(Engine):
    """A fake engine for unit tests: a 440 Hz tone of 0.2 s per word, 0.05 s apart."""

    name = "static"
    aligns = True
    rate = 16000

    def synthesize(self, text: str, voice_key: str, speed: float) -> PieceAudio:
        spans, chunks, at = [], [], 0.0
        word, gap = 0.2 / speed, 0.05 / speed
        tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(round(word * self.rate)) / self.rate)
        for match in re.finditer(r"\S+", text):
            spans.append(SpokenSpan(match.start(), match.end(), at, at + word))
            chunks += [tone.astype(np.float32), np.zeros(round(gap * self.rate), np.float32)]
            at += word + gap
        return PieceAudio(np.concatenate(chunks), self.rate, spans)

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


def unit_services(
    store: MemoryStore, engine_names: list[str], metrics: Metrics = NO_METRICS, **environ: str
) -> Services:
    settings = load_settings(
        environ={
            "VOXHUB_RATE_LIMIT": "1000/second",
            "VOXHUB_AUTH_CACHE_SECONDS": "0",
            "VOXHUB_FILE_SECRET": "unit-test-secret",
            "VOXHUB_RENDER_PREVIEWS": "false",
            **environ,
        }
    )
    return build_services(
        settings, store, MemoryStorage(), InlineRunner(), StoreQueue(store),
        engine_names=engine_names, metrics=metrics,
    )  # fmt: skip


def run_next_job(services: Services) -> bool:
    """Lease the next job and run it to its end, as a job worker would (False: none ready)."""
    handlers: dict[str, JobHandler] = {
        CLONE_JOB: services.clones,
        PREVIEW_JOB: services.previews,
    }
    worker = JobWorker(services.queue, handlers, owner="unit-test")
    return asyncio.run(worker.run_once())


@pytest.fixture
def services(store: MemoryStore) -> Services:
    return unit_services(store, [StaticEngine.name])


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


def follow(client: TestClient, url: str) -> Any:
    """GET an absolute link the API answered (a signed file URL) through the test client."""
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")
