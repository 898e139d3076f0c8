"""The services one running process holds, built by the composition root (voxhub.container)."""

from __future__ import annotations

from dataclasses import dataclass

from voxhub.errors import ServiceUnavailable
from voxhub.services.keys import KeyService
from voxhub.services.ratelimit import RateLimitService
from voxhub.services.voices import VoiceService
from voxhub.store import Store

__all__ = ["Services"]


@dataclass(frozen=True, slots=True)
class Services:
    store: Store
    keys: KeyService
    voices: VoiceService
    rate_limits: RateLimitService

    async def check_ready(self) -> None:
        """Raise ServiceUnavailable unless the database answers."""
        try:
            await self.store.ping()
        except ServiceUnavailable:
            raise
        except Exception as exc:
            raise ServiceUnavailable("The database is not reachable.") from exc
