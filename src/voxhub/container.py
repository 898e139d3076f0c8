"""The composition root: the one place that chooses backends and wires services together.

Two kinds of process are built here. An API process (``open_services``) answers requests and
runs speech in its own worker pool. A job worker process (``run_job_worker``) leases and runs
jobs — clones, previews — in a worker pool at a lower CPU priority. ``voxhub serve`` runs both
kinds on one machine; scaled out, ``voxhub serve --role api`` and ``voxhub worker`` run them on
as many machines as needed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from voxhub.engines import Engine, installed_engines
from voxhub.jobs import JobHandler, JobQueue, JobWorker, open_queue, worker_name
from voxhub.metrics import NO_METRICS, Metrics, PrometheusMetrics
from voxhub.services import (
    AssetService,
    FileService,
    IdempotencyService,
    KeyService,
    PreviewService,
    RateLimitService,
    Services,
    SpeechService,
    VoiceService,
)
from voxhub.services.background import worker_tasks
from voxhub.services.catalog import sync_catalog
from voxhub.services.clones import CLONE_JOB, CloneLimits, CloneService
from voxhub.services.design import TRAITS_JOB, DesignService
from voxhub.services.fetch import FetchLimits, UrlFetcher
from voxhub.services.files import load_or_create_secret
from voxhub.services.keys import IssuedKey
from voxhub.services.previews import PREVIEW_JOB
from voxhub.services.secrets import SecretBox
from voxhub.services.uploads import UploadService
from voxhub.services.webhooks import WEBHOOK_JOB, WebhookLimits, WebhookService
from voxhub.settings import Settings
from voxhub.storage import Storage, open_storage
from voxhub.store import Store, open_store
from voxhub.store.migrate import upgrade
from voxhub.workers import JobRunner, WorkerPool
from voxhub.workers.render import init_worker

__all__ = [
    "build_services",
    "count_jobs_now",
    "open_key_service",
    "open_metrics",
    "open_services",
    "prepare",
    "prepare_async",
    "run_job_worker",
    "speech_pool",
]

log = logging.getLogger(__name__)


def _engines(names: Iterable[str] | None) -> list[Engine]:
    engines = installed_engines()
    if names is None:
        return engines
    wanted = set(names)
    return [engine for engine in engines if engine.name in wanted]


def build_services(
    settings: Settings,
    store: Store,
    storage: Storage,
    runner: JobRunner,
    queue: JobQueue,
    *,
    engine_names: Iterable[str] | None = None,
    metrics: Metrics = NO_METRICS,
) -> Services:
    engines = _engines(engine_names)
    names = engine_names if engine_names is not None else [e.name for e in engines]
    neural = [engine.name for engine in engines if engine.neural]
    voices = VoiceService(store, names, settings.clone.deadline_seconds, neural_engines=neural)
    files = FileService(
        storage,
        _file_secret(settings),
        settings.storage.file_url_ttl_seconds,
        links=settings.storage.file_links,
    )
    assets = AssetService(store, files)
    fetcher = UrlFetcher(allowed_networks=settings.clone.allowed_networks)
    webhooks = _webhooks(settings, store, files)
    limits = CloneLimits(
        settings.clone.voices_per_account,
        settings.clone.deadline_seconds,
        settings.clone.lease_seconds,
        settings.clone.frame_blend,
        settings.clone.base_engine_names,
    )
    design = DesignService(store, voices, runner, storage, yields_to=(CLONE_JOB,))
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
        speech=SpeechService(voices, runner, files, metrics),
        previews=PreviewService(voices, runner, storage, design),
        assets=assets,
        idempotency=IdempotencyService(store),
        clones=CloneService(
            store,
            storage,
            voices,
            assets,
            runner,
            fetcher,
            queue,
            limits,
            webhooks,
            metrics=metrics,
            traits=design,
        ),
        queue=queue,
        webhooks=webhooks,
        uploads=UploadService(store, files),
        render_previews=settings.speech.render_previews,
        public_url=settings.server.public_url,
        metrics=metrics,
        design=design,
    )


def _webhooks(settings: Settings, store: Store, files: FileService) -> WebhookService:
    hooks = settings.webhooks
    key = hooks.key.encode() if hooks.key else _file_secret(settings)
    fetcher = UrlFetcher(
        FetchLimits(timeout_seconds=hooks.timeout_seconds),
        allowed_networks=settings.clone.allowed_networks,
        param="url",
    )
    limits = WebhookLimits(
        max_attempts=hooks.max_attempts,
        retry_base_seconds=hooks.retry_base_seconds,
        disable_after=hooks.disable_after,
        rotation_grace_seconds=hooks.secret_grace_seconds,
    )
    base = _public_base(settings)

    def preview_link(key: str) -> str:
        link = files.link(key)
        return base + link if link.startswith("/") else link

    return WebhookService(store, SecretBox(key), fetcher, preview_link, limits)


def _public_base(settings: Settings) -> str:
    """Where clients reach the API, for links made away from a request (webhook events)."""
    if settings.server.public_url:
        return settings.server.public_url
    host = settings.server.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - a link's host
    return f"http://{shown}:{settings.server.port}"


def _file_secret(settings: Settings) -> bytes:
    if settings.storage.file_secret:
        return settings.storage.file_secret.encode()
    return load_or_create_secret(settings.storage.data_dir.resolve() / "file-signing.key")


def open_metrics(settings: Settings) -> Metrics:
    """This process's metrics (once per process: see voxhub.metrics)."""
    if not settings.metrics.enabled:
        return NO_METRICS
    return PrometheusMetrics(answered_here=settings.metrics.port == 0)


