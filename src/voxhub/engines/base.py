"""The engine interface: what a speech engine offers and how it speaks.

An engine lists its voices (cheap, no model loaded) and synthesizes one piece of plain text —
a sentence or so — in one of them. Everything above a piece (SSML, sentence splitting, joining,
encoding, word timestamps for the whole input, a cloned voice's transformation) is done by the
speech pipeline, so an engine stays small and a cloned voice can sit on a base voice of any
engine.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["Engine", "EngineVoice", "PieceAudio", "Samples", "SpokenSpan"]

Samples = npt.NDArray[np.float32]


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


@dataclass(frozen=True, slots=True)
class SpokenSpan:
    """Where a stretch of the piece's text is heard: characters [char_start, char_end) of the
    piece, spoken from ``start`` to ``end`` seconds into the piece's audio."""

    char_start: int
    char_end: int
    start: float
    end: float


@dataclass(slots=True)
class PieceAudio:
    """One synthesized piece: mono float32 samples in [-1, 1], and — when the engine can
    align — spans of its text, in order."""

    samples: Samples
    sample_rate: int
    spans: list[SpokenSpan] | None = field(default=None)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


class Engine(abc.ABC):
    """A speech engine. Instances are created cheaply; models load on the first synthesis and
    stay loaded for the life of the (worker) process."""

    name: str
    #: Whether ``synthesize`` returns spans (so the pipeline can give word timestamps).
    aligns: bool = False
    #: A neural voice: clones of its language start from such voices (a converted neural
    #: voice stays natural where a formant voice would not). A plug-in engine says so too.
    neural: bool = False

    @abc.abstractmethod
    def voices(self) -> list[EngineVoice]:
        """Every voice this engine can speak on this installation (cheap: no model loaded)."""

    @abc.abstractmethod
    def synthesize(self, text: str, voice_key: str, speed: float) -> PieceAudio:
        """Speak one piece of plain text (no markup) in a voice of ``voices()`` or ``mixes()``.

        ``speed`` is a multiplier of the voice's natural rate (0.5–2.0).
        """

    def mixes(self, voice_keys: Sequence[str]) -> list[str]:
        """Keys of voices ``synthesize`` also speaks, made by mixing voices of ``voice_keys``
        (all of one language), for clones to start from; they are not listed. An engine that
        cannot mix its voices has none."""
        return []
