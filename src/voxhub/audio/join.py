"""Joining synthesized pieces without clicks."""

from __future__ import annotations

import numpy as np

from voxhub.engines import Samples

__all__ = ["fade_edges", "silence", "trim_silence"]

FADE_SECONDS = 0.005
_SILENT = 10 ** (-50 / 20)  # -50 dBFS


def silence(seconds: float, sample_rate: int) -> Samples:
    return np.zeros(max(0, round(seconds * sample_rate)), np.float32)


def fade_edges(samples: Samples, sample_rate: int, seconds: float = FADE_SECONDS) -> Samples:
    """Ramp the first and last few milliseconds, so a piece starts and ends at zero."""
    n = min(len(samples) // 2, round(seconds * sample_rate))
    if n == 0:
        return samples
    out = samples.astype(np.float32, copy=True)
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def trim_silence(samples: Samples, sample_rate: int, keep: float = 0.0) -> tuple[Samples, int]:
    """Drop leading and trailing silence but ``keep`` seconds; return the audio and how many
    samples were cut from the start (to shift timings)."""
    loud = np.flatnonzero(np.abs(samples) > _SILENT)
    if len(loud) == 0:
        return samples[:0], 0
    pad = round(keep * sample_rate)
    start = max(0, int(loud[0]) - pad)
    end = min(len(samples), int(loud[-1]) + 1 + pad)
    return samples[start:end], start
