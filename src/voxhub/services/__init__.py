"""Domain logic: services called by the API and by the CLI."""

from __future__ import annotations

from voxhub.services.keys import IssuedKey, KeyService
from voxhub.services.ratelimit import RateLimitService
from voxhub.services.registry import Services
from voxhub.services.voices import VoiceService

__all__ = ["IssuedKey", "KeyService", "RateLimitService", "Services", "VoiceService"]
