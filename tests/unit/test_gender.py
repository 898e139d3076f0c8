"""The gender a clone is labelled with: the voice's closest labelled reference at one pitch
decides (biased toward male, there being more female references), the pitch only breaks a tie
(a man speaking up to a crowd is still a man)."""

from __future__ import annotations

import numpy as np
import pytest

from voxhub.audio.analysis import median_pitch_hz
from voxhub.audio.gender import (
    CLEAR_MARGIN,
    MALE_BELOW_HZ,
    MALE_BIAS,
    MEN_ONLY_BELOW_HZ,
    NEUTRAL_PITCH_HZ,
    WOMEN_ONLY_ABOVE_HZ,
    at_neutral_pitch,
    voice_gender,
)


def unit(*values: float) -> np.ndarray:  # type: ignore[type-arg]
    v = np.asarray(values, np.float64)
    return v / np.linalg.norm(v)


MAN, WOMAN = unit(1, 0, 0), unit(0, 1, 0)
REFERENCES = [("male", MAN), ("female", WOMAN), ("female", unit(0, 1, 0.3))]


def with_margin(margin: float) -> np.ndarray:  # type: ignore[type-arg]
    """A voice whose cosine to the man exceeds its cosine to the closest woman by ``margin``."""
    angle = np.arccos(margin / np.sqrt(2)) - np.pi / 4
    return unit(np.cos(angle), np.sin(angle), 0)


def voiced(pitch: float, seconds: float, rate: int = 16000) -> np.ndarray:  # type: ignore[type-arg]
    """A vowel-like sound: harmonics of ``pitch`` (with a slow vibrato) falling 6 dB an
    octave."""
    t = np.arange(round(seconds * rate)) / rate
    phase = 2 * np.pi * np.cumsum(pitch * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))) / rate
    harmonics = range(1, int(rate / 2 / pitch))
    return (0.3 * sum(np.sin(k * phase) / k for k in harmonics)).astype(np.float32)


def test_a_man_speaking_high_is_male() -> None:
    assert voice_gender(unit(0.9, 0.3, 0.1), MALE_BELOW_HZ + 60, REFERENCES) == "male"


def test_a_woman_speaking_low_is_female() -> None:
    assert voice_gender(unit(0.2, 0.9, 0.1), MALE_BELOW_HZ - 40, REFERENCES) == "female"


def test_a_voice_as_close_to_both_is_male_by_the_bias() -> None:
    assert MALE_BIAS < -CLEAR_MARGIN  # the female references outnumber the male
    assert voice_gender(with_margin(0.0), 220.0, REFERENCES) == "male"


@pytest.mark.parametrize(("pitch", "expected"), [(130.0, "male"), (220.0, "female")])
def test_a_voice_at_the_bias_is_told_by_its_pitch(pitch: float, expected: str) -> None:
    assert voice_gender(with_margin(MALE_BIAS), pitch, REFERENCES) == expected


@pytest.mark.parametrize(("off", "expected"), [(1.1, "male"), (0.9, None), (-1.1, "female")])
def test_the_clear_margin_is_measured_from_the_bias(off: float, expected: str | None) -> None:
    voice = with_margin(MALE_BIAS + off * CLEAR_MARGIN)
    for pitch in (130.0, 220.0):  # outside the margin the pitch does not matter
        told = voice_gender(voice, pitch, REFERENCES)
        assert told == (expected or ("male" if pitch < MALE_BELOW_HZ else "female"))


@pytest.mark.parametrize(
    ("voice", "pitch", "expected"),
    [(WOMAN, MEN_ONLY_BELOW_HZ - 5, "male"), (MAN, WOMEN_ONLY_ABOVE_HZ + 5, "female")],
)
def test_a_pitch_only_one_gender_speaks_at_decides_alone(
    voice: np.ndarray,  # type: ignore[type-arg]
    pitch: float,
    expected: str,
) -> None:
    assert voice_gender(voice, pitch, REFERENCES) == expected


def test_without_references_of_both_genders_the_pitch_decides() -> None:
    assert voice_gender(unit(1, 0, 0), 220.0, [("male", MAN)]) == "female"
    assert voice_gender(unit(0, 1, 0), 110.0, [("female", WOMAN), (None, MAN)]) == "male"


@pytest.mark.parametrize("pitch", [110.0, 230.0])
def test_speech_is_moved_to_the_neutral_pitch_and_keeps_its_length(pitch: float) -> None:
    speech = voiced(pitch, seconds=3.0)
    moved = at_neutral_pitch(speech)
    assert len(moved) == len(speech)
    assert abs(median_pitch_hz(moved) - NEUTRAL_PITCH_HZ) < 0.05 * NEUTRAL_PITCH_HZ


def test_speech_with_no_pitch_is_left_as_it_is() -> None:
    silence = np.zeros(16000, np.float32)
    assert at_neutral_pitch(silence) is silence
