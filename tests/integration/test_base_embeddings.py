"""The shipped base-voice measurements are the engines' current voices, not an older rendering.

Their embeddings choose a fresh install's base voice before anything is measured, the English
ones at the neutral pitch tell a clone's gender, and their renderings are what a fresh
install's clones convert toward the speaker; a change to how an engine speaks the measurement
text must come with new ones (``python -m bench.base_embeddings``) and a new measurement
version, or fresh installs clone from a voice that is no longer spoken.
"""

from __future__ import annotations

import pytest

from voxhub.audio.analysis import resample
from voxhub.audio.gender import neutral_pitch_embedding
from voxhub.audio.speaker import EMBEDDING_RATE, cosine, speaker_embedding
from voxhub.engines import KokoroEngine
from voxhub.services.previews import preview_sentence
from voxhub.workers.cloning import (
    BaseVoice,
    _render_measurement,
    _shipped,
    _shipped_embeddings,
    gender_references,
    measure_text,
    shipped_key,
)
from voxhub.workers.render import shipped_rendering
from voxhub.workers.script import Piece, parse_input
from voxhub.workers.state import init_worker


@pytest.mark.parametrize(
    ("voice_key", "language", "code"),
    [
        ("jm_kumo.en", "English", "en"),
        ("jf_alpha", "Japanese", "ja"),
        ("jf_gongitsune+jm_kumo.en", "English", "en"),  # a mix: chosen from what ships only
    ],
)
def test_a_kokoro_voice_sounds_as_its_shipped_embedding_says(
    voice_key: str, language: str, code: str
) -> None:
    init_worker(None)
    base = BaseVoice("kokoro", voice_key, None, language, measure_text(code))
    shipped = _shipped_embeddings().get(shipped_key(base))
    assert shipped is not None, "no shipped embedding under the current measurement version"
    rendered = _render_measurement(base)
    assert cosine(rendered.embedding, shipped) > 0.995
    shipped_rendering = _shipped(base)
    assert shipped_rendering is not None, "no shipped rendering under the current version"
    assert shipped_rendering.rate == rendered.rate
    assert abs(len(shipped_rendering.samples) / len(rendered.samples) - 1) < 0.02
    heard = speaker_embedding(resample(shipped_rendering.samples, rendered.rate, EMBEDDING_RATE))
    assert cosine(heard, rendered.embedding) > 0.995


def test_the_gender_references_are_the_shipped_english_voices_at_the_neutral_pitch() -> None:
    init_worker(None)
    references = gender_references()
    assert sorted(gender for gender, _ in references) == ["female"] * 4 + ["male"] * 2
    kumo = BaseVoice("kokoro", "jm_kumo.en", "male", "English", measure_text("en"))
    shipped = _shipped(kumo)
    assert shipped is not None
    neutral = neutral_pitch_embedding(resample(shipped.samples, shipped.rate, EMBEDDING_RATE))
    closest = max(references, key=lambda reference: cosine(neutral, reference[1]))
    assert closest[0] == "male"
    assert cosine(neutral, closest[1]) > 0.995


@pytest.mark.parametrize(
    ("voice_key", "code"), [("jm_kumo.en", "en"), ("jf_alpha", "ja"), ("jf_nezumi+jm_kumo", "ja")]
)
def test_a_shipped_preview_sentence_is_what_the_voice_says_now(voice_key: str, code: str) -> None:
    init_worker(None)
    script = parse_input(preview_sentence(code), "text", pauses=True)
    longest = max((p.text for p in script.parts if isinstance(p, Piece)), key=len)
    shipped = shipped_rendering("kokoro", voice_key, longest)
    assert shipped is not None, "no shipped rendering under the current version"
    spoken = KokoroEngine().synthesize(longest, voice_key, 1.0)
    assert shipped.sample_rate == spoken.sample_rate
    assert abs(len(shipped.samples) / len(spoken.samples) - 1) < 0.02
    heard = [
        speaker_embedding(resample(a.samples, a.sample_rate, EMBEDDING_RATE))
        for a in (shipped, spoken)
    ]
    # Kokoro's int8 kernels round differently on different CPUs (renderings made on one machine,
    # spoken on an AMD EPYC without AVX-512 VNNI: 0.978-0.983), while the two closest different
    # voices shipped (two of Kumo's mixes) are 0.944 alike: above 0.96 is the same voice.
    assert cosine(*heard) > 0.96
