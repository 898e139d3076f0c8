"""Speech engines."""

from __future__ import annotations

from voxhub.engines.base import Engine, EngineVoice
from voxhub.engines.espeak import EspeakEngine

__all__ = ["Engine", "EngineVoice", "EspeakEngine", "installed_engines"]


def installed_engines() -> list[Engine]:
    """The engines this installation ships, in catalog order."""
    return [EspeakEngine()]
