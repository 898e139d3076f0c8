"""Signal processing: joining pieces of speech and encoding audio files."""

from __future__ import annotations

from voxhub.audio.encode import FORMATS, AudioFormat, StreamingEncoder
from voxhub.audio.join import fade_edges, silence, trim_silence

__all__ = [
    "FORMATS",
    "AudioFormat",
    "StreamingEncoder",
    "fade_edges",
    "silence",
    "trim_silence",
]
