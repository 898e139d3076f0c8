"""A voice's gender, from the whole voice rather than its pitch alone.

Pitch alone mislabels people: a man addressing a crowd speaks well above the 165 Hz line, a
low-voiced woman below it. The speaker embedding (``audio/speaker.py``) carries the rest of the
voice — its resonances, its timbre — so the sample is compared with labelled references (the
clone language's base voices, whose gender is known): the gender of the closer reference wins
when it is clearly closer; only when the two are about as close does the pitch decide. The margin
was chosen on the calibration set (``bench/gender.py``; the README has the table).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from voxhub.audio.speaker import cosine

__all__ = ["CLEAR_MARGIN", "MALE_BELOW_HZ", "pitch_gender", "voice_gender"]

MALE_BELOW_HZ = 165.0
CLEAR_MARGIN = 0.03


def pitch_gender(pitch_hz: float) -> str:
    """The tie-break: male below 165 Hz of median pitch."""
    return "male" if pitch_hz < MALE_BELOW_HZ else "female"


def voice_gender(
    embedding: Any, pitch_hz: float, references: Sequence[tuple[str | None, Any]]
) -> str:
    """ "male" or "female": the gender of the closest labelled reference embedding when it is
    closer by at least ``CLEAR_MARGIN`` than the closest of the other gender, else by pitch."""
    closest: dict[str, float] = {}
    for gender, reference in references:
        if gender in ("male", "female"):
            closest[gender] = max(closest.get(gender, -1.0), cosine(embedding, reference))
    if len(closest) == 2:
        margin = closest["male"] - closest["female"]
        if abs(margin) >= CLEAR_MARGIN:
            return "male" if margin > 0 else "female"
    return pitch_gender(pitch_hz)
