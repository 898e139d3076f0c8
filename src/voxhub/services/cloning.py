"""The clone job, in a worker process: from a voice sample to a voice profile and a preview.

1. decode the sample (first 3 minutes), judge it (speech found, silence, clipping, noise) —
   a refusal ends the clone as failed with a message for a person;
2. normalise its loudness, estimate the speaker's pitch and from it the gender;
3. choose the base voice among the candidates of the clone's language (same gender first,
   then the closest pitch);
4. measure the reference speaker and the base voice (the base once per worker, on a fixed
   paragraph) and keep both as the parameters of the ``world`` conversion;
5. render the preview in the cloned voice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from voxhub.audio.analysis import (
    SampleRejected,
    analyse,
    check_sample,
    decode_sample,
    median_pitch_hz,
    normalise_loudness,
    resample,
)
from voxhub.audio.conversion import voice_statistics
from voxhub.engines import VoiceProfile
from voxhub.services.render import RenderJob, engine_named, render
from voxhub.services.script import Piece, parse_input

__all__ = ["BaseVoice", "CloneJob", "CloneOutcome", "process_clone"]

MALE_BELOW_HZ = 165.0
_MEASURE_TEXT = (
    "The old lighthouse keeper climbed the stairs every evening to light the lamp. Ships "
    "passing in the night would see the beam, and they knew the rocks were near. In winter "
    "the wind howled around the tower, but the light never failed."
)
_base_statistics: dict[tuple[str, str], dict[str, Any]] = {}


@dataclass(frozen=True, slots=True)
class BaseVoice:
    engine: str
    voice_key: str
    gender: str | None
    language: str


@dataclass(frozen=True, slots=True)
class CloneJob:
    audio: bytes
    candidates: tuple[BaseVoice, ...]  # voices of the clone's language, best engines first
    preview_text: str


@dataclass(frozen=True, slots=True)
class CloneOutcome:
    failure: str | None = None
    gender: str | None = None
    base: BaseVoice | None = None
    profile: str | None = None  # JSON
    preview: bytes | None = None


def _base_voice_statistics(base: BaseVoice) -> dict[str, Any]:
    key = (base.engine, base.voice_key)
    if key not in _base_statistics:
        engine = engine_named(base.engine)
        pieces = parse_input(_MEASURE_TEXT, "text", pauses=False).parts
        texts = [p.text for p in pieces if isinstance(p, Piece)]
        spoken = [engine.synthesize(text, base.voice_key, 1.0) for text in texts]
        samples = np.concatenate([s.samples for s in spoken])
        _base_statistics[key] = voice_statistics(samples, spoken[0].sample_rate)
    return _base_statistics[key]


def choose_base(candidates: tuple[BaseVoice, ...], gender: str) -> BaseVoice:
    """The first candidate of the speaker's gender (candidates come best engine first)."""
    return next((c for c in candidates if c.gender == gender), candidates[0])


def process_clone(job: CloneJob) -> CloneOutcome:
    try:
        samples = decode_sample(job.audio)
        check_sample(analyse(samples))
    except SampleRejected as rejected:
        return CloneOutcome(failure=rejected.message)
    samples = normalise_loudness(samples)
    pitch = median_pitch_hz(samples)
    gender = "male" if pitch < MALE_BELOW_HZ else "female"
    base = choose_base(job.candidates, gender)
    source = _base_voice_statistics(base)
    target = voice_statistics(resample(samples, 16000, source["rate"]), source["rate"])
    parameters = {"source": source, "target": target}
    profile = VoiceProfile(base.engine, base.voice_key, "world", parameters)
    script = parse_input(job.preview_text, "text", pauses=True)
    preview = render(RenderJob(script, profile))
    stored = json.dumps({"transform": "world", "parameters": parameters})
    return CloneOutcome(gender=gender, base=base, profile=stored, preview=preview.audio)
