"""Audio files made by the tests themselves (PyAV's FFmpeg), in every format voxhub accepts."""

from __future__ import annotations

import io
import wave
from functools import cache
from typing import Any

import av
import numpy as np

from voxhub.audio.analysis import resample

__all__ = [
    "PNG_HEADER",
    "SENTENCES",
    "decoded_seconds",
    "encode_samples",
    "encoded",
    "other_speaker",
    "resample",
    "speech",
    "tone",
    "video",
    "wav_bytes",
    "wav_claiming_4_gb",
]

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
_FORMATS = {  # name: (container, codec, rate)
    "mp3": ("mp3", "libmp3lame", 22050),
    "flac": ("flac", "flac", 22050),
    "ogg": ("ogg", "libopus", 48000),
    "webm": ("webm", "libopus", 48000),
    "m4a": ("ipod", "aac", 24000),
    "aac": ("adts", "aac", 24000),
}


def tone(seconds: float = 1.0, rate: int = 22050) -> np.ndarray:  # type: ignore[type-arg]
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int = 22050) -> bytes:  # type: ignore[type-arg]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return buffer.getvalue()


@cache
def encoded(name: str, seconds: float = 1.0) -> bytes:
    """A tone of ``seconds`` in the format ``name`` (wav, mp3, flac, ogg, webm, m4a, aac)."""
    rate = _FORMATS[name][2] if name in _FORMATS else 22050
    return encode_samples(tone(seconds, rate), rate, name)


SENTENCES = (
    "The old lighthouse keeper climbed the stairs every evening to light the lamp.",
    "Ships passing in the night would see the beam and know the rocks were near.",
    "In winter the wind howled around the tower, but the light never failed.",
    "Years later, people still tell stories about his steady, patient work.",
)


@cache
def speech(seconds: float, rate: int = 16000) -> np.ndarray:  # type: ignore[type-arg]
    """Synthetic speech (Piper) of about ``seconds``, with natural pauses, at ``rate``."""
    from voxhub.engines import PiperEngine

    engine = PiperEngine()
    pieces = []
    total = 0.0
    index = 0
    while total < seconds:
        piece = engine.synthesize(SENTENCES[index % len(SENTENCES)], "en_US-joe-medium", 1.0)
        pieces += [piece.samples, np.zeros(round(0.3 * piece.sample_rate), np.float32)]
        total += piece.duration + 0.3
        index += 1
    audio = np.concatenate(pieces)[: round(seconds * piece.sample_rate)]
    return resample(audio, piece.sample_rate, rate)


def encode_samples(samples: np.ndarray, rate: int, name: str) -> bytes:  # type: ignore[type-arg]
    if name == "wav":
        return wav_bytes(samples, rate)
    container_format, codec, codec_rate = _FORMATS[name]
    audio = resample(samples, rate, codec_rate) if codec_rate != rate else samples
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=codec_rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(audio[None, :], format="flt", layout="mono")
        frame.sample_rate = codec_rate
        for packet in stream.encode(frame):  # type: ignore[union-attr]
            container.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            container.mux(packet)
    return buffer.getvalue()


_VIDEO_FORMATS = {  # name: (container, video codec, audio codec, audio rate)
    "mp4": ("mp4", "mpeg4", "aac", 24000),
    "mov": ("mov", "mpeg4", "aac", 24000),
    "webm": ("webm", "libvpx", "libopus", 48000),
}


def video(name: str, samples: np.ndarray | None = None, rate: int = 16000) -> bytes:  # type: ignore[type-arg]
    """A small video (mp4, mov or webm) of grey frames with ``samples`` as its sound track, or
    silent of picture only when ``samples`` is None."""
    container_format, video_codec, audio_codec, audio_rate = _VIDEO_FORMATS[name]
    seconds = len(samples) / rate if samples is not None else 1.0
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        picture: Any = container.add_stream(video_codec, rate=10)
        picture.width, picture.height, picture.pix_fmt = 32, 32, "yuv420p"
        sound: Any = None
        if samples is not None:
            sound = container.add_stream(audio_codec, rate=audio_rate, layout="mono")
        for index in range(max(1, round(seconds * 10))):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), index % 255, np.uint8))
            for packet in picture.encode(frame.reformat(format="yuv420p")):
                container.mux(packet)
        for packet in picture.encode(None):
            container.mux(packet)
        if sound is not None and samples is not None:
            audio = resample(samples, rate, audio_rate) if audio_rate != rate else samples
            frame = av.AudioFrame.from_ndarray(
                audio.astype(np.float32)[None, :], format="flt", layout="mono"
            )
            frame.sample_rate = audio_rate
            for packet in sound.encode(frame):
                container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
    return buffer.getvalue()


def wav_claiming_4_gb(samples: np.ndarray, rate: int = 16000) -> bytes:  # type: ignore[type-arg]
    """A WAV whose header says its data is 4 GB long, followed by a second of real data."""
    data = bytearray(wav_bytes(samples, rate))
    data[4:8] = (0xFFFFFFFF - 8).to_bytes(4, "little")
    data[40:44] = (0xFFFFFFFF - 44).to_bytes(4, "little")
    return bytes(data)


@cache
def other_speaker(seconds: float = 25.0, rate: int = 16000, voice: str = "gmw/en-GB-x-rp") -> bytes:
    """A WAV of a speaker other than any base voice (by default eSpeak NG's British English),
    ``seconds`` long, sentences apart: the reference a clone is made from."""
    from voxhub.engines import EspeakEngine

    engine = EspeakEngine()
    pieces: list[np.ndarray] = []  # type: ignore[type-arg]
    total, index = 0.0, 0
    while total < seconds:
        piece = engine.synthesize(SENTENCES[index % len(SENTENCES)], voice, 1.0)
        pieces += [piece.samples, np.zeros(4000, np.float32)]
        total += piece.duration + 4000 / piece.sample_rate
        index += 1
    audio = resample(np.concatenate(pieces), piece.sample_rate, rate)[: round(seconds * rate)]
    return wav_bytes(audio, rate)


def decoded_seconds(audio: bytes) -> float:
    """How long a file plays, counted from its decoded samples."""
    with av.open(io.BytesIO(audio)) as container:
        rate = container.streams.audio[0].rate
        return sum(f.samples for f in container.decode(audio=0)) / float(rate)
