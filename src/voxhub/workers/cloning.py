"""The clone job, in a worker process: from a voice sample to a voice profile and a preview.

1. decode the sample (first 3 minutes), judge it (speech found, silence, clipping, noise, a
   second voice) — a refusal ends the clone as failed with a message for a person;
2. normalise its loudness; estimate the speaker's bandwidth and speaker embedding
   (``audio/speaker.py``), and the gender: 12 s of the sample and the English base voices
   (shipped), all moved to one pitch, the closer gender by embedding, the pitch breaking a tie
   (``audio/gender.py``);
3. choose the base voice: among the clone language's voices of the best kind (neural where
   any speaks it: a converted neural voice stays intelligible where a formant voice that happens
   to be closer would not) and the mixes their engines make of them whose measurements ship
   (Kokoro's man with each of its women), the one whose speaker embedding is closest to the
   sample's;
4. measure the reference speaker and the base voice (the base low-passed to the reference's
   band), and the reference's speech frames, and keep them as the parameters of the ``world``
   conversion; choose its strength (none, half, full) and its frame blend (none, or the
   operator's ``frame_blend``; a blending clone's frames are a file in its storage folder,
   not in its record) by the similarity of the converted base voice to the speaker,
   measured with the pipeline's own encoder; an operator's converter
   (``engines/converters.py``) that comes closer still is kept instead;
5. render the preview in the cloned voice: the base voice's shipped rendering of the preview
   sentences (``render_preview``) converted, so a clone from a shipped voice loads no speech
   model.

A base voice is measured on its own rendering of a fixed text, once: the rendering and its
embedding are kept in memory and, when the worker has a model directory, on disk under
``voice-measurements/``, so a restart does not pay for it again. The shipped neural voices'
measurements come with the package — their embeddings (``base_embeddings.json``) and their
renderings (``base_renderings/*.flac``, ~0.5 MB a voice with the preview sentences) — so the
first clone of a fresh install synthesizes nothing; a voice with nothing shipped is rendered
when a clone first needs it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from voxhub.audio.analysis import (
    SPEECH_WINDOW,
    SampleRejected,
    analyse,
    check_sample,
    decode_sample,
    median_pitch_hz,
    normalise_loudness,
    resample,
    speech_mask,
)
from voxhub.audio.conversion import (
    bandwidth_hz,
    convert_variants,
    frames_file,
    low_pass,
    speaker_statistics_and_frames,
    voice_statistics,
)
from voxhub.audio.gender import neutral_pitch_embedding, voice_gender
from voxhub.audio.speaker import (
    EMBEDDING_RATE,
    cosine,
    second_speaker_seconds,
    speaker_embedding,
)
from voxhub.engines import VoiceProfile, profile_json, with_stored
from voxhub.workers.render import (
    RENDERING_VERSION,
    RenderJob,
    engine_named,
    model_dir,
    render_preview,
    shipped_rendering,
)
from voxhub.workers.render import shipped_rendering_name as _rendering_name
from voxhub.workers.script import Piece, parse_input
from voxhub.workers.state import current

__all__ = [
    "BaseVoice",
    "CloneJob",
    "CloneOutcome",
    "gender_references",
    "measure_text",
    "measure_voices",
    "process_clone",
    "shipped_key",
    "shipped_rendering_name",
    "with_mixes",
]

SEVERAL_SPEAKERS = (
    "More than one person seems to speak in the recording (about {seconds:.0f} s sound like "
    "another voice). Record one person speaking clearly for 10 to 30 seconds in a quiet room."
)
_STRENGTHS = (0.5, 1.0)
_SEARCH_SECONDS = 8
_CONVERSION_SECONDS = 30
_GENDER_SECONDS = 12
_MEASURE_VERSION = RENDERING_VERSION  # part of every kept and shipped measurement's key
_MEASURE_TEXTS = {
    "en": (
        "The old lighthouse keeper climbed the stairs every evening to light the lamp. Ships "
        "passing in the night would see the beam, and they knew the rocks were near. In winter "
        "the wind howled around the tower, but the light never failed."
    ),
    "ja": (
        "古い灯台の守り人は、毎晩階段を上って明かりをつけました。夜に通る船はその光を見て、"
        "岩が近いことを知りました。冬には塔のまわりで風が吠えましたが、光は一度も消えませんでした。"
    ),
}
# Other languages (eSpeak NG voices): numbers are read in the voice's own language.
_MEASURE_FALLBACK = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10. 11, 12, 13, 14, 15, 16, 17, 18, 19, 20."


def measure_text(language_code: str) -> str:
    """The text a base voice of that language is measured on."""
    return _MEASURE_TEXTS.get(language_code, _MEASURE_FALLBACK)


@dataclass(frozen=True, slots=True)
class BaseVoice:
    engine: str
    voice_key: str
    gender: str | None
    language: str
    text: str = _MEASURE_TEXTS["en"]  # what it is measured on (its language's)


@dataclass(frozen=True, slots=True)
class CloneJob:
    audio: bytes
    candidates: tuple[BaseVoice, ...]  # the language's voices of the best kind (neural first)
    preview_text: str
    frame_blend: float = 0.0  # the most the conversion may blend toward the speaker's frames
    folder: str = ""  # the clone's storage folder: where files its profile names are kept


@dataclass(frozen=True, slots=True)
class CloneOutcome:
    failure: str | None = None
    gender: str | None = None
    base: BaseVoice | None = None
    profile: str | None = None  # JSON
    preview: bytes | None = None
    files: Mapping[str, bytes] = field(default_factory=dict)  # storage key: bytes the profile names


@dataclass(frozen=True, slots=True)
class _Measured:
    samples: Any  # the base voice's rendering of its text
    rate: int
    embedding: Any


def _cache_file(base: BaseVoice) -> Path | None:
    folder = model_dir()
    if folder is None:
        return None
    name = f"{base.engine}\n{base.voice_key}\n{base.text}\n{_MEASURE_VERSION}"
    return folder / "voice-measurements" / f"{hashlib.sha256(name.encode()).hexdigest()}.npz"


def _render_measurement(base: BaseVoice) -> _Measured:
    engine = engine_named(base.engine)
    parts = parse_input(base.text, "text", pauses=False).parts
    texts = [part.text for part in parts if isinstance(part, Piece)]
    spoken = [engine.synthesize(text, base.voice_key, 1.0) for text in texts]
    samples = np.concatenate([s.samples for s in spoken]).astype(np.float32)
    rate = spoken[0].sample_rate
    return _Measured(samples, rate, _embedded(samples, rate))


def _embedded(samples: Any, rate: int) -> Any:
    """The speaker embedding of speech at any sample rate."""
    return speaker_embedding(resample(samples, rate, EMBEDDING_RATE))


def _measure(base: BaseVoice) -> _Measured:
    """The base voice's rendering and embedding: from memory, disk, the package, or rendered
    now (and then kept on disk)."""
    key = (base.engine, base.voice_key, base.text)
    cached = current().measured.get(key)
    if isinstance(cached, _Measured):
        return cached
    path = _cache_file(base)
    measured = _kept(path) or _shipped(base) or _rendered(base, path)
    current().measured.put(key, measured)
    return measured


def _kept(path: Path | None) -> _Measured | None:
    if path is None or not path.exists():
        return None
    with np.load(path) as stored:
        return _Measured(stored["samples"], int(stored["rate"]), stored["embedding"])


def shipped_rendering_name(base: BaseVoice) -> str:
    """The file under ``base_renderings/`` that holds a base voice's shipped measurement."""
    return _rendering_name(base.engine, base.voice_key, base.text)


