"""Audio files made by the tests themselves (PyAV's FFmpeg), in every format voxhub accepts."""

from __future__ import annotations

import io
import wave
from functools import cache

import av
import numpy as np

__all__ = ["PNG_HEADER", "encoded", "tone", "wav_bytes"]

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
    if name == "wav":
        return wav_bytes(tone(seconds))
    container_format, codec, rate = _FORMATS[name]
    samples = tone(seconds, rate)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):  # type: ignore[union-attr]
            container.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            container.mux(packet)
    return buffer.getvalue()
