"""The composition root: the one place that chooses backends and wires services together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from voxhub.engines import installed_engines
from voxhub.services import KeyService, RateLimitService, Services, VoiceService
from voxhub.services.catalog import sync_catalog
from voxhub.services.keys import IssuedKey
from voxhub.settings import Settings
from voxhub.store import Store, open_store
from voxhub.store.migrate import upgrade

__all__ = ["build_services", "open_services", "prepare", "prepare_async"]


def build_services(settings: Settings, store: Store) -> Services:
    return Services(
        store=store,
        keys=KeyService(
            store,
            default_rate_limit=settings.rate_limit.default,
            cache_seconds=settings.auth.cache_seconds,
        ),
        voices=VoiceService(store, (engine.name for engine in installed_engines())),
        rate_limits=RateLimitService(settings.rate_limit.storage_url),
    )


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Services for one process, with the store open and the public catalog in memory."""
    store = open_store(settings.database_url)
    await store.open()
    try:
        services = build_services(settings, store)
        try:
            await services.voices.load_catalog()
            yield services
        finally:
            await services.rate_limits.close()
    finally:
        await store.close()


async def prepare_async(settings: Settings, *, first_key: bool) -> IssuedKey | None:
    """Seed the catalog and, on a first start, issue a key. Migrations must have run."""
    async with open_services(settings) as services:
        await sync_catalog(services.store, installed_engines(), time.time_ns() // 1000)
        return await services.keys.create_first_key() if first_key else None


def prepare(settings: Settings, *, first_key: bool = True) -> IssuedKey | None:
    """Everything a start needs before serving: migrate, seed the catalog, first key."""
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    return asyncio.run(prepare_async(settings, first_key=first_key))