def _shipped(base: BaseVoice) -> _Measured | None:
    """The rendering shipped with the package (written by ``python -m bench.base_embeddings``
    as a clone job renders it), with its shipped embedding."""
    shipped = shipped_rendering(base.engine, base.voice_key, base.text)
    if shipped is None:
        return None
    samples, rate = shipped.samples, shipped.sample_rate
    embedding = _shipped_embeddings().get(shipped_key(base))
    return _Measured(samples, rate, _embedded(samples, rate) if embedding is None else embedding)


def _rendered(base: BaseVoice, path: Path | None) -> _Measured:
    measured = _render_measurement(base)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial.npz")
        np.savez(partial, samples=measured.samples, rate=measured.rate,
                 embedding=measured.embedding)  # fmt: skip
        partial.replace(path)
    return measured


def measure_voices(candidates: tuple[BaseVoice, ...]) -> int:
    """Measure base voices ahead of the first clone that needs them (a worker job)."""
    for candidate in candidates:
        _measure(candidate)
    return len(candidates)


def _base_statistics(base: BaseVoice, band_hz: int) -> dict[str, Any]:
    """The base voice's statistics, its rendering low-passed to the reference's band."""
    key = (base.engine, base.voice_key, base.text, str(band_hz))
    cached = current().measured.get(key)
    if isinstance(cached, dict):
        return cached
    measured = _measure(base)
    statistics = voice_statistics(low_pass(measured.samples, measured.rate, band_hz), measured.rate)
    current().measured.put(key, statistics)
    return statistics


def shipped_key(base: BaseVoice) -> str:
    """How a base voice's embedding is found in ``base_embeddings.json``."""
    text = hashlib.sha256(base.text.encode()).hexdigest()[:16]
    return f"{base.engine}/{base.voice_key}/{text}/{_MEASURE_VERSION}"


