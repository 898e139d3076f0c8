"""Voice profiles: what the speech pipeline needs to speak in a voice.

A profile names a base voice of any engine and, for a cloned voice, a transformation of that
voice's audio toward the reference speaker (registered by name, with its parameters stored by
the cloning workflow). A transformation must keep timing (same number of samples), so word
timestamps stay true. Public voices have no transformation.

A parameter too large for the voice's record (a blending clone's ~200 KB of speaker frames)
is kept as a file in storage beside the clone: ``parameters["stored"]`` maps the parameter's
name to its storage key, so Get Voice and List Voices, which read the record, never carry it;
the speech service reads the file and hands the transform its bytes under that name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from voxhub.domain import Voice
from voxhub.engines.base import Samples

__all__ = [
    "Transform",
    "VoiceProfile",
    "apply_transform",
    "profile_json",
    "profile_of",
    "register_transform",
    "stored_parameters",
    "with_stored",
]

Transform = Callable[[Samples, int, Mapping[str, Any]], Samples]
_TRANSFORMS: dict[str, Transform] = {}


@dataclass(frozen=True, slots=True)
class VoiceProfile:
    engine: str
    voice_key: str
    transform: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)


def profile_of(voice: Voice) -> VoiceProfile:
    """How the pipeline speaks in a voice: a public voice is its engine's voice as it is; a
    clone is its base voice with the transform its stored profile names."""
    if not voice.profile:
        return VoiceProfile(engine=voice.engine, voice_key=voice.engine_voice)
    stored = json.loads(voice.profile)
    return VoiceProfile(voice.engine, voice.engine_voice, stored["transform"], stored["parameters"])


def profile_json(profile: VoiceProfile, **facts: Any) -> str:
    """A clone's profile as stored with its voice: the transform and its parameters, and
    ``facts`` measured while cloning (kept for inspection; speech ignores them)."""
    return json.dumps({"transform": profile.transform, "parameters": dict(profile.parameters),
                       **facts})  # fmt: skip


def stored_parameters(profile: VoiceProfile) -> dict[str, str]:
    """The profile's parameters kept as files: name to storage key (none for most voices)."""
    return dict(profile.parameters.get("stored", {}))


def with_stored(profile: VoiceProfile, files: Mapping[str, bytes]) -> VoiceProfile:
    """The profile with its stored parameters' bytes in place, as its transform takes them."""
    parameters = {k: v for k, v in profile.parameters.items() if k != "stored"}
    return replace(profile, parameters={**parameters, **files})


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
