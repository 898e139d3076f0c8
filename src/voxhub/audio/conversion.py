"""Converting a base voice's speech toward a reference speaker, with the WORLD vocoder.

Classical and fast (RTF ~0.07 on 2 cores, speech in, speech out, same length), after the
experiments in the team's audio notes: the speech is analysed into F0, spectral envelope and
aperiodicity; log-F0 is moved to the reference's mean and spread; the spectral envelope, coded
as 40 coefficients, has each coefficient's mean moved to the reference's and its spread moved
half-way (the ratio's square root), separately for voiced and unvoiced frames, keeping the
level (coefficient 0). The change this makes to the envelope is applied to the speech's own
(uncoded) envelope, and only below the reference's bandwidth: a sample recorded through a
telephone, or decoded at 16 kHz, says nothing about the highs, so the base voice keeps its own
there (its statistics are measured low-passed to the same band, so both sides compare like
with like). ``strength`` (0-1, default 1) takes the pitch and envelope only part of the way. Then
the speech is resynthesized.

``voice_statistics`` measures a speaker (the reference at clone time, and the base voice once,
on its own rendering of some text), both at the base voice's sample rate; ``convert`` applies
two such measurements. Registered as the voice transform ``world``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from voxhub.engines import Samples

__all__ = ["CODED_DIMENSIONS", "bandwidth_hz", "convert", "low_pass", "voice_statistics"]

CODED_DIMENSIONS = 40
FRAME_MS = 5.0
SPREAD_POWER = 0.5
_FLOOR = 1e-4
_TAPER_HZ = 500.0


def _analyse(samples: Samples, rate: int) -> tuple[Any, Any, Any]:
    import pyworld

    x = samples.astype(np.float64)
    f0, times = pyworld.dio(x, rate, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(x, f0, times, rate)
    envelope = pyworld.cheaptrick(x, f0, times, rate)
    aperiodicity = pyworld.d4c(x, f0, times, rate)
    return f0, envelope, aperiodicity


def _coded(envelope: Any, rate: int) -> Any:
    import pyworld

    return pyworld.code_spectral_envelope(envelope, rate, CODED_DIMENSIONS)


def voice_statistics(samples: Samples, rate: int) -> dict[str, Any]:
    """A speaker's F0 and envelope statistics (JSON-ready lists and floats)."""
    f0, envelope, _ = _analyse(samples, rate)
    coded = _coded(envelope, rate)
    voiced = f0 > 0
    log_f0 = np.log(f0[voiced]) if voiced.any() else np.zeros(1)
    stats: dict[str, Any] = {
        "rate": rate,  # coded envelopes compare only at one sample rate
        "log_f0_mean": float(np.mean(log_f0)),
        "log_f0_std": float(np.std(log_f0) + _FLOOR),
        "f0_median_hz": float(np.exp(np.median(log_f0))) if voiced.any() else 0.0,
    }
    loud = _speech_frames(coded)
    for name, frames in (("voiced", voiced & loud), ("unvoiced", ~voiced & loud)):
        chosen = coded[frames] if frames.sum() >= 10 else coded[loud]
        stats[f"{name}_mean"] = np.mean(chosen, axis=0).tolist()
        stats[f"{name}_std"] = (np.std(chosen, axis=0) + _FLOOR).tolist()
    return stats


def bandwidth_hz(samples: Samples, rate: int) -> float:
    """Where the recording's long-term spectrum falls 60 dB below its peak for good (the top
    of its band: ~3.4-4 kHz through a telephone, up to half the sample rate otherwise)."""
    frame = 1024
    count = len(samples) // frame
    if count == 0:
        return rate / 2
    frames = np.asarray(samples[: count * frame], np.float64).reshape(count, frame)
    power = np.mean(np.abs(np.fft.rfft(frames * np.hanning(frame), axis=1)) ** 2, axis=0)
    level = 10 * np.log10(power + 1e-20)
    above = np.nonzero(level > level.max() - 60)[0]
    return float(min(rate / 2, (above[-1] + 1) * rate / frame))


