"""The reference frames a blending clone keeps beside its record: bounded, and read back."""

from __future__ import annotations

import numpy as np

from voxhub.audio.conversion import CODED_DIMENSIONS, _frames, _unpacked_frames, frames_file


def test_a_long_reference_keeps_at_most_2000_frames_and_they_read_back() -> None:
    rng = np.random.default_rng(7)
    count = 12_000  # a minute of speech analysed every 5 ms
    f0 = np.where(rng.random(count) < 0.6, 120.0, 0.0)
    coded = rng.normal(size=(count, CODED_DIMENSIONS))
    coded[:, 0] = -3.0  # every frame at speech level
    kept = _frames(f0, coded)
    assert kept["count"] == 2000
    assert len(frames_file(kept)) < 220_000  # the file kept in the clone's folder
    frames, voiced = _unpacked_frames(frames_file(kept))
    expected = np.arange(0, 4000, 2)  # every other frame (10 ms), all loud enough here
    assert np.allclose(frames, coded[expected], atol=2e-3 * np.abs(coded[expected]).max())
    assert np.array_equal(voiced, f0[expected] > 0)
