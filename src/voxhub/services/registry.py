"""The services one running process holds, built by the composition root (voxhub.container)."""

from __future__ import annotations

from dataclasses import dataclass

from voxhub.errors import ServiceUnavailable
from voxhub.jobs import JobQueue
from voxhub.services.assets import AssetService
from voxhub.services.clones import CloneService
from voxhub.services.design import DesignService
from voxhub.services.files import FileService
from voxhub.services.idempotency import IdempotencyService
from voxhub.services.keys import KeyService
from voxhub.services.previews import PreviewService
from voxhub.services.ratelimit import RateLimitService
from voxhub.services.speech import SpeechService
from voxhub.services.voices import VoiceService
from voxhub.services.webhooks import WebhookService
from voxhub.store import Store
from voxhub.workers.pool import JobRunner

__all__ = ["Services"]


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
    render_previews: bool = False
    public_url: str = ""  # the base of file links; empty: each request's own scheme and host
    design: DesignService | None = None  # Design a Voice (None: not offered)

    async def check_ready(self) -> None:
        """Raise ServiceUnavailable unless the database answers."""
        try:
            await self.store.ping()
        except ServiceUnavailable:
            raise
        except Exception as exc:
            raise ServiceUnavailable("The database is not reachable.") from exc

    async def close(self) -> None:
        self.runner.close()
        await self.rate_limits.close()
        await self.queue.close()
