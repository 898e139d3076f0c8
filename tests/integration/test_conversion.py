"""The WORLD conversion toward a reference speaker, on real speech of two engines."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from tests.audio_fixtures import SENTENCES, other_speaker, resample
from voxhub.audio.conversion import (
    bandwidth_hz,
    convert,
    convert_variants,
    low_pass,
    speaker_statistics_and_frames,
    voice_statistics,
)
from voxhub.audio.speaker import EMBEDDING_RATE, cosine, speaker_embedding
from voxhub.engines import EspeakEngine, PiperEngine, VoiceProfile, with_stored
from voxhub.workers.cloning import BaseVoice, CloneJob, process_clone
from voxhub.workers.render import RenderJob, render
from voxhub.workers.script import parse_input

TEXT = " ".join(SENTENCES[:2])


@pytest.fixture(scope="module")
def base() -> tuple[np.ndarray, int]:  # type: ignore[type-arg]
    audio = PiperEngine().synthesize(TEXT, "en_US-joe-medium", 1.0)
    return audio.samples, audio.sample_rate


@pytest.fixture(scope="module")
def reference(base: tuple[np.ndarray, int]) -> np.ndarray:  # type: ignore[type-arg]
    """Another speaker (eSpeak NG's British English voice, much lower than Piper's Joe),
    at the base voice's sample rate."""
    other = EspeakEngine().synthesize(SENTENCES[2], "gmw/en-GB-x-rp", 1.0)
    return resample(other.samples, other.sample_rate, base[1])


