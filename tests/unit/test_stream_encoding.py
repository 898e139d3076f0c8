"""Stream encoding: what a stream sends decodes to the samples a file holds."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from voxhub.audio import FORMATS, StreamingEncoder
from voxhub.audio.stream import STREAM_FORMATS, ChunkEncoder

RATE = 22050


def _speechlike(seconds: float) -> np.ndarray:  # type: ignore[type-arg]
    rng = np.random.default_rng(7)
    return (0.3 * rng.standard_normal(round(seconds * RATE))).astype(np.float32)


def _streamed(name: str, samples: np.ndarray, output_rate: int | None = None) -> bytes:  # type: ignore[type-arg]
    encoder = ChunkEncoder(STREAM_FORMATS[name], RATE, output_rate)
    cut = len(samples) // 3
    return encoder.add(samples[:cut]) + encoder.add(samples[cut:]) + encoder.finish()


def test_streamed_pcm_is_the_wav_files_samples() -> None:
    samples = _speechlike(2.3)
    encoder = StreamingEncoder(FORMATS["wav"], RATE)
    encoder.add(samples)
    wav = encoder.finish()
    assert _streamed("pcm", samples) == wav[wav.index(b"data") + 8 :]


@pytest.mark.parametrize("name", sorted(STREAM_FORMATS))
def test_every_stream_format_plays_as_long_as_its_samples(name: str) -> None:
    samples = _speechlike(1.5)
    data = _streamed(name, samples, output_rate=24000 if name == "pcm" else None)
    if name == "pcm":
        assert len(data) / 2 / 24000 == pytest.approx(1.5, abs=0.001)
        return
    with av.open(io.BytesIO(data)) as container:
        rate = container.streams.audio[0].rate
        seconds = sum(frame.samples for frame in container.decode(audio=0)) / rate
    assert seconds == pytest.approx(1.5, abs=0.08)  # MP3 and AAC add their encoder delay


def test_the_first_bytes_come_before_the_end() -> None:
    encoder = ChunkEncoder(STREAM_FORMATS["mp3"], RATE)
    assert encoder.add(_speechlike(0.5))  # a first sentence is sent while the rest renders
