"""What the API answers, as small frozen dataclasses.

Fields are named as the API names them. Building one from an answer ignores fields it does not
know, so a newer server (or the hosted API, which has more) never breaks an older client.
``to_dict()`` gives the plain JSON-ready form back (the CLI's ``--json`` prints it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = [
    "Asset",
    "CloneCreated",
    "DesignedVoices",
    "EventType",
    "Speech",
    "UploadedAsset",
    "Voice",
    "VoiceStatus",
    "VoiceSummary",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookSecret",
    "WordTimestamp",
]

VoiceStatus = Literal["processing", "complete", "failed"]
_Model = TypeVar("_Model", bound="_Base")


@dataclass(frozen=True)
class _Base:
    @classmethod
    def from_data(cls: type[_Model], data: Mapping[str, Any]) -> _Model:
        """Build from an answer's ``data`` object, ignoring fields this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Voice(_Base):
    """Get Voice: one voice in full; ``status`` is set for clones only."""

    voice_id: str
    support_pause: bool = False
    name: str | None = None
    language: str | None = None
    gender: str | None = None
    preview_audio_url: str | None = None
    status: VoiceStatus | None = None
    failure_message: str | None = None
    support_interactive_avatar: bool = False
    created_at: int | None = None


@dataclass(frozen=True)
class VoiceSummary(_Base):
    """One voice of List Voices or Design a Voice."""

    voice_id: str
    name: str
    language: str
    gender: str
    support_pause: bool
    support_locale: bool
    type: Literal["public", "private"]
    preview_audio_url: str | None = None
    status: VoiceStatus | None = None


@dataclass(frozen=True)
class DesignedVoices(_Base):
    """Design a Voice: up to three voices, best first, and the seed that chose them."""

    voices: list[VoiceSummary]
    seed: int

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> DesignedVoices:
        voices = [VoiceSummary.from_data(item) for item in data.get("voices") or []]
        return cls(voices=voices, seed=int(data.get("seed", 0)))


@dataclass(frozen=True)
class CloneCreated(_Base):
    """Clone a Voice's answer: the new voice's id (its ``voice_id`` from now on)."""

    voice_clone_id: str

    @property
    def voice_id(self) -> str:
        return self.voice_clone_id


@dataclass(frozen=True)
class WordTimestamp(_Base):
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Speech(_Base):
    """Generate Speech: a link to the audio (signed, expiring), its length and word timings."""

    audio_url: str
    duration: float
    request_id: str | None = None
    word_timestamps: list[WordTimestamp] | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Speech:
        words = data.get("word_timestamps")
        return cls(
            audio_url=data["audio_url"],
            duration=float(data["duration"]),
            request_id=data.get("request_id"),
            word_timestamps=None if words is None else [WordTimestamp.from_data(w) for w in words],
        )


@dataclass(frozen=True)
class UploadedAsset(_Base):
    """Upload Asset's answer: use ``asset_id`` as a clone's sample."""

    asset_id: str
    url: str
    mime_type: str
    size_bytes: int


@dataclass(frozen=True)
class Asset(_Base):
    """Get Asset, and an item of List Assets."""

    id: str
    name: str
    type: str
    owner: str
    space_id: str
    uploaded_at: int
    url: str | None = None
    folder_id: str | None = None


@dataclass(frozen=True)
class WebhookEndpoint(_Base):
    """A registered endpoint; ``secret`` only in the answers to create and rotate."""

    endpoint_id: str
    url: str
    status: str
    created_at: str
    events: list[str] | None = None
    secret: str | None = None


@dataclass(frozen=True)
class WebhookSecret(_Base):
    """A rotated secret: sign-checks with it from now (the old one verifies for a grace period)."""

    endpoint_id: str
    secret: str


@dataclass(frozen=True)
class EventType(_Base):
    event_type: str
    description: str


@dataclass(frozen=True)
class WebhookDelivery(_Base):
    """voxhub's addition to an event: how its delivery to one endpoint went."""

    endpoint_id: str
    state: str
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class WebhookEvent(_Base):
    event_id: str
    event_type: str
    event_data: dict[str, Any]
    created_at: str
    deliveries: list[WebhookDelivery] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> WebhookEvent:
        return cls(
            event_id=data["event_id"],
            event_type=data["event_type"],
            event_data=dict(data.get("event_data") or {}),
            created_at=data["created_at"],
            deliveries=[WebhookDelivery.from_data(d) for d in data.get("deliveries") or []],
        )
