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

Frame-level blending (``blend`` > 0, with the reference's ``frames`` from ``speaker_frames``),
after the team's third experiment (kNN-VC's idea with classical features): statistics move the
envelope as a whole, but a speaker differs phone by phone. Each speech frame of the base voice
is matched to its 3 nearest frames of the reference — same voicing, by the shape of the
envelope below the reference's band (20 cepstra of its log spectrum on a mel scale, each side
normalised by its own mean and spread, so the match is by phone rather than by voice, with
±20 ms of context, cosine) — and its coded envelope is moved ``blend`` of the way from the
statistics' result to the neighbours' mean, keeping its level. Full replacement is far closer
to the speaker and barely intelligible (~40% WER in the experiment): ``blend`` trades one for
the other. The reference's frames are kept with the clone (every 10 ms of its speech, at most
2000, as float16).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from voxhub.engines import Samples

__all__ = [
    "CODED_DIMENSIONS",
    "bandwidth_hz",
    "convert",
    "convert_variants",
    "frames_file",
    "low_pass",
    "pitch_scaled",
    "speaker_frames",
    "speaker_statistics_and_frames",
    "voice_statistics",
]

CODED_DIMENSIONS = 40
FRAME_MS = 5.0
SPREAD_POWER = 0.5
_FLOOR = 1e-4
_TAPER_HZ = 500.0
_KEPT_EVERY = 2  # reference frames kept every 10 ms (analysed every 5)
_MAX_KEPT = 2000
# Fewer neighbours blur the envelope less: at blend 0.6 on the bench's six speakers, 3 instead
# of 6 raised every judge (CAM++ 0.609 -> 0.617) at the same WER (0.8%); 2 cost WER (2.1%).
_NEIGHBOURS = 3
_MATCH_CEPSTRA = 20
_MATCH_BANDS = 40
_CONTEXT = (-2, -1, 0, 1, 2)  # in kept (10 ms) frames


def _analyse(samples: Samples, rate: int) -> tuple[Any, Any, Any]:
    """WORLD's F0, spectral envelope and aperiodicity: what resynthesis needs."""
    import pyworld

    x, f0, times = _f0(samples, rate)
    envelope = pyworld.cheaptrick(x, f0, times, rate)
    return f0, envelope, pyworld.d4c(x, f0, times, rate)


def _f0_and_envelope(samples: Samples, rate: int) -> tuple[Any, Any]:
    """What measuring a voice needs: ``_analyse`` without the aperiodicity, which is two
    thirds of its time (D4C) and which no statistic uses."""
    import pyworld

    x, f0, times = _f0(samples, rate)
    return f0, pyworld.cheaptrick(x, f0, times, rate)


def _f0(samples: Samples, rate: int) -> tuple[Any, Any, Any]:
    import pyworld

    x = samples.astype(np.float64)
    f0, times = pyworld.dio(x, rate, frame_period=FRAME_MS)
    return x, pyworld.stonemask(x, f0, times, rate), times


def pitch_scaled(samples: Samples, rate: int, factor: float) -> Samples:
    """The same speech with its F0 multiplied by ``factor``, everything else kept (same
    length)."""
    import pyworld

    f0, envelope, aperiodicity = _analyse(samples, rate)
    out = pyworld.synthesize(f0 * factor, envelope, aperiodicity, rate, FRAME_MS)
    return np.asarray(out[: len(samples)], dtype=np.float32)


def _coded(envelope: Any, rate: int) -> Any:
    import pyworld

    return pyworld.code_spectral_envelope(envelope, rate, CODED_DIMENSIONS)


def voice_statistics(samples: Samples, rate: int) -> dict[str, Any]:
    """A speaker's F0 and envelope statistics (JSON-ready lists and floats)."""
    f0, envelope = _f0_and_envelope(samples, rate)
    return _statistics(f0, _coded(envelope, rate), rate)