@cache
def _shipped_embeddings() -> dict[str, Any]:
    """The shipped voices' embeddings, measured as ``_measure`` does when the package was
    built (``python -m bench.base_embeddings``): one small file, read once."""
    table = resources.files("voxhub.workers").joinpath("base_embeddings.json").read_text()
    return {key: np.asarray(vector, np.float32) for key, vector in json.loads(table).items()}


def _embedding(base: BaseVoice) -> Any:
    """A base voice's embedding: its measurement when this worker already has one, else the
    one shipped with the package, else measured now. Choosing a base voice then renders only
    the chosen one, so the first clone of a fresh install does not render them all."""
    key = (base.engine, base.voice_key, base.text)
    path = _cache_file(base)
    measured = current().measured.get(key) is not None or (path is not None and path.exists())
    shipped = None if measured else _shipped_embeddings().get(shipped_key(base))
    return shipped if shipped is not None else _measure(base).embedding


def with_mixes(candidates: tuple[BaseVoice, ...]) -> tuple[BaseVoice, ...]:
    """The candidates and the mixes their engines make of them (``Engine.mixes``) whose
    measurements ship: a voice between two of them can be closer to the speaker than either,
    but one rendered at clone time would cost the clone seconds it does not have."""
    mixes = []
    for name in dict.fromkeys(c.engine for c in candidates):
        group = [c for c in candidates if c.engine == name]
        for key in engine_named(name).mixes([c.voice_key for c in group]):
            mix = BaseVoice(name, key, None, group[0].language, group[0].text)
            if shipped_key(mix) in _shipped_embeddings():
                mixes.append(mix)
    return candidates + tuple(mixes)


def choose_base(candidates: tuple[BaseVoice, ...], embedding: Any) -> tuple[BaseVoice, float]:
    """The candidate closest to the speaker, and how close."""
    scored = [(cosine(_embedding(c), embedding), c) for c in candidates]
    similarity, base = max(scored, key=lambda scored: scored[0])
    return base, similarity


def _blends(frame_blend: float) -> tuple[float, ...]:
    """The frame blends tried: none and the most allowed. Half of it came within 0.001 of the
    better of those two, or below it, for each of twelve human samples (six speakers, 30 s and
    15 s), since the own encoder's score rises with the blend; trying it cost a clone a third
    of its search."""
    return (0.0,) if frame_blend <= 0 else (0.0, frame_blend)


def _best_conversion(
    base: BaseVoice, parameters: dict[str, Any], embedding: Any, frame_blend: float
) -> tuple[dict[str, Any], float, float]:
    """How far to convert: the strength (none, half, full) and frame blend whose conversion of
    the base voice's measurement excerpt is closest to the speaker by the pipeline's own
    encoder (the bench's judges never take part), as ``{"strength", "blend"}``, its
    similarity, and the unconverted excerpt's. Converting a base voice that is already close
    can move it away (the vocoder's own colouring), so "none" competes — scored on the same
    excerpt. (The whole measurement's embedding, which chose the base voice, scored up to 0.04
    away from its first 8 s, and once kept a bench speaker from a conversion that was closer
    by every judge.)"""
    measured = _measure(base)
    excerpt = measured.samples[: _SEARCH_SECONDS * measured.rate]
    choices = [{"strength": s, "blend": b} for s in _STRENGTHS for b in _blends(frame_blend)]
    variants = [{**parameters, **choice} for choice in choices]
    converted = convert_variants(excerpt, measured.rate, variants)
    unconverted = _closeness(excerpt, measured.rate, embedding)
    best: tuple[dict[str, Any], float] = ({"strength": 0.0, "blend": 0.0}, unconverted)
    for choice, speech in zip(choices, converted, strict=True):
        similarity = _closeness(speech, measured.rate, embedding)
        if similarity > best[1]:
            best = (choice, similarity)
    return best[0], best[1], unconverted


