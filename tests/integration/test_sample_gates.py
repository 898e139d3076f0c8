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
    MIN_SNR_DB,
    SampleRejected,
    SampleReport,
    analyse,
    check_sample,
    decode_sample,
    normalise_loudness,
    speech_mask,
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


def mixed_at(clean: np.ndarray, snr_db: float, seed: int = 3) -> np.ndarray:  # type: ignore[type-arg]
    """``clean`` with white noise whose power is ``snr_db`` below the speech's (the speech
    windows the VAD finds in the clean clip): a recording of known signal-to-noise ratio."""
    mask = speech_mask(clean)
    speech_power = float(np.mean(np.square(clean[: len(mask) * 512].reshape(-1, 512)[mask])))
    level = np.sqrt(speech_power / 10 ** (snr_db / 10))
    return (clean + noise(len(clean) / RATE, float(level), seed)).astype(np.float32)


@pytest.mark.parametrize("snr", [10.0, 25.0])
def test_the_noise_figure_is_the_ratio_the_noise_was_mixed_at(snr: float) -> None:
    assert analyse(mixed_at(speech(12.0), snr)).snr_db == pytest.approx(snr, abs=2.0)


def test_speech_without_pauses_is_not_taken_for_noise() -> None:
    # Read speech cut to its speech windows only (no pause left to hear the room in): the
    # quiet moments between syllables are not noise.
    clean = speech(12.0)
    mask = speech_mask(clean)
    continuous = clean[: len(mask) * 512].reshape(-1, 512)[mask].reshape(-1)
    assert judge(wav_bytes(continuous, RATE)) == "ok"


def test_a_reverberant_room_with_a_faint_floor_is_not_refused() -> None:
    clean = speech(12.0)
    rng = np.random.default_rng(5)
    tail = rng.standard_normal(RATE * 8 // 10) * np.exp(
        -6.9 * np.arange(RATE * 8 // 10) / RATE / 0.8
    )
    tail[0] = 4.0
    wet = np.convolve(clean, tail)[: len(clean)].astype(np.float32)
    wet = mixed_at(wet / np.abs(wet).max() * 0.5, 40.0)
    assert judge(wav_bytes(wet, RATE)) == "ok"


def test_hum_below_the_voice_is_not_counted_as_noise() -> None:
    clean = speech(12.0)
    hum = 0.05 * np.sin(2 * np.pi * 50 * np.arange(len(clean)) / RATE)
    assert judge(wav_bytes(clean * 0.5 + hum.astype(np.float32), RATE)) == "ok"


def test_noise_a_listener_would_mind_is_refused_with_its_figure() -> None:
    message = judge(wav_bytes(mixed_at(speech(12.0), MIN_SNR_DB - 6), RATE))
    assert "background noise is too loud" in message
    figure = int(message.split("only ", 1)[1].split(" dB", 1)[0])
    assert MIN_SNR_DB - 9 <= figure < MIN_SNR_DB


@pytest.mark.parametrize("measured", [MIN_SNR_DB - 0.4, MIN_SNR_DB - 0.01])
def test_the_refusal_never_quotes_the_figure_it_needs(measured: float) -> None:
    report = SampleReport(seconds=12.0, speech_seconds=10.0, clipped_share=0.0,
                          snr_db=measured, peak=0.5)  # fmt: skip
    with pytest.raises(SampleRejected) as refused:
        check_sample(report)
    assert f"only {int(MIN_SNR_DB) - 1} dB above it (at least {MIN_SNR_DB:.0f} dB" in str(
        refused.value
    )


def test_a_measure_at_the_threshold_passes() -> None:
    check_sample(SampleReport(seconds=12.0, speech_seconds=10.0, clipped_share=0.0,
                              snr_db=MIN_SNR_DB, peak=0.5))  # fmt: skip


def test_speech_clipped_and_then_turned_down_is_refused() -> None:
    clipped = np.clip(speech(12.0) * 8, -1, 1) * 0.4
    assert "clipping" in judge(wav_bytes(clipped, RATE))


def test_speech_normalised_to_full_scale_is_not_taken_for_clipping() -> None:
    clean = speech(12.0)
    assert judge(wav_bytes(clean / np.abs(clean).max(), RATE)) == "ok"


def test_a_fraction_of_a_second_is_refused_with_a_reason_not_crashed_on() -> None:
    message = judge(wav_bytes(speech(2.0)[: RATE // 5], RATE))
    assert "speech was found" in message
    assert "Record" in message
