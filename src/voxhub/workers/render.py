"""Rendering a script into an audio file, in a worker process.

Pieces are synthesized one at a time, trimmed of their own leading and trailing silence,
transformed by the voice's profile, faded at the edges and streamed into the encoder, so memory
holds one piece and the encoded file, whatever the text's length. Between sentences goes a
short pause; an SSML break is a pause of exactly its length.

A few renderings ship with the package (``base_renderings/``, written by ``python -m
bench.base_embeddings``): the neural voices speaking the texts every clone needs — the
measurement text and the preview sentences. A preview (``render_preview``) reads a piece from
there when it ships rather than speak it, so a clone of a shipped voice, and a public voice's
preview, load no speech model at all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from voxhub.audio import FORMATS, StreamingEncoder, fade_edges, silence, trim_silence
from voxhub.audio.analysis import decode_at_own_rate
from voxhub.engines import Engine, EngineVoice, PieceAudio, Samples, VoiceProfile, apply_transform
from voxhub.workers.script import SENTENCE_PAUSE, Pause, Piece, Script
from voxhub.workers.state import current, init_worker

__all__ = [
    "RENDERING_VERSION",
    "NothingSpoken",
    "RenderJob",
    "RenderResult",
    "SpokenPart",
    "WordTiming",
    "engine_named",
    "init_worker",
    "model_dir",
    "render",
    "render_preview",
    "shipped_rendering",
    "shipped_rendering_name",
    "spoken_parts",
    "warm_up",
]

# Part of every shipped rendering's name (and of a kept measurement's): raise it when an engine's
# rendering of a shipped text changes (2: Kokoro's English dropped eSpeak's ʲ and slowed to 0.9).
RENDERING_VERSION = 2


class NothingSpoken(ValueError):
    """The voice made no sound for any of the text (it cannot read its script or digits)."""


@dataclass(frozen=True, slots=True)
class RenderJob:
    script: Script
    profile: VoiceProfile
    speed: float = 1.0
    audio_format: str = "mp3"


@dataclass(frozen=True, slots=True)
class WordTiming:
    word: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class RenderResult:
    audio: bytes
    duration: float
    sample_rate: int
    words: list[WordTiming] | None


def model_dir() -> Path | None:
    """Where this worker may keep files it derives from models (None: keep nothing)."""
    return current().model_dir


def engine_named(name: str) -> Engine:
    """This worker process's engine of that name (created at start, loaded on first use)."""
    return current().engine(name)


def _engine(name: str, engines: Mapping[str, Engine] | None = None) -> Engine:
    if engines is None:
        return engine_named(name)
    try:
        return engines[name]
    except KeyError:
        raise ValueError(f"no engine named {name!r} is installed") from None


def warm_up(profile: VoiceProfile) -> int:
    """Load an engine's model (a worker's first job): returns the worker's process id."""
    _engine(profile.engine).synthesize("Ready.", profile.voice_key, 1.0)
    return os.getpid()


def shipped_rendering_name(engine: str, voice_key: str, text: str) -> str:
    """The file under ``base_renderings/`` that holds a voice's shipped rendering of a text."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{engine}.{voice_key}.{digest}.v{RENDERING_VERSION}.flac"


def shipped_rendering(engine: str, voice_key: str, text: str) -> PieceAudio | None:
    """A voice's rendering of a text (at speed 1) as it ships with the package, if it does."""
    folder = resources.files("voxhub.workers").joinpath("base_renderings")
    file = folder.joinpath(shipped_rendering_name(engine, voice_key, text))
    if not file.is_file():
        return None
    samples, rate = decode_at_own_rate(file.read_bytes())
    return PieceAudio(samples, rate)


class _ShippedFirst(Engine):
    """An engine that reads a piece from the package when its rendering ships, and speaks it
    otherwise. Shipped pieces carry no word spans, so it does not align."""

    aligns = False

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.name = engine.name
        self.neural = engine.neural

    def voices(self) -> list[EngineVoice]:
        return self._engine.voices()

    def synthesize(self, text: str, voice_key: str, speed: float) -> PieceAudio:
        shipped = shipped_rendering(self.name, voice_key, text) if speed == 1.0 else None
        return shipped or self._engine.synthesize(text, voice_key, speed)