@pytest.fixture(scope="module")
def statistics(
    base: tuple[np.ndarray, int],  # type: ignore[type-arg]
    reference: np.ndarray,  # type: ignore[type-arg]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(source, target): the base voice and the reference, measured once for the module."""
    samples, rate = base
    return voice_statistics(samples, rate), voice_statistics(reference, rate)


def test_conversion_keeps_the_length_and_moves_the_pitch_to_the_reference(
    base: tuple[np.ndarray, int],
    statistics: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    samples, rate = base
    source, target = statistics
    converted = convert(samples, rate, {"source": source, "target": target})
    assert len(converted) == len(samples)
    assert np.abs(converted).max() <= 0.98 + 1e-6
    moved = voice_statistics(converted, rate)["f0_median_hz"]
    assert abs(np.log(moved / target["f0_median_hz"])) < 0.15
    assert (
        abs(np.log(moved / source["f0_median_hz"]))
        > abs(np.log(target["f0_median_hz"] / source["f0_median_hz"])) * 0.6
    )


def test_the_envelope_moves_toward_the_reference(
    base: tuple[np.ndarray, int],
    statistics: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    samples, rate = base
    source, target = statistics
    converted = voice_statistics(convert(samples, rate, {"source": source, "target": target}), rate)

    def distance(a: dict[str, list[float]], b: dict[str, list[float]]) -> float:
        return float(np.linalg.norm(np.subtract(a["voiced_mean"][1:], b["voiced_mean"][1:])))

    assert distance(converted, target) < 0.6 * distance(source, target)  # type: ignore[arg-type]


def test_statistics_from_another_rate_are_refused(base: tuple[np.ndarray, int]) -> None:
    samples, rate = base
    source = voice_statistics(samples, rate)
    other = voice_statistics(resample(samples, rate, 16000), 16000)
    with pytest.raises(ValueError, match="sample rate"):
        convert(samples, rate, {"source": source, "target": other})


def test_a_profile_with_the_world_transform_speaks_through_the_pipeline(
    base: tuple[np.ndarray, int],
    statistics: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    rate = base[1]
    source, target = statistics
    parameters = {"source": source, "target": target}
    profile = VoiceProfile("piper", "en_US-joe-medium", "world", parameters)
    script = parse_input("Hello there. This voice was converted.", "text", pauses=True)
    cloned = render(RenderJob(script, profile, audio_format="wav"))
    assert cloned.words is not None
    assert [w.word for w in cloned.words] == ["Hello", "there", "This", "voice", "was", "converted"]
    assert cloned.words[-1].end <= cloned.duration
    decoded = np.frombuffer(cloned.audio[44:], dtype=np.int16).astype(np.float32) / 32768
    pitch = voice_statistics(decoded, rate)["f0_median_hz"]
    assert abs(np.log(pitch / target["f0_median_hz"])) < 0.2


def test_a_clone_of_a_kokoro_voice_has_its_base_voices_word_timestamps() -> None:
    # Clones now start from Kokoro's styles: the conversion keeps every sample in place, so
    # the words are timed exactly as the base voice speaks them.
    script = parse_input("Hello there. This voice was converted.", "text", pauses=True)
    plain = render(RenderJob(script, VoiceProfile("kokoro", "jf_alpha.en"), audio_format="wav"))
    rate = plain.sample_rate
    spoken = np.frombuffer(plain.audio[44:], dtype=np.int16).astype(np.float32) / 32768
    other = EspeakEngine().synthesize(SENTENCES[2], "gmw/en-GB-x-rp", 1.0)
    parameters = {
        "source": voice_statistics(spoken, rate),
        "target": voice_statistics(resample(other.samples, other.sample_rate, rate), rate),
    }
    profile = VoiceProfile("kokoro", "jf_alpha.en", "world", parameters)
    cloned = render(RenderJob(script, profile, audio_format="wav"))
    assert cloned.words is not None
    assert [w.word for w in cloned.words] == ["Hello", "there", "This", "voice", "was", "converted"]
    assert cloned.words == plain.words
    assert cloned.audio != plain.audio


def _share_above(samples: np.ndarray, rate: int, hz: float) -> float:  # type: ignore[type-arg]
    """The share of the energy above ``hz``."""
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    return float(spectrum[np.fft.rfftfreq(len(samples), 1 / rate) > hz].sum() / spectrum.sum())


def test_the_band_of_a_telephone_recording_is_found_and_the_highs_are_left_alone(
    base: tuple[np.ndarray, int],
    reference: np.ndarray,  # type: ignore[type-arg]
) -> None:
    """A reference with nothing above 4 kHz says nothing about the highs: the conversion moves
    the base voice only below the reference's band, so the clone is not muffled."""
    samples, rate = base
    telephone = low_pass(reference, rate, 3800)
    assert 3500 <= bandwidth_hz(telephone, rate) <= 4000
    assert bandwidth_hz(samples, rate) > 8000
    band = bandwidth_hz(telephone, rate)
    source = voice_statistics(low_pass(samples, rate, band), rate)
    target = voice_statistics(telephone, rate)
    parameters = {"source": source, "target": target, "band_hz": band}
    banded = convert(samples, rate, parameters)
    muffled = convert(samples, rate, {"source": voice_statistics(samples, rate), "target": target})
    highs = _share_above(samples, rate, 5000)
    kept, lost = _share_above(banded, rate, 5000) / highs, _share_above(muffled, rate, 5000) / highs
    assert kept > 0.35
    assert lost < 0.4 * kept


def test_half_strength_moves_the_pitch_half_way(
    base: tuple[np.ndarray, int],
    statistics: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    samples, rate = base
    source, target = statistics
    half = convert(samples, rate, {"source": source, "target": target, "strength": 0.5})
    moved = np.log(voice_statistics(half, rate)["f0_median_hz"] / source["f0_median_hz"])
    whole = np.log(target["f0_median_hz"] / source["f0_median_hz"])
    assert 0.3 * whole < moved < 0.7 * whole or 0.7 * whole < moved < 0.3 * whole


def test_blending_toward_the_speakers_frames_comes_closer_to_the_speaker(
    base: tuple[np.ndarray, int],  # type: ignore[type-arg]
    reference: np.ndarray,  # type: ignore[type-arg]
    statistics: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    samples, rate = base
    source, _ = statistics
    target, frames = speaker_statistics_and_frames(reference, rate)
    parameters = {"source": source, "target": target, "frames": frames}
    variants = [{**parameters, "blend": blend} for blend in (0.0, 0.6)]
    statistics_only, blended = convert_variants(samples, rate, variants)
    assert len(blended) == len(samples)
    assert np.array_equal(statistics_only, convert(samples, rate, {**parameters, "blend": 0.0}))
    speaker = speaker_embedding(resample(reference, rate, EMBEDDING_RATE))

    def closeness(converted: np.ndarray) -> float:  # type: ignore[type-arg]
        return cosine(speaker_embedding(resample(converted, rate, EMBEDDING_RATE)), speaker)

    assert closeness(blended) > closeness(statistics_only) + 0.02


def test_a_clone_allowed_to_blend_keeps_the_speakers_frames_beside_its_record(
    base: tuple[np.ndarray, int],  # type: ignore[type-arg]
) -> None:
    joe = BaseVoice("piper", "en_US-joe-medium", "male", "English")
    job = CloneJob(other_speaker(12.0), (joe,), "Hello.", frame_blend=0.6, folder="clones/v1")
    outcome = process_clone(job)
    assert outcome.failure is None
    assert len(outcome.profile or "") < 10_000  # the record: statistics, not frames
    stored = json.loads(outcome.profile or "{}")
    parameters = stored["parameters"]
    assert stored["transform"] == "world"
    assert parameters["blend"] == 0.6  # eSpeak's voice is far from Joe's: it blends
    assert parameters["stored"] == {"frames": "clones/v1/frames.json"}
    assert json.loads(outcome.files["clones/v1/frames.json"])["count"] > 100
    assert stored["similarity"] > stored["base_similarity"]
    script = parse_input("The clone speaks.", "text", pauses=True)
    profile = VoiceProfile("piper", "en_US-joe-medium", "world", parameters)
    blending = with_stored(profile, {"frames": outcome.files["clones/v1/frames.json"]})
    assert render(RenderJob(script, blending)).duration > 0.5
    speech, rate = base  # Joe's own speech, at the rate the statistics were measured at
    assert rate == parameters["source"]["rate"]
    without = convert(speech, rate, with_stored(profile, {}).parameters)
    assert not np.allclose(convert(speech, rate, blending.parameters), without)
