"""The second-voice gate's decision on segment embeddings (generated: one direction per
person, a little spread per segment), without the encoder."""

from __future__ import annotations

import numpy as np

from voxhub.audio.speaker import second_voice_seconds

_RNG = np.random.default_rng(7)
_PERSON_A, _PERSON_B = np.eye(256, dtype=np.float32)[:2]


def _segments(person: np.ndarray, count: int) -> np.ndarray:
    spread = _RNG.normal(0.0, 0.02, (count, 256)).astype(np.float32)
    return person + spread


def test_one_person_is_not_two() -> None:
    assert second_voice_seconds(_segments(_PERSON_A, 10)) == 0.0


def test_two_people_joined_are_found_with_the_seconds_of_the_second() -> None:
    joined = np.concatenate([_segments(_PERSON_A, 4), _segments(_PERSON_B, 4)])
    assert second_voice_seconds(joined) == 12.0


def test_a_second_person_for_two_segments_of_ten_is_found() -> None:
    joined = np.concatenate([_segments(_PERSON_A, 8), _segments(_PERSON_B, 2)])
    assert second_voice_seconds(joined) == 6.0


def test_one_odd_segment_is_not_a_person_even_as_a_quarter_of_a_short_sample() -> None:
    short = np.concatenate([_segments(_PERSON_A, 3), _segments(_PERSON_B, 1)])
    assert second_voice_seconds(short) == 0.0


def test_a_second_person_below_a_fifth_of_the_segments_is_not_counted() -> None:
    long = np.concatenate([_segments(_PERSON_A, 12), _segments(_PERSON_B, 2)])
    assert second_voice_seconds(long) == 0.0


def test_two_similar_people_pass() -> None:
    similar = _PERSON_A + 0.9 * _PERSON_B  # 0.67 alike: above the 0.6 line
    joined = np.concatenate([_segments(_PERSON_A, 4), _segments(similar, 4)])
    assert second_voice_seconds(joined) == 0.0