def render_preview(job: RenderJob) -> RenderResult:
    """``render`` for a preview: each piece whose rendering ships is read, not spoken."""
    name = job.profile.engine
    return render(job, {name: _ShippedFirst(engine_named(name))})


class _Timeline:
    """Collects word timings while pieces are appended to the encoder."""

    def __init__(self, aligns: bool) -> None:
        self.words: list[WordTiming] | None = [] if aligns else None

    def add(self, piece: Piece, audio: PieceAudio, cut: int, offset: float) -> None:
        if self.words is None:
            return
        if audio.spans is None:
            self.words = None
            return
        shift = cut / audio.sample_rate
        length = audio.duration
        previous = self.words[-1].end if self.words else offset
        for word in piece.words:
            hits = [s for s in audio.spans if s.char_start < word.end and s.char_end > word.start]
            if hits:
                start = min(max(0.0, min(s.start for s in hits) - shift), length) + offset
                end = min(max(0.0, max(s.end for s in hits) - shift), length) + offset
            else:
                start = end = previous
            start = max(start, self.words[-1].start if self.words else offset)
            end = max(end, start)
            self.words.append(WordTiming(word.text, round(start, 3), round(end, 3)))
            previous = end


@dataclass(frozen=True, slots=True)
class SpokenPart:
    """The next stretch of the audio: silence before a piece, then the piece (both may be
    empty), and the timings of the piece's words (None: the engine cannot align)."""

    lead: Samples
    samples: Samples
    sample_rate: int
    words: list[WordTiming] | None


def spoken_parts(job: RenderJob, engine: Engine) -> Iterator[SpokenPart]:
    """The job's audio, a piece at a time, the last part the trailing pause; raises
    NothingSpoken, before that last part, when no piece made a sound."""
    timeline = _Timeline(engine.aligns)
    pending_pause = 0.0
    last_was_piece = False
    spoken = written = 0
    sample_rate = 0
    for part in job.script.parts:
        if isinstance(part, Pause):
            pending_pause += part.seconds
            last_was_piece = False
            continue
        audio = engine.synthesize(part.text, job.profile.voice_key, job.speed)
        samples, cut = trim_silence(audio.samples, audio.sample_rate)
        samples = apply_transform(job.profile, samples, audio.sample_rate)
        spoken += len(samples)
        sample_rate = sample_rate or audio.sample_rate
        gap = pending_pause + (SENTENCE_PAUSE / job.speed if last_was_piece else 0.0)
        lead = silence(gap, sample_rate)
        written += len(lead)
        pending_pause, last_was_piece = 0.0, True
        known = len(timeline.words) if timeline.words is not None else 0
        timeline.add(
            part, PieceAudio(samples, audio.sample_rate, audio.spans), cut, written / sample_rate
        )
        faded = fade_edges(samples, audio.sample_rate)
        written += len(faded)
        words = None if timeline.words is None else timeline.words[known:]
        yield SpokenPart(lead, faded, sample_rate, words)
    if not sample_rate:  # only pauses: the script parser does not let this through
        raise ValueError("nothing to speak")
    if spoken == 0:
        raise NothingSpoken()
    tail = silence(pending_pause, sample_rate)
    yield SpokenPart(tail, tail[:0], sample_rate, [] if timeline.words is not None else None)


def render(job: RenderJob, engines: Mapping[str, Engine] | None = None) -> RenderResult:
    """Speak the job's script; ``engines`` by name (default: this process's installed ones)."""
    engine = _engine(job.profile.engine, engines)
    audio_format = FORMATS[job.audio_format]
    encoder: StreamingEncoder | None = None
    words: list[WordTiming] | None = []
    for part in spoken_parts(job, engine):
        if encoder is None:
            encoder = StreamingEncoder(audio_format, part.sample_rate)
        encoder.add(part.lead)
        encoder.add(part.samples)
        words = None if words is None or part.words is None else words + part.words
    assert encoder is not None  # spoken_parts yields at least its last part
    duration = round(encoder.duration, 3)
    if words is not None:  # timings were rounded to the millisecond like the duration
        words = [WordTiming(w.word, min(w.start, duration), min(w.end, duration)) for w in words]
    return RenderResult(encoder.finish(), duration, encoder.sample_rate, words)
