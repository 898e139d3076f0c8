"""A voice's gender, from the whole voice rather than its pitch alone.

Pitch alone mislabels people: a man addressing a crowd speaks well above the 165 Hz line, a
low-voiced woman below it. The speaker embedding (``audio/speaker.py``) carries the rest of the
voice — its resonances, its timbre — but it follows the pitch too: a man's recording with only
its pitch raised past 165 Hz came out closer to the female references than to the male ones.
So the voice is compared at one pitch: its F0 is moved to ``NEUTRAL_PITCH_HZ`` (WORLD, the
rest of the voice kept) before it is embedded, and so were the labelled references' (English
base voices whose gender is known, shipped with the package). The closer gender wins, with a
bias toward male (there are more female references to be close to); only when the two are
about as close does the sample's own pitch decide. Where only one gender speaks — a median
below 120 Hz (men) or above 255 Hz (women) — the pitch decides outright: the encoder, trained
on human speech, puts eSpeak NG's male formant voices (101 Hz) among the women. The bias, margin
and pitch were chosen on the calibration set's voices and checked on voices kept apart from that
choice (``bench/gender.py``; the README has the tables).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from voxhub.audio.analysis import ANALYSIS_RATE, median_pitch_hz, normalise_loudness
from voxhub.audio.conversion import pitch_scaled
from voxhub.audio.speaker import cosine, speaker_embedding
from voxhub.engines import Samples

__all__ = [
    "CLEAR_MARGIN",
    "MALE_BELOW_HZ",
    "MALE_BIAS",
    "MEN_ONLY_BELOW_HZ",
    "NEUTRAL_PITCH_HZ",
    "WOMEN_ONLY_ABOVE_HZ",
    "at_neutral_pitch",
    "gender_margin",
    "neutral_pitch_embedding",
    "pitch_gender",
    "voice_gender",
]

MALE_BELOW_HZ = 165.0
MEN_ONLY_BELOW_HZ = 120.0
WOMEN_ONLY_ABOVE_HZ = 255.0
NEUTRAL_PITCH_HZ = 150.0
# Male when (closest male - closest female) exceeds MALE_BIAS by CLEAR_MARGIN; female when it
# falls short by as much; the pitch decides in between.
MALE_BIAS = -0.11
CLEAR_MARGIN = 0.02


def pitch_gender(pitch_hz: float) -> str:
    """The tie-break: male below 165 Hz of median pitch."""
    return "male" if pitch_hz < MALE_BELOW_HZ else "female"


def at_neutral_pitch(samples: Samples, rate: int = ANALYSIS_RATE) -> Samples:
    """The speech with its median pitch moved to ``NEUTRAL_PITCH_HZ`` (unchanged when no
    pitch is found)."""
    pitch = median_pitch_hz(samples, rate)
    return samples if pitch <= 0 else pitch_scaled(samples, rate, NEUTRAL_PITCH_HZ / pitch)


def neutral_pitch_embedding(samples: Samples) -> Any:
    """The speaker embedding of 16 kHz speech moved to the neutral pitch: what gender is
    told from, for a sample and for a reference alike."""
    return speaker_embedding(normalise_loudness(at_neutral_pitch(samples)))


def gender_margin(embedding: Any, references: Sequence[tuple[str | None, Any]]) -> float | None:
    """How much closer the closest male reference is than the closest female one (None
    without references of both genders)."""
    closest: dict[str, float] = {}
    for gender, reference in references:
        if gender in ("male", "female"):
            closest[gender] = max(closest.get(gender, -1.0), cosine(embedding, reference))
    return closest["male"] - closest["female"] if len(closest) == 2 else None


def voice_gender(
    neutral_embedding: Any, pitch_hz: float, references: Sequence[tuple[str | None, Any]]
) -> str:
    """ "male" or "female" from an embedding at the neutral pitch against references at the
    same pitch (``neutral_pitch_embedding``): the closer gender, biased by ``MALE_BIAS``,
    when clearly so; else, or without references of both genders, by the pitch. A pitch only
    one gender speaks at decides alone."""
    if 0 < pitch_hz < MEN_ONLY_BELOW_HZ or pitch_hz > WOMEN_ONLY_ABOVE_HZ:
        return pitch_gender(pitch_hz)
    margin = gender_margin(neutral_embedding, references)
    if margin is not None and abs(margin - MALE_BIAS) >= CLEAR_MARGIN:
        return "male" if margin > MALE_BIAS else "female"
    return pitch_gender(pitch_hz)
