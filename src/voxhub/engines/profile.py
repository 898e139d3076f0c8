"""Voice profiles: what the speech pipeline needs to speak in a voice.

A profile names a base voice of any engine and, for a cloned voice, a transformation of that
voice's audio toward the reference speaker (registered by name, with its parameters stored by
the cloning workflow). A transformation must keep timing (same number of samples), so word
timestamps stay true. Public voices have no transformation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from voxhub.engines.base import Samples

__all__ = ["Transform", "VoiceProfile", "apply_transform", "register_transform"]

Transform = Callable[[Samples, int, Mapping[str, Any]], Samples]
_TRANSFORMS: dict[str, Transform] = {}


@dataclass(frozen=True, slots=True)
class VoiceProfile:
    engine: str
    voice_key: str
    transform: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)


def register_transform(name: str, transform: Transform) -> None:
    _TRANSFORMS[name] = transform


def apply_transform(profile: VoiceProfile, samples: Samples, sample_rate: int) -> Samples:
    if profile.transform is None:
        return samples
    try:
        transform = _TRANSFORMS[profile.transform]
    except KeyError:
        raise ValueError(f"no voice transformation named {profile.transform!r}") from None
    converted = transform(samples, sample_rate, profile.parameters)
    if len(converted) != len(samples):
        raise ValueError(f"transformation {profile.transform!r} changed the audio's length")
    return converted
