"""Choosing the base voice of a clone by speaker embedding."""

from __future__ import annotations

import numpy as np
import pytest

from voxhub.services import cloning
from voxhub.services.cloning import BaseVoice, choose_base

_EMBEDDINGS = {"alpha": [1.0, 0.0, 0.0], "kumo": [0.0, 1.0, 0.0], "formant": [0.6, 0.8, 0.0]}
_CANDIDATES = (
    BaseVoice("kokoro", "alpha", "female", "Japanese"),
    BaseVoice("kokoro", "kumo", "male", "Japanese"),
    BaseVoice("espeak", "formant", "male", "Japanese"),
)


@pytest.fixture(autouse=True)
def measured(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(base: BaseVoice) -> object:
        return cloning._Measured(np.zeros(1), 16000, np.asarray(_EMBEDDINGS[base.voice_key]))

    monkeypatch.setattr(cloning, "_measure", fake)


@pytest.mark.parametrize(
    ("speaker", "expected"), [([0.9, 0.1, 0.0], "alpha"), ([0.2, 0.9, 0.1], "kumo")]
)
def test_the_closest_voice_of_the_best_engine_is_chosen(
    speaker: list[float], expected: str
) -> None:
    base, similarity = choose_base(_CANDIDATES, np.asarray(speaker))
    assert base.voice_key == expected
    assert similarity == pytest.approx(
        max(float(np.dot(speaker, e) / np.linalg.norm(speaker)) for e in _EMBEDDINGS.values()
            if e != _EMBEDDINGS["formant"])
    )  # fmt: skip


def test_a_closer_voice_of_a_lesser_engine_is_not_chosen() -> None:
    """The formant voice matches this speaker exactly, but a converted neural voice stays
    intelligible: the best engine's voices are the only candidates."""
    base, _ = choose_base(_CANDIDATES, np.asarray([0.6, 0.8, 0.0]))
    assert base.engine == "kokoro"
    assert base.voice_key == "kumo"


def test_languages_have_their_own_measurement_text() -> None:
    assert cloning.measure_text("en") != cloning.measure_text("ja")
    assert cloning.measure_text("xx") == cloning.measure_text("fi")
