"""The WORLD conversion toward a reference speaker, on real speech of two engines."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_fixtures import SENTENCES, resample
from voxhub.audio.conversion import convert, voice_statistics
from voxhub.engines import EspeakEngine, PiperEngine, VoiceProfile
from voxhub.services.render import RenderJob, render
from voxhub.services.script import parse_input

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


def test_conversion_keeps_the_length_and_moves_the_pitch_to_the_reference(
    base: tuple[np.ndarray, int],
    reference: np.ndarray,  # type: ignore[type-arg]
) -> None:
    samples, rate = base
    source, target = voice_statistics(samples, rate), voice_statistics(reference, rate)
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
    reference: np.ndarray,  # type: ignore[type-arg]
) -> None:
    samples, rate = base
    source, target = voice_statistics(samples, rate), voice_statistics(reference, rate)
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
    reference: np.ndarray,  # type: ignore[type-arg]
) -> None:
    samples, rate = base
    source, target = voice_statistics(samples, rate), voice_statistics(reference, rate)
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