def low_pass(samples: Samples, rate: int, cutoff_hz: float) -> Samples:
    """The samples with nothing above ``cutoff_hz`` (a brick wall in the frequency domain)."""
    if cutoff_hz >= rate / 2:
        return samples
    spectrum = np.fft.rfft(np.asarray(samples, np.float64))
    spectrum[np.fft.rfftfreq(len(samples), 1 / rate) > cutoff_hz] = 0
    return np.fft.irfft(spectrum, len(samples)).astype(np.float32)


def _band_weights(rate: int, fft_size: int, band_hz: float) -> Any:
    """1 below the band's top, falling to 0 over 500 Hz (a raised cosine)."""
    freqs = np.linspace(0, rate / 2, fft_size // 2 + 1)
    ramp = np.clip((freqs - (band_hz - _TAPER_HZ)) / _TAPER_HZ, 0, 1)
    return 0.5 * (1 + np.cos(np.pi * ramp))


def _speech_frames(coded: Any) -> Any:
    """Frames within 40 dB of the loudest (coefficient 0 follows the level)."""
    level = coded[:, 0]
    return level > np.max(level) - 40 / 20 * np.log(10)


def _decoded(coded: Any, rate: int, fft_size: int) -> Any:
    import pyworld

    decoded = pyworld.decode_spectral_envelope(np.ascontiguousarray(coded), rate, fft_size)
    return np.maximum(decoded, 1e-16)


def convert(samples: Samples, rate: int, parameters: Mapping[str, Any]) -> Samples:
    """``samples`` (spoken by the voice measured as ``parameters["source"]``) moved toward the
    speaker measured as ``parameters["target"]``; the result has the same length."""
    import pyworld

    if len(samples) < rate // 20:  # too short to analyse: nothing to convert
        return samples
    source, target = parameters["source"], parameters["target"]
    if not source["rate"] == target["rate"] == rate:
        raise ValueError("voice statistics were measured at another sample rate")
    strength = float(parameters.get("strength", 1.0))
    f0, envelope, aperiodicity = _analyse(samples, rate)
    voiced = f0 > 0
    scale = target["log_f0_std"] / source["log_f0_std"]
    f0 = f0.copy()
    log_f0 = np.log(f0[voiced])
    moved_f0 = (log_f0 - source["log_f0_mean"]) * scale + target["log_f0_mean"]
    f0[voiced] = np.exp(log_f0 + strength * (moved_f0 - log_f0))
    coded = _coded(envelope, rate)
    original = coded.copy()
    for name, frames in (("voiced", voiced), ("unvoiced", ~voiced)):
        if not frames.any():
            continue
        mean_s, std_s = np.asarray(source[f"{name}_mean"]), np.asarray(source[f"{name}_std"])
        mean_t, std_t = np.asarray(target[f"{name}_mean"]), np.asarray(target[f"{name}_std"])
        ratio = (std_t / std_s) ** SPREAD_POWER
        moved = (coded[frames] - mean_s) * ratio + mean_t
        moved[:, 0] = coded[frames][:, 0]  # keep the level
        coded[frames] = moved
    fft_size = pyworld.get_cheaptrick_fft_size(rate)
    change = np.log(_decoded(coded, rate, fft_size)) - np.log(_decoded(original, rate, fft_size))
    weights = _band_weights(rate, fft_size, float(parameters.get("band_hz", rate / 2)))
    envelope = envelope * np.exp(change * weights * strength)
    out = pyworld.synthesize(f0, envelope, aperiodicity, rate, FRAME_MS)
    out = np.asarray(out, dtype=np.float32)[: len(samples)]
    if len(out) < len(samples):
        out = np.concatenate([out, np.zeros(len(samples) - len(out), np.float32)])
    peak = float(np.abs(out).max())
    if peak > 0.98:
        out = (out * (0.98 / peak)).astype(np.float32)
    return out
