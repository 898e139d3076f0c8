"""Encoding speech for a stream: each call hands back the bytes ready to send, at once.

A file encoder (``encode.StreamingEncoder``) may seek back to finish its headers; a stream
cannot, so containers here write to a sink without ``seek`` (FFmpeg then writes the headers it
can up front: no Xing frame in MP3, open-ended sizes in WAV) and flush after every packet.
Raw PCM and WAV are written directly; a WAV's sizes are 0xFFFFFFFF, as OpenAI streams it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, cast

import av
import numpy as np

from voxhub.engines import Samples

__all__ = ["STREAM_FORMATS", "ChunkEncoder", "StreamFormat"]


@dataclass(frozen=True, slots=True)
class StreamFormat:
    name: str  # what a client asks for
    media_type: str
    container: str | None = None  # FFmpeg muxer; None: PCM written here
    codec: str | None = None
    bit_rate: int | None = None
    rate: int | None = None  # the codec's only rate (Opus); None: the voice's
    options: tuple[tuple[str, str], ...] = ()


STREAM_FORMATS: dict[str, StreamFormat] = {
    f.name: f
    for f in (
        StreamFormat(
            "mp3", "audio/mpeg", "mp3", "libmp3lame", 64_000, options=(("compression_level", "7"),)
        ),
        StreamFormat("opus", "audio/ogg", "ogg", "libopus", 32_000, rate=48_000),
        StreamFormat("aac", "audio/aac", "adts", "aac", 64_000),
        StreamFormat("flac", "audio/flac", "flac", "flac"),
        StreamFormat("wav", "audio/wav"),
        StreamFormat("pcm", "audio/pcm"),
    )
}

_FRAME = 4608  # samples per frame handed to the encoder (a multiple of MP3's 1152)
_UNKNOWN_SIZE = 0xFFFFFFFF


class _Sink:
    """A write-only file for FFmpeg: no seek, so the muxer never goes back."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _pcm16(samples: Samples) -> bytes:
    """As FFmpeg converts (so a stream's PCM is the WAV file's, sample for sample)."""
    pcm: bytes = np.clip(np.rint(samples * 32768.0), -32768, 32767).astype("<i2").tobytes()
    return pcm


def _wav_header(sample_rate: int) -> bytes:
    return (
        b"RIFF" + struct.pack("<I", _UNKNOWN_SIZE) + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data" + struct.pack("<I", _UNKNOWN_SIZE)
    )  # fmt: skip


class ChunkEncoder:
    """Encode mono float32 samples, added piece by piece, into bytes sent as they come.

    ``sample_rate`` is the voice's; ``output_rate`` (or the codec's own rate) is resampled to.
    """

    def __init__(
        self, stream_format: StreamFormat, sample_rate: int, output_rate: int | None = None
    ) -> None:
        self.format = stream_format
        self.sample_rate = sample_rate
        self.output_rate = stream_format.rate or output_rate or sample_rate
        self._resampler: Any = None
        if self.output_rate != sample_rate:
            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.output_rate)
        self._header = _wav_header(self.output_rate) if stream_format.name == "wav" else b""
        self._sink = _Sink()
        self._container: Any = None
        self._stream: Any = None
        if stream_format.container is not None:
            self._open_container(stream_format)
        self._pending = np.zeros(0, np.float32)
        self.samples_in = 0  # at the voice's rate

    def _open_container(self, stream_format: StreamFormat) -> None:
        options = {"flush_packets": "1"}
        if stream_format.container == "ogg":
            options["page_duration"] = "100000"  # µs: a page per 0.1 s, not per second
        self._container = cast(
            Any, av.open(self._sink, "w", format=stream_format.container, options=options)
        )
        self._stream = self._container.add_stream(
            stream_format.codec,
            rate=self.output_rate,
            layout="mono",
            options=dict(stream_format.options),
        )
        if stream_format.bit_rate:
            self._stream.bit_rate = stream_format.bit_rate

    def add(self, samples: Samples) -> bytes:
        """Take more samples; the bytes ready to send (maybe none)."""
        self.samples_in += len(samples)
        self._pending = np.concatenate([self._pending, np.clip(samples, -1.0, 1.0)])
        while len(self._pending) >= _FRAME:
            self._encode(self._pending[:_FRAME])
            self._pending = self._pending[_FRAME:]
        return self._take()

    def finish(self) -> bytes:
        """The last bytes: what was pending, the encoder's tail, the container's trailer."""
        if len(self._pending):
            self._encode(self._pending)
            self._pending = self._pending[:0]
        if self._resampler is not None:
            for frame in self._resampler.resample(None):
                self._write(frame)
        if self._container is not None:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
        return self._take()

    def _take(self) -> bytes:
        header, self._header = self._header, b""
        return header + self._sink.take()

    def _encode(self, samples: Samples) -> None:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.float32)[None, :], format="flt", layout="mono"
        )
        frame.sample_rate = self.sample_rate
        if self._resampler is None:
            self._write(frame)
            return
        for resampled in self._resampler.resample(frame):
            self._write(resampled)

    def _write(self, frame: Any) -> None:
        if self._container is None:
            self._sink.write(_pcm16(frame.to_ndarray()[0]))
            return
        frame.pts = None  # the encoder numbers frames itself
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
