"""The services one running process holds, built by the composition root (voxhub.container)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from voxhub.errors import ServiceUnavailable
from voxhub.jobs import JobQueue
from voxhub.metrics import NO_METRICS, Metrics
from voxhub.services.assets import AssetService
from voxhub.services.clones import CloneService
from voxhub.services.design import DesignService
from voxhub.services.files import FileService
from voxhub.services.idempotency import IdempotencyService
from voxhub.services.keys import KeyService
from voxhub.services.previews import PreviewService
from voxhub.services.ratelimit import RateLimitService
from voxhub.services.speech import SpeechService
from voxhub.services.uploads import UploadService
from voxhub.services.voices import VoiceService
from voxhub.services.webhooks import WebhookService
from voxhub.store import Store
from voxhub.workers.pool import JobRunner

__all__ = ["Services"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    store: Store
    keys: KeyService
    voices: VoiceService
    rate_limits: RateLimitService
    files: FileService
    runner: JobRunner
    speech: SpeechService
    previews: PreviewService
    assets: AssetService
    idempotency: IdempotencyService
    clones: CloneService
    queue: JobQueue
    webhooks: WebhookService
    uploads: UploadService
    render_previews: bool = False
    public_url: str = ""  # the base of file links; empty: each request's own scheme and host
    metrics: Metrics = NO_METRICS  # this process's; GET /metrics answers every process's
    design: DesignService | None = None  # Design a Voice (None: not offered)

    async def check_ready(self) -> None:
        """Raise ServiceUnavailable unless the database answers."""
        try:
            await self.store.ping()
        except ServiceUnavailable:
            raise
        except Exception as exc:
            raise ServiceUnavailable("The database is not reachable.") from exc

    async def metrics_exposition(self) -> bytes:
        """Every process's metrics and the store's jobs by kind and state, merged in a thread
        (it reads every process's file)."""
        try:
            jobs = await self.store.count_jobs()
        except Exception:  # the database is away: the processes' own metrics still answer
            log.warning("could not count jobs for /metrics", exc_info=True)
            jobs = []
        self.metrics.flush()  # this process's latest requests too
        return await asyncio.to_thread(self.metrics.exposition, jobs)

    async def close(self) -> None:
        self.runner.close()
        await self.rate_limits.close()
        await self.queue.close()