def _kept_parameters(
    parameters: dict[str, Any], chosen: dict[str, Any], folder: str
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The ``world`` parameters a clone keeps in its record, and the files kept beside it:
    the reference's frames, only when it blends, as a file in the clone's folder (they are
    ~200 KB: Get Voice reads the record)."""
    kept = {**parameters, **chosen}
    frames = kept.pop("frames")
    if not chosen["blend"]:
        del kept["blend"]
        return kept, {}
    key = f"{folder}/frames.json"
    return {**kept, "stored": {"frames": key}}, {key: frames_file(frames)}


def _closeness(converted: Any, rate: int, embedding: Any) -> float:
    return cosine(_embedded(converted, rate), embedding)


def _best_plugin(
    base: BaseVoice, reference: Any, embedding: Any, best: float
) -> tuple[str, dict[str, Any], float] | None:
    """The operator's converter (``engines/converters.py``) whose conversion of the base
    voice's measurement speech is closer to the speaker than ``best``, if one is."""
    measured = _measure(base)
    excerpt = measured.samples[: _SEARCH_SECONDS * measured.rate]
    chosen = None
    for converter in current().converters:
        parameters = converter.prepare(resample(reference, EMBEDDING_RATE, measured.rate),
                                       measured.samples, measured.rate)  # fmt: skip
        similarity = _closeness(converter.convert(excerpt, measured.rate, parameters),
                                measured.rate, embedding)  # fmt: skip
        if similarity > best:
            chosen, best = (converter.name, parameters, similarity), similarity
    return chosen


def _conversion_stretch(samples: Any, speech: Any) -> Any:
    """What the conversion measures the speaker on: ``_CONVERSION_SECONDS`` from where the
    voice activity detector first hears speech. The gates and the speaker embedding take the
    whole sample; WORLD's analysis costs ~0.1 s a second of it, and 90 s instead moved
    neither independent judge on the mean (README, "Long samples"; the frames a clone keeps
    are its first 20 s of speech anyway)."""
    heard = np.flatnonzero(speech)
    start = max(0, int(heard[0]) * SPEECH_WINDOW - EMBEDDING_RATE // 5) if len(heard) else 0
    return samples[start : start + _CONVERSION_SECONDS * EMBEDDING_RATE]


@cache
def gender_references() -> tuple[tuple[str, Any], ...]:
    """The labelled references gender is told against: the English neural base voices'
    measurement renderings at the neutral pitch, embedded (``gender_references.json``, written
    by ``python -m bench.base_embeddings``). English for every clone: the calibration set's
    French, Italian, Russian and Spanish voices were told against them."""
    table = resources.files("voxhub.workers").joinpath("gender_references.json").read_text()
    return tuple((entry["gender"], np.asarray(entry["embedding"], np.float32))
                 for entry in json.loads(table).values())  # fmt: skip


def _gender(samples: Any, speech: Any) -> str:
    """The speaker's gender, told from ``_GENDER_SECONDS`` of the stretch the conversion
    measures, at the neutral pitch (``audio/gender.py``)."""
    excerpt = _conversion_stretch(samples, speech)[: _GENDER_SECONDS * EMBEDDING_RATE]
    embedding = neutral_pitch_embedding(excerpt)
    return voice_gender(embedding, median_pitch_hz(samples), gender_references())


def _band(samples: Any) -> int:
    """The reference's bandwidth, rounded down to 250 Hz (so measurements can be reused)."""
    return int(bandwidth_hz(samples, EMBEDDING_RATE) // 250 * 250)


def process_clone(job: CloneJob) -> CloneOutcome:
    try:
        samples = decode_sample(job.audio)
        speech = speech_mask(samples)
        check_sample(analyse(samples, speech))
    except SampleRejected as rejected:
        return CloneOutcome(failure=rejected.message)
    samples = normalise_loudness(samples)
    other = second_speaker_seconds(samples)
    if other:
        return CloneOutcome(failure=SEVERAL_SPEAKERS.format(seconds=other))
    embedding = speaker_embedding(samples)
    base, _ = choose_base(with_mixes(job.candidates), embedding)
    gender = _gender(samples, speech)
    band = _band(samples)
    source = _base_statistics(base, band)
    rate = source["rate"]
    measured = resample(_conversion_stretch(samples, speech), EMBEDDING_RATE, rate)
    target, frames = speaker_statistics_and_frames(measured, rate)
    parameters = {"source": source, "target": target, "band_hz": band, "frames": frames}
    chosen, converted_similarity, similarity = _best_conversion(
        base, parameters, embedding, job.frame_blend
    )
    transform = "world" if chosen["strength"] > 0 else None
    kept, files = _kept_parameters(parameters, chosen, job.folder) if transform else ({}, {})
    plugin = _best_plugin(base, samples, embedding, converted_similarity)
    if plugin is not None:
        (transform, kept, converted_similarity), files = plugin, {}
    profile = VoiceProfile(base.engine, base.voice_key, transform, kept)
    script = parse_input(job.preview_text, "text", pauses=True)
    preview = render_preview(RenderJob(script, with_stored(profile, _by_name(kept, files))))
    stored = profile_json(
        profile,
        speaker_embedding=[round(float(v), 5) for v in embedding],
        base_similarity=round(similarity, 4),
        similarity=round(converted_similarity, 4),
    )
    return CloneOutcome(gender=gender, base=base, profile=stored, preview=preview.audio,
                        files=files)  # fmt: skip


def _by_name(parameters: Mapping[str, Any], files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The stored parameters' bytes by parameter name (what ``with_stored`` takes)."""
    return {name: files[key] for name, key in parameters.get("stored", {}).items()}
