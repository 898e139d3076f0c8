"""The engine interface: what a speech engine offers.

An engine lists the voices it can speak. Synthesis joins this interface with the speech
endpoint; the catalog only needs the list.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

__all__ = ["Engine", "EngineVoice"]


@dataclass(frozen=True, slots=True)
class EngineVoice:
    """One voice as its engine describes it."""

    engine: str
    key: str  # the engine's own, stable name for the voice
    name: str  # display name
    language: str  # language name as the hosted API writes it, e.g. "English"
    gender: str  # "male" | "female"
    locale: str | None  # BCP-47, e.g. "en-US"
    support_pause: bool
    support_locale: bool


class Engine(abc.ABC):
    name: str

    @abc.abstractmethod
    def voices(self) -> list[EngineVoice]:
        """Every voice this engine can speak on this installation (cheap: no model loaded)."""