def speaker_statistics_and_frames(
    samples: Samples, rate: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``voice_statistics`` and ``speaker_frames`` of the same speech, analysed once."""
    f0, envelope = _f0_and_envelope(samples, rate)
    coded = _coded(envelope, rate)
    return _statistics(f0, coded, rate), _frames(f0, coded)


def speaker_frames(samples: Samples, rate: int) -> dict[str, Any]:
    """The speaker's coded envelopes, every 10 ms of speech (JSON-ready: float16, base64)."""
    f0, envelope = _f0_and_envelope(samples, rate)
    return _frames(f0, _coded(envelope, rate))


def _frames(f0: Any, coded: Any) -> dict[str, Any]:
    every = np.arange(len(coded)) % _KEPT_EVERY == 0
    chosen = np.nonzero(_speech_frames(coded) & every)[0][:_MAX_KEPT]
    return {
        "coded": base64.b64encode(coded[chosen].astype("<f2").tobytes()).decode(),
        "voiced": base64.b64encode(np.packbits(f0[chosen] > 0).tobytes()).decode(),
        "count": len(chosen),
    }


def frames_file(frames: Mapping[str, Any]) -> bytes:
    """``speaker_frames`` as the file a clone keeps them in, beside its record."""
    return json.dumps(dict(frames), separators=(",", ":")).encode()


def _unpacked_frames(kept: Mapping[str, Any] | bytes) -> tuple[Any, Any]:
    # bytes: the file a clone keeps them in (``frames_file``)
    frames: Mapping[str, Any] = json.loads(kept) if isinstance(kept, bytes) else kept
    count = int(frames["count"])
    coded = np.frombuffer(base64.b64decode(frames["coded"]), "<f2").astype(np.float64)
    voiced = np.unpackbits(np.frombuffer(base64.b64decode(frames["voiced"]), np.uint8))
    return coded.reshape(count, CODED_DIMENSIONS), voiced[:count].astype(bool)


def _statistics(f0: Any, coded: Any, rate: int) -> dict[str, Any]:
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
    return convert_variants(samples, rate, [parameters])[0]


def convert_variants(
    samples: Samples, rate: int, variants: Sequence[Mapping[str, Any]]
) -> list[Samples]:
    """``convert`` with each of several parameter sets, the speech analysed once (how a clone
    job searches the conversion's strength and blend)."""
    if len(samples) < rate // 20:  # too short to analyse: nothing to convert
        return [samples for _ in variants]
    analysed = _analyse(samples, rate)
    return [_converted(analysed, len(samples), rate, parameters) for parameters in variants]


def _converted(
    analysed: tuple[Any, Any, Any], length: int, rate: int, parameters: Mapping[str, Any]
) -> Samples:
    import pyworld

    source, target = parameters["source"], parameters["target"]
    if not source["rate"] == target["rate"] == rate:
        raise ValueError("voice statistics were measured at another sample rate")
    strength = float(parameters.get("strength", 1.0))
    f0, envelope, aperiodicity = analysed
    voiced = f0 > 0
    f0 = _moved_f0(f0, source, target, strength)
    original = _coded(envelope, rate)
    coded = _statistics_moved(original, voiced, source, target)
    fft_size = pyworld.get_cheaptrick_fft_size(rate)
    band_hz = float(parameters.get("band_hz", rate / 2))
    original_log = np.log(_decoded(original, rate, fft_size))
    blend = float(parameters.get("blend", 0.0))
    if blend > 0 and "frames" in parameters:
        reference, reference_voiced = _unpacked_frames(parameters["frames"])
        nearest = _nearest_mean(original_log, voiced, reference, reference_voiced, rate, band_hz)
        nearest[:, 0] = coded[:, 0]  # keep the level
        speech = _speech_frames(original)
        coded[speech] += blend * (nearest[speech] - coded[speech])
    change = np.log(_decoded(coded, rate, fft_size)) - original_log
    weights = _band_weights(rate, fft_size, band_hz)
    envelope = envelope * np.exp(change * weights * strength)
    out = pyworld.synthesize(f0, envelope, aperiodicity, rate, FRAME_MS)
    out = np.asarray(out, dtype=np.float32)[:length]
    if len(out) < length:
        out = np.concatenate([out, np.zeros(length - len(out), np.float32)])
    peak = float(np.abs(out).max())
    if peak > 0.98:
        out = (out * (0.98 / peak)).astype(np.float32)
    return out


def _moved_f0(
    f0: Any, source: Mapping[str, Any], target: Mapping[str, Any], strength: float
) -> Any:
    """Log-F0 moved toward the target's mean and spread (``strength`` of the way)."""
    voiced = f0 > 0
    moved = f0.copy()
    log_f0 = np.log(f0[voiced])
    scale = target["log_f0_std"] / source["log_f0_std"]
    target_f0 = (log_f0 - source["log_f0_mean"]) * scale + target["log_f0_mean"]
    moved[voiced] = np.exp(log_f0 + strength * (target_f0 - log_f0))
    return moved


def _statistics_moved(
    coded: Any, voiced: Any, source: Mapping[str, Any], target: Mapping[str, Any]
) -> Any:
    """Coded envelopes with each coefficient's mean and (softened) spread moved to the
    target's, per voicing class, the level kept."""
    moved = coded.copy()
    for name, frames in (("voiced", voiced), ("unvoiced", ~voiced)):
        if not frames.any():
            continue
        mean_s, std_s = np.asarray(source[f"{name}_mean"]), np.asarray(source[f"{name}_std"])
        mean_t, std_t = np.asarray(target[f"{name}_mean"]), np.asarray(target[f"{name}_std"])
        ratio = (std_t / std_s) ** SPREAD_POWER
        chosen = (coded[frames] - mean_s) * ratio + mean_t
        chosen[:, 0] = coded[frames][:, 0]  # keep the level
        moved[frames] = chosen
    return moved


def _mel_cepstra(log_envelope: Any, rate: int, band_hz: float) -> Any:
    """(frames, 20) cepstra of log envelopes (frames, bins) below ``band_hz``, on a mel scale:
    what a frame's phone looks like, comparable between a full-band voice and a band-limited
    reference."""
    bins = log_envelope.shape[1]
    top = min(band_hz, rate / 2) * 0.95
    mel_top = 2595 * np.log10(1 + top / 700)
    hz = 700 * (10 ** (np.linspace(0, mel_top, _MATCH_BANDS) / 2595) - 1)
    position = hz / (rate / 2) * (bins - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, bins - 1)
    fraction = position - low
    bands = log_envelope[:, low] * (1 - fraction) + log_envelope[:, high] * fraction
    n = np.arange(_MATCH_BANDS)
    dct = np.cos(
        np.pi / _MATCH_BANDS * (n + 0.5)[None, :] * np.arange(1, _MATCH_CEPSTRA + 1)[:, None]
    )
    return bands @ dct.T


def _context_features(cepstra: Any, voiced: Any, step: int) -> Any:
    """Cepstra normalised per voicing class, with neighbours ``step`` frames apart stacked
    (the edges repeat), each row a unit vector."""
    normalised = np.zeros_like(cepstra)
    for frames in (voiced, ~voiced):
        if frames.any():
            chosen = cepstra[frames]
            normalised[frames] = (chosen - chosen.mean(axis=0)) / (chosen.std(axis=0) + _FLOOR)
    count = len(normalised)
    stacked = [normalised[np.clip(np.arange(count) + step * o, 0, count - 1)] for o in _CONTEXT]
    features = np.concatenate(stacked, axis=1)
    return features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-12)


def _nearest_mean(
    log_envelope: Any, voiced: Any, reference: Any, reference_voiced: Any, rate: int, band_hz: float
) -> Any:
    """For each frame (log envelope, 5 ms apart), the mean coded envelope of its nearest
    reference frames (10 ms apart) of the same voicing class."""
    fft_size = (log_envelope.shape[1] - 1) * 2
    reference_log = np.log(_decoded(reference, rate, fft_size))
    query = _context_features(_mel_cepstra(log_envelope, rate, band_hz), voiced, _KEPT_EVERY)
    keys = _context_features(_mel_cepstra(reference_log, rate, band_hz), reference_voiced, 1)
    nearest = np.zeros((len(query), reference.shape[1]))
    for frames, pool in ((voiced, reference_voiced), (~voiced, ~reference_voiced)):
        if not frames.any():
            continue
        if pool.sum() < _NEIGHBOURS:
            pool = np.ones(len(reference), bool)
        scores = query[frames] @ keys[pool].T
        best = np.argpartition(-scores, _NEIGHBOURS - 1, axis=1)[:, :_NEIGHBOURS]
        nearest[frames] = reference[pool][best].mean(axis=1)
    return nearest