def count_jobs_now(settings: Settings) -> list[tuple[str, str, int]]:
    """The store's jobs by kind and state, from a thread with no event loop (a scrape on the
    metrics port)."""

    async def count() -> list[tuple[str, str, int]]:
        store = open_store(settings.database_url)
        await store.open()
        try:
            return await store.count_jobs()
        finally:
            await store.close()

    return asyncio.run(count())


def speech_pool(settings: Settings, metrics: Metrics = NO_METRICS) -> WorkerPool:
    """An API process's pool: speech a client waits for, a little below the API processes
    (Get Voice polls answer first), above the job workers."""
    return WorkerPool(
        settings.speech.workers,
        settings.speech.queue,
        timeout_seconds=settings.speech.timeout_seconds,
        initializer=init_worker,
        initargs=(str(settings.model_dir), settings.speech.niceness),
        name="speech",
        metrics=metrics,
    )


def _job_pool(settings: Settings, metrics: Metrics) -> WorkerPool:
    """A job worker's pool: one process per concurrent job, below the API in CPU priority.
    Its queue is empty: the job worker leases no more jobs than it has processes."""
    return WorkerPool(
        settings.queue.workers,
        settings.queue.workers,
        timeout_seconds=settings.speech.timeout_seconds,
        initializer=init_worker,
        initargs=(str(settings.model_dir), settings.queue.worker_niceness),
        name="jobs",
        metrics=metrics,
    )


@asynccontextmanager
async def _opened(
    settings: Settings, runner: JobRunner, metrics: Metrics
) -> AsyncIterator[Services]:
    store = open_store(settings.database_url)
    await store.open()
    queue = open_queue(settings.queue.url, store)
    try:
        await queue.open()
        services = build_services(
            settings, store, open_storage(settings.storage_url), runner, queue, metrics=metrics
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
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Services for one API process: the store and queue open, the speech pool started, the
    public catalog in memory with the previews found so far."""
    metrics = open_metrics(settings)
    async with _opened(settings, speech_pool(settings, metrics), metrics) as services:
        yield services


async def _work_jobs(settings: Settings, stop: asyncio.Event) -> None:
    metrics = open_metrics(settings)
    async with _opened(settings, _job_pool(settings, metrics), metrics) as services:
        handlers: dict[str, JobHandler] = {
            CLONE_JOB: services.clones,
            PREVIEW_JOB: services.previews,
        }
        if services.design is not None:
            handlers[TRAITS_JOB] = services.design
        worker = JobWorker(
            services.queue,
            handlers,
            owner=worker_name("worker"),
            lease_seconds=settings.clone.lease_seconds,
            concurrency=settings.queue.workers,
            metrics=metrics,
        )
        deliveries = JobWorker(  # network waits, many at once, beside the CPU work
            services.queue,
            {WEBHOOK_JOB: services.webhooks},
            owner=worker_name("webhooks"),
            lease_seconds=settings.clone.lease_seconds,  # one lease for every worker of a queue
            concurrency=settings.webhooks.concurrency,
            metrics=metrics,
        )
        tasks = worker_tasks(
            services, services.queue, worker, measure=settings.clone.measure_base_voices
        )
        tasks.append(asyncio.create_task(deliveries.run()))
        log.info("job worker started", extra={"slots": settings.queue.workers})
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def run_job_worker(settings: Settings) -> None:
    """``voxhub worker``: lease and run jobs until SIGTERM or SIGINT (running jobs are released,
    to be taken again at once by another worker)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await _work_jobs(settings, stop)

    asyncio.run(main())


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
