"""Every shipped engine speaks for real: audible audio of a plausible length, spans in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voxhub.engines import Engine, EspeakEngine, KokoroEngine, PieceAudio, PiperEngine
from voxhub.workers.script import words_of

CASES = [
    ("espeak", "gmw/en-US", "The quick brown fox jumps over the lazy dog."),
    ("espeak", "roa/fr", "Le renard brun saute par-dessus le chien paresseux."),
    ("piper", "en_US-joe-medium", "The quick brown fox jumps over the lazy dog."),
    ("kokoro", "jf_alpha", "今日はいい天気ですね。"),
    ("kokoro", "jm_kumo", "こんにちは、世界。"),
    ("kokoro", "jf_gongitsune.en", "The quick brown fox jumps over the lazy dog."),
]


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Engine]:
    models: Path = tmp_path_factory.mktemp("models")
    return {e.name: e for e in (EspeakEngine(), PiperEngine(), KokoroEngine(models))}


def rms(audio: PieceAudio) -> float:
    return float(np.sqrt(np.mean(np.square(audio.samples))))


def test_each_engine_lists_its_voices(engines: dict[str, Engine]) -> None:
    for engine, key, _ in CASES:
        assert key in {v.key for v in engines[engine].voices()}
    kokoro = engines["kokoro"].voices()
    assert {v.gender for v in kokoro} == {"female", "male"}
    assert {v.language for v in kokoro} == {"Japanese", "English"}
    assert {v.key for v in kokoro if v.language == "English"} == {
        f"{v.key}.en" for v in kokoro if v.language == "Japanese"
    }


@pytest.mark.parametrize(("engine", "key", "text"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_each_engine_speaks_audibly(
    engines: dict[str, Engine], engine: str, key: str, text: str
) -> None:
    audio = engines[engine].synthesize(text, key, 1.0)
    assert audio.samples.dtype == np.float32
    assert audio.sample_rate in (22050, 24000)
    assert 0.8 < audio.duration < 6.0
    assert rms(audio) > 0.02
    assert np.abs(audio.samples).max() <= 1.0


ALIGNED = [
    ("espeak", "gmw/en-US", "Dr. Smith paid $5.50 for 42 apples."),
    ("piper", "en_US-joe-medium", "Dr. Smith paid $5.50 for 42 apples."),
    ("kokoro", "jf_alpha.en", "Dr. Smith paid $5.50 for 42 apples, in the morning."),
    ("kokoro", "jm_kumo", "今日は いい天気ですね、 本当に。"),
]


@pytest.mark.parametrize(
    ("engine", "key", "text"), ALIGNED, ids=[f"{c[0]}-{c[1]}" for c in ALIGNED[:3]] + ["kokoro-ja"]
)
def test_every_engine_gives_spans_for_each_word_in_order_within_the_audio(
    engines: dict[str, Engine], engine: str, key: str, text: str
) -> None:
    audio = engines[engine].synthesize(text, key, 1.0)
    assert audio.spans is not None
    assert all(0 <= s.start <= s.end <= audio.duration + 1e-6 for s in audio.spans)
    for earlier, later in zip(audio.spans, audio.spans[1:], strict=False):
        assert earlier.end <= later.start + 1e-6  # in order, not overlapping
    for word in words_of(text):
        assert any(s.char_start < word.end and s.char_end > word.start for s in audio.spans), word


@pytest.mark.parametrize(("engine", "key", "text"), CASES[::2], ids=["espeak", "piper", "kokoro"])
def test_speed_changes_the_pace(
    engines: dict[str, Engine], engine: str, key: str, text: str
) -> None:
    slow = engines[engine].synthesize(text, key, 0.5).duration
    fast = engines[engine].synthesize(text, key, 2.0).duration
    assert fast < slow * 0.6


def test_kokoro_reads_english_through_espeak_phonemes() -> None:
    from voxhub.engines.kokoro import english_phonemes

    assert english_phonemes("Hello there!") == "həlˈoʊ ðˈɛɹ!"
    assert "ɹ" in english_phonemes("Red roses.")  # eSpeak's r, in Kokoro's symbol


def test_kokoro_english_speaks_no_glide_after_a_final_i() -> None:
    # piper-tts's eSpeak NG writes ðɪʲ, tˈiːʲ, lˈaɪbɹɛɹiʲ; spoken as a j it was an extra sound
    from voxhub.engines.kokoro import english_phonemes

    assert english_phonemes("Coffee, tea and the entrance.") == "kˈɔfi, tˈiː ænd ðɪ ˈɛntɹəns."
    assert english_phonemes("The library opens early.") == "ðə lˈaɪbɹɛɹi ˈoʊpənz ˈɜːli."


def test_piper_and_espeak_load_side_by_side_in_one_process(engines: dict[str, Engine]) -> None:
    # Piper links its own copy of eSpeak NG for phonemes; both must keep working together.
    first = engines["espeak"].synthesize("One.", "gmw/en-US", 1.0)
    engines["piper"].synthesize("Two.", "en_US-joe-medium", 1.0)
    again = engines["espeak"].synthesize("One.", "gmw/en-US", 1.0)
    assert again.duration == pytest.approx(first.duration, rel=0.01)
    assert rms(again) == pytest.approx(rms(first), rel=0.05)


def test_kokoro_word_spans_are_the_models_own_durations(engines: dict[str, Engine]) -> None:
    # A word spoken slowly lasts longer by the speed's factor: the spans come from the
    # durations the model rendered, not from spreading the words over the audio.
    text = "Hello there, friend."
    normal = engines["kokoro"].synthesize(text, "jf_nezumi.en", 1.0)
    slow = engines["kokoro"].synthesize(text, "jf_nezumi.en", 0.5)
    assert normal.spans is not None
    assert slow.spans is not None
    for fast_span, slow_span in zip(normal.spans, slow.spans, strict=True):
        ratio = (slow_span.end - slow_span.start) / (fast_span.end - fast_span.start)
        assert 1.5 < ratio < 2.5
    # the pause at the comma lies between "there," and "friend."
    assert normal.spans[2].start - normal.spans[1].end > 0.05
