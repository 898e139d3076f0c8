"""The bad-input corpus against the clone gates: each sample is refused with its own reason,
and good speech in every accepted format passes. Real decoding (PyAV) and a real
voice-activity model (Silero VAD)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_fixtures import (
    PNG_HEADER,
    encode_samples,
    speech,
    tone,
    wav_bytes,
    wav_claiming_4_gb,
)
from voxhub.audio.analysis import (
    ANALYSIS_RATE,
    SampleRejected,
    analyse,
    check_sample,
    decode_sample,
    normalise_loudness,
)

RATE = ANALYSIS_RATE


def judge(data: bytes) -> str:
    """'ok', or the message the clone would fail with."""
    try:
        check_sample(analyse(decode_sample(data)))
    except SampleRejected as rejected:
        return rejected.message
    return "ok"


def noise(seconds: float, level: float, seed: int = 7) -> np.ndarray:  # type: ignore[type-arg]
    return (np.random.default_rng(seed).standard_normal(round(seconds * RATE)) * level).astype(
        np.float32
    )


def music(seconds: float) -> np.ndarray:  # type: ignore[type-arg]
    t = np.arange(round(seconds * RATE)) / RATE
    notes = [262, 330, 392, 523]
    melody = sum(0.1 * np.sin(2 * np.pi * f * t) * (np.floor(t * 2) % 4 == i)
                 for i, f in enumerate(notes))  # fmt: skip
    return (melody + 0.08 * np.sin(2 * np.pi * 131 * t)).astype(np.float32)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "ogg", "webm", "m4a"])
def test_clean_speech_passes_in_every_format(fmt: str) -> None:
    assert judge(encode_samples(speech(12.0), RATE, fmt)) == "ok"


CORPUS = [
    ("png renamed wav", lambda: PNG_HEADER, "no audio track"),
    ("zero bytes", lambda: b"", "could not be read as audio"),
    (
        "truncated mp3",
        lambda: encode_samples(speech(12.0), RATE, "mp3")[:6000],
        "s of speech was found",
    ),
    ("wav header claiming 4 GB", lambda: wav_claiming_4_gb(speech(1.0)), "s of speech was found"),
    ("pure silence", lambda: wav_bytes(np.zeros(RATE * 10, np.float32), RATE), "silent"),
    ("white noise", lambda: wav_bytes(noise(10.0, 0.3), RATE), "No speech was found"),
    ("music without voice", lambda: wav_bytes(music(10.0), RATE), "No speech was found"),
    ("2 s of speech", lambda: wav_bytes(speech(2.0), RATE), "s of speech was found"),
    (
        "heavily clipped speech",
        lambda: wav_bytes(np.clip(speech(12.0) * 30, -1, 1), RATE),
        "clipping",
    ),
    (
        "speech under loud noise",
        lambda: wav_bytes(speech(12.0) + noise(12.0, 0.15), RATE),
        "background noise is too loud",
    ),
    (
        "mostly silence",
        lambda: wav_bytes(np.concatenate([speech(6.0), np.zeros(RATE * 40, np.float32)]), RATE),
        "mostly silence",
    ),
    ("a tone", lambda: wav_bytes(tone(10.0, RATE), RATE), "No speech was found"),
]


@pytest.mark.parametrize(("make", "needle"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_each_bad_sample_fails_with_its_own_reason(make: object, needle: str) -> None:
    message = judge(make())  # type: ignore[operator]
    assert needle in message
    assert "record" in message.lower() or "upload" in message.lower()  # says what to do


def test_the_speech_found_is_said_in_the_message() -> None:
    message = judge(wav_bytes(speech(3.0), RATE))
    seconds = float(message.split("Only ", 1)[1].split(" s", 1)[0])
    assert 1.5 <= seconds <= 3.0


def test_only_the_first_three_minutes_are_decoded() -> None:
    long = np.tile(speech(20.0), 10)  # 200 s
    decoded = decode_sample(wav_bytes(long, RATE))
    assert len(decoded) == 180 * RATE


def test_the_noise_figure_is_measured() -> None:
    clean = analyse(speech(12.0))
    noisy = analyse(speech(12.0) + noise(12.0, 0.02))
    assert clean.snr_db > 30
    assert 10 < noisy.snr_db < clean.snr_db


def test_loudness_is_normalised_without_clipping() -> None:
    quiet = speech(8.0) * 0.05
    louder = normalise_loudness(quiet)
    rms = float(np.sqrt(np.mean(np.square(louder))))
    assert 20 * np.log10(rms) == pytest.approx(-20.0, abs=0.5) or np.abs(louder).max() > 0.97
    assert np.abs(louder).max() <= 0.98 + 1e-6
