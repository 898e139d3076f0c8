"""The gender a clone is labelled with: the voice's closest labelled reference decides, the
pitch only breaks a tie (a man speaking up to a crowd is still a man)."""

from __future__ import annotations

import numpy as np
import pytest

from voxhub.audio.gender import CLEAR_MARGIN, MALE_BELOW_HZ, voice_gender


def unit(*values: float) -> np.ndarray:  # type: ignore[type-arg]
    v = np.asarray(values, np.float64)
    return v / np.linalg.norm(v)


MAN, WOMAN = unit(1, 0, 0), unit(0, 1, 0)
REFERENCES = [("male", MAN), ("female", WOMAN), ("female", unit(0, 1, 0.3))]


def test_a_man_speaking_high_is_male() -> None:
    assert voice_gender(unit(0.9, 0.3, 0.1), MALE_BELOW_HZ + 60, REFERENCES) == "male"


def test_a_woman_speaking_low_is_female() -> None:
    assert voice_gender(unit(0.2, 0.9, 0.1), MALE_BELOW_HZ - 40, REFERENCES) == "female"


@pytest.mark.parametrize(("pitch", "expected"), [(120.0, "male"), (220.0, "female")])
def test_a_voice_as_close_to_both_is_told_by_its_pitch(pitch: float, expected: str) -> None:
    between = unit(1, 1, 0)  # cosine 0.707 to both
    assert voice_gender(between, pitch, REFERENCES) == expected


def test_a_margin_just_under_the_clear_one_is_a_tie() -> None:
    # cosine to the man exceeds cosine to the woman by a little less than the clear margin
    angle = np.pi / 4 - CLEAR_MARGIN / 2 / np.sqrt(2) * 0.9
    voice = unit(np.cos(angle), np.sin(angle), 0)
    assert voice_gender(voice, 220.0, REFERENCES) == "female"


def test_without_references_of_both_genders_the_pitch_decides() -> None:
    assert voice_gender(unit(1, 0, 0), 220.0, [("male", MAN)]) == "female"
    assert voice_gender(unit(0, 1, 0), 110.0, [("female", WOMAN), (None, MAN)]) == "male"
