"""Design a Voice's work in worker processes: measuring a voice's audio, embedding texts."""

from __future__ import annotations

from voxhub.audio.analysis import SampleRejected, decode_sample
from voxhub.audio.voicetraits import TRAITS_RATE, measure_traits
from voxhub.workers.embedding import EmbeddingUnavailable, embed_texts

__all__ = ["EmbeddingUnavailable", "embed_texts", "measure_voice_audio"]

_MEASURED_SECONDS = 60.0  # a preview is a few seconds; a minute is plenty for any clip


def measure_voice_audio(audio: bytes) -> dict[str, float] | None:
    """The measured traits of a voice's preview clip (None: no speech could be read)."""
    try:
        samples = decode_sample(audio, _MEASURED_SECONDS)
    except SampleRejected:
        return None
    assert TRAITS_RATE == 16000  # decode_sample's rate
    traits = measure_traits(samples)
    if traits.speech_seconds < 0.3 or traits.pitch_hz == 0.0:
        return None
    return traits.as_dict()
