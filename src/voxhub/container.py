"""The composition root: the one place that chooses backends and wires services together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from voxhub.engines import installed_engines
from voxhub.services import (
    AssetService,
    FileService,
    IdempotencyService,
    JobRunner,
    KeyService,
    PreviewService,
    RateLimitService,
    Services,
    SpeechService,
    VoiceService,
    WorkerPool,
)
from voxhub.services.catalog import sync_catalog
from voxhub.services.clones import CloneLimits, CloneService
from voxhub.services.fetch import UrlFetcher
from voxhub.services.files import load_or_create_secret
from voxhub.services.keys import IssuedKey
from voxhub.services.render import init_worker
from voxhub.settings import Settings
from voxhub.storage import LocalStorage, Storage
from voxhub.store import Store, open_store
from voxhub.store.migrate import upgrade

__all__ = [
    "build_services",
    "open_key_service",
    "open_services",
    "prepare",
    "prepare_async",
    "worker_pool",
]


def build_services(
    settings: Settings,
    store: Store,
    storage: Storage,
    runner: JobRunner,
    *,
    engine_names: Iterable[str] | None = None,
) -> Services:
    names = engine_names if engine_names is not None else (e.name for e in installed_engines())
    voices = VoiceService(store, names, clone_deadline_seconds=settings.clone.deadline_seconds)
    files = FileService(storage, _file_secret(settings), settings.storage.file_url_ttl_seconds)
    assets = AssetService(store, files)
    fetcher = UrlFetcher(allowed_networks=settings.clone.allowed_networks)
    limits = CloneLimits(
        settings.clone.voices_per_account,
        settings.clone.deadline_seconds,
        settings.clone.lease_seconds,
    )
    return Services(
        store=store,
        keys=KeyService(
            store,
            default_rate_limit=settings.rate_limit.default,
            cache_seconds=settings.auth.cache_seconds,
        ),
        voices=voices,
        rate_limits=RateLimitService(settings.rate_limit.storage_url),
        files=files,
        runner=runner,
        speech=SpeechService(voices, runner, files),
        previews=PreviewService(voices, runner, storage),
        assets=assets,
        idempotency=IdempotencyService(store),
        clones=CloneService(store, storage, voices, assets, runner, fetcher, limits),
        render_previews=settings.speech.render_previews,
        public_url=settings.server.public_url,
        process_clones=settings.clone.process_jobs,
        measure_base_voices=settings.clone.process_jobs and settings.clone.measure_base_voices,
    )


def _file_secret(settings: Settings) -> bytes:
    if settings.storage.file_secret:
        return settings.storage.file_secret.encode()
    return load_or_create_secret(settings.storage.data_dir.resolve() / "file-signing.key")


def worker_pool(settings: Settings) -> WorkerPool:
    return WorkerPool(
        settings.speech.workers,
        settings.speech.queue,
        timeout_seconds=settings.speech.timeout_seconds,
        initializer=init_worker,
        initargs=(str(settings.model_dir),),
    )


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Services for one process: the store open, the worker pool started, the public catalog
    in memory with the previews already rendered."""
    store = open_store(settings.database_url)
    await store.open()
    try:
        services = build_services(
            settings, store, LocalStorage(settings.files_dir), worker_pool(settings)
        )
        try:
            await services.voices.load_catalog()
            await services.previews.find_existing()
            yield services
        finally:
            await services.close()
    finally:
        await store.close()


@asynccontextmanager
async def open_key_service(settings: Settings) -> AsyncIterator[KeyService]:
    """Just the keys, for the CLI: no workers, no catalog."""
    store = open_store(settings.database_url)
    await store.open()
    try:
        yield KeyService(store, default_rate_limit=settings.rate_limit.default, cache_seconds=0)
    finally:
        await store.close()


async def prepare_async(settings: Settings, *, first_key: bool) -> IssuedKey | None:
    """Seed the catalog and, on a first start, issue a key. Migrations must have run."""
    async with open_key_service(settings) as keys:
        await sync_catalog(keys.store, installed_engines(), time.time_ns() // 1000)
        return await keys.create_first_key() if first_key else None


def prepare(settings: Settings, *, first_key: bool = True) -> IssuedKey | None:
    """Everything a start needs before serving: migrate, seed the catalog, first key."""
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    return asyncio.run(prepare_async(settings, first_key=first_key))
