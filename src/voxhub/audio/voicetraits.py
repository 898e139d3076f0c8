"""What a voice sounds like, measured from a recording of it (Design a Voice's descriptions).

Pure signal measures of 16 kHz mono speech, no model:

- pitch: the median fundamental frequency of the voiced frames (WORLD's DIO + StoneMask);
- pitch range: the spread of that pitch, 10th to 90th percentile, in semitones (a flat,
  monotone reading spans a few; a lively one an octave);
- speaking rate: syllable nuclei per second of speech — peaks of the smoothed loudness contour
  in voiced frames, each at least 2 dB above the dip before it (de Jong and Wempe's method,
  simplified);
- brightness: the spectral centroid of the speech frames, in Hz, and the balance of energy above
  and below 1 kHz, in dB (a warm, dark voice keeps its energy low; a bright one higher up).

Age is not measured: no model that estimates it ships in a package here, and pitch alone says
too little about age to claim one honestly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from voxhub.engines import Samples

__all__ = ["TRAITS_RATE", "MeasuredTraits", "measure_traits"]

TRAITS_RATE = 16000
_HOP = 160  # 10 ms
_WINDOW = 400  # 25 ms
_SPEECH_BELOW_PEAK_DB = 35.0
_NUCLEUS_DIP_DB = 2.0


@dataclass(frozen=True, slots=True)
class MeasuredTraits:
    pitch_hz: float
    pitch_range_semitones: float
    syllables_per_second: float
    spectral_centroid_hz: float
    high_low_balance_db: float
    speech_seconds: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in asdict(self).items()}


def measure_traits(samples: Samples) -> MeasuredTraits:
    """The traits of one speaker's speech (16 kHz mono float32)."""
    frames = _frames(samples)
    level_db = 10 * np.log10(np.mean(np.square(frames), axis=1) + 1e-10)
    speech = level_db > level_db.max() - _SPEECH_BELOW_PEAK_DB if len(level_db) else level_db > 0
    f0 = _pitch(samples, len(frames))
    voiced = f0 > 0
    speech_seconds = float(speech.sum()) * _HOP / TRAITS_RATE
    centroid, balance = _spectrum(frames[speech]) if speech.any() else (0.0, 0.0)
    return MeasuredTraits(
        pitch_hz=float(np.median(f0[voiced])) if voiced.any() else 0.0,
        pitch_range_semitones=_range_semitones(f0[voiced]),
        syllables_per_second=_nuclei(level_db, voiced & speech) / max(speech_seconds, 0.1),
        spectral_centroid_hz=centroid,
        high_low_balance_db=balance,
        speech_seconds=speech_seconds,
    )


def _frames(samples: Samples) -> Any:
    count = max(0, 1 + (len(samples) - _WINDOW) // _HOP)
    if count == 0:
        return np.zeros((0, _WINDOW), dtype=np.float32)
    index = np.arange(_WINDOW)[None, :] + _HOP * np.arange(count)[:, None]
    return samples[index]


def _pitch(samples: Samples, frames: int) -> Any:
    """F0 per 10 ms frame, aligned with the analysis frames (0 where unvoiced)."""
    import pyworld

    x = samples.astype(np.float64)
    f0, times = pyworld.dio(x, TRAITS_RATE, f0_floor=60.0, f0_ceil=500.0, frame_period=10.0)
    f0 = pyworld.stonemask(x, f0, times, TRAITS_RATE)
    # DIO's frame k is centred at k*10 ms; analysis frame k at k*10 ms + 12.5 ms.
    aligned = np.zeros(frames)
    shifted = f0[1 : frames + 1]
    aligned[: len(shifted)] = shifted
    return aligned


def _range_semitones(voiced_f0: Any) -> float:
    if len(voiced_f0) < 10:
        return 0.0
    low, high = np.percentile(voiced_f0, [10, 90])
    return float(12 * np.log2(high / low))


def _nuclei(level_db: Any, voiced: Any) -> int:
    """Loudness peaks in voiced frames, each rising at least 2 dB above the dip before it."""
    smooth = np.convolve(level_db, np.ones(5) / 5, mode="same")
    count, dip, armed = 0, np.inf, True
    for i in range(1, len(smooth) - 1):
        dip = min(dip, smooth[i])
        if not voiced[i]:
            armed = True
            continue
        is_peak = smooth[i] >= smooth[i - 1] and smooth[i] > smooth[i + 1]
        if is_peak and (armed or smooth[i] - dip >= _NUCLEUS_DIP_DB):
            count += 1
            dip, armed = smooth[i], False
    return count


def _spectrum(frames: Any) -> tuple[float, float]:
    window = np.hanning(_WINDOW).astype(np.float32)
    power = np.square(np.abs(np.fft.rfft(frames * window, axis=1))).sum(axis=0)
    hz = np.fft.rfftfreq(_WINDOW, 1 / TRAITS_RATE)
    band = (hz >= 80) & (hz <= 7600)
    centroid = float((hz[band] * power[band]).sum() / max(float(power[band].sum()), 1e-12))
    low = float(power[(hz >= 80) & (hz < 1000)].sum())
    high = float(power[(hz >= 1000) & (hz <= 7600)].sum())
    return centroid, float(10 * np.log10(max(high, 1e-12) / max(low, 1e-12)))
