"""The shipped base-voice embeddings are the engines' current voices, not an older rendering.

They choose a fresh install's base voice and gender before anything is measured; a change to
how an engine speaks the measurement text must come with new embeddings (``python -m
bench.base_embeddings``) and a new measurement version, or fresh installs choose by a voice
that is no longer spoken.
"""

from __future__ import annotations

import pytest

from voxhub.audio.speaker import cosine
from voxhub.workers.cloning import (
    BaseVoice,
    _render_measurement,
    _shipped_embeddings,
    measure_text,
    shipped_key,
)
from voxhub.workers.state import init_worker


@pytest.mark.parametrize(
    ("voice_key", "language", "code"),
    [("jm_kumo.en", "English", "en"), ("jf_alpha", "Japanese", "ja")],
)
def test_a_kokoro_voice_sounds_as_its_shipped_embedding_says(
    voice_key: str, language: str, code: str
) -> None:
    init_worker(None)
    base = BaseVoice("kokoro", voice_key, None, language, measure_text(code))
    shipped = _shipped_embeddings().get(shipped_key(base))
    assert shipped is not None, "no shipped embedding under the current measurement version"
    assert cosine(_render_measurement(base).embedding, shipped) > 0.995
