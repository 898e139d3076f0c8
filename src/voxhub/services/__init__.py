"""Domain logic: services called by the API and by the CLI."""

from __future__ import annotations

from voxhub.services.assets import AssetService
from voxhub.services.files import FileService
from voxhub.services.idempotency import IdempotencyService, Replay
from voxhub.services.keys import IssuedKey, KeyService
from voxhub.services.previews import PreviewService
from voxhub.services.ratelimit import RateLimitService
from voxhub.services.registry import Services
from voxhub.services.speech import SpeechRequest, SpeechResult, SpeechService
from voxhub.services.voices import VoiceService

__all__ = [
    "AssetService",
    "FileService",
    "IdempotencyService",
    "IssuedKey",
    "KeyService",
    "PreviewService",
    "RateLimitService",
    "Replay",
    "Services",
    "SpeechRequest",
    "SpeechResult",
    "SpeechService",
    "VoiceService",
]
