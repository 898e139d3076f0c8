"""The second-voice gate's decision on segment embeddings (generated: one direction per
person, a little spread per segment), without the encoder."""

from __future__ import annotations

import numpy as np
import pytest

from voxhub.audio.speaker import second_voice_seconds

_PERSON_A, _PERSON_B = np.eye(256, dtype=np.float32)[:2]
_SIMILAR_TO_A = _PERSON_A + 0.9 * _PERSON_B  # 0.67 alike: above the 0.6 line


def _segments(person: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    spread = rng.normal(0.0, 0.02, (count, 256)).astype(np.float32)
    return person + spread


@pytest.mark.parametrize(
    ("first", "second", "other", "expected"),
    [
        (10, 0, _PERSON_B, 0.0),  # one person is not two
        (4, 4, _PERSON_B, 12.0),  # two people joined: the second one's seconds
        (8, 2, _PERSON_B, 6.0),  # a second person in two segments of ten
        (3, 1, _PERSON_B, 0.0),  # one odd segment is not a person, even a quarter of 12 s
        (12, 2, _PERSON_B, 0.0),  # under a fifth of the segments
        (4, 4, _SIMILAR_TO_A, 0.0),  # two similar people pass
    ],
)
def test_a_second_voice_is_counted_only_when_clearly_another_person(
    first: int, second: int, other: np.ndarray, expected: float
) -> None:
    rng = np.random.default_rng(7)  # each case its own: the same segments however it is run
    segments = np.concatenate([_segments(_PERSON_A, first, rng), _segments(other, second, rng)])
    assert second_voice_seconds(segments) == expected
