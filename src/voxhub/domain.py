"""Records shared by the services and the backends beneath them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BACKGROUND_PRIORITY",
    "USER_PRIORITY",
    "Account",
    "ApiKey",
    "Asset",
    "AssetBatch",
    "AssetPage",
    "CloneStatus",
    "IdempotentResponse",
    "Job",
    "Outbox",
    "Principal",
    "Voice",
    "VoicePage",
    "VoiceQuery",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]

CloneStatus = Literal["processing", "complete", "failed"]


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    name: str
    created_at: int


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    account_id: str
    secret_hash: str
    name: str | None
    rate_limit: str | None
    read_only: bool
    created_at: int
    revoked_at: int | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for, once its key is verified."""

    account_id: str
    key_id: str
    rate_limit: str
    read_only: bool


@dataclass(frozen=True, slots=True)
class Voice:
    voice_id: str
    account_id: str | None  # None: a public voice of the catalog
    engine: str
    engine_voice: str  # the engine's own name for the (base) voice
    name: str
    language: str
    gender: str | None
    locale: str | None
    support_pause: bool
    support_locale: bool
    support_interactive_avatar: bool = False
    preview_key: str | None = None
    status: CloneStatus | None = None
    failure_message: str | None = None
    created_at: int | None = None
    # A clone's voice profile (JSON): its transform and the transform's parameters.
    profile: str | None = None

    @property
    def is_public(self) -> bool:
        return self.account_id is None


@dataclass(frozen=True, slots=True)
class VoiceQuery:
    """One page of a voice listing: public voices when account_id is None."""

    account_id: str | None
    engine: str | None = None
    language: str | None = None
    gender: str | None = None
    after_name: str | None = None
    after_id: str | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True)
class VoicePage:
    voices: list[Voice]
    next_token: str | None

    @property
    def has_more(self) -> bool:
        return self.next_token is not None


@dataclass(frozen=True, slots=True)
class Asset:
    """A file an account stored: audio, or a video whose sound is used.

    Uploaded through the API it is ``completed`` at once. A direct upload starts
    ``pending_upload`` (``storage_key`` names where its bytes will land, ``size_bytes`` and
    ``media_type`` are what the client declared) until it is completed, or ``failed`` (a batch
    item whose bytes were refused, with ``failure_message``) until completed again.
    """

    asset_id: str
    account_id: str
    name: str  # the uploaded file's name, cleaned, for display only
    media_type: str  # sniffed from the bytes, e.g. "audio/mpeg" (declared, while pending)
    kind: str  # "audio" | "video"
    size_bytes: int
    storage_key: str
    created_at: int
    status: str = "completed"  # | "pending_upload" | "failed"
    checksum_sha256: str | None = None  # hex, as declared for a direct upload
    upload_expires_at: int | None = None  # a direct upload's URL stops working then
    batch_id: str | None = None
    item_index: int | None = None
    failure_message: str | None = None


@dataclass(frozen=True, slots=True)
class AssetPage:
    assets: list[Asset]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class AssetBatch:
    """Direct uploads asked for together and completed together."""

    batch_id: str
    account_id: str
    title: str | None
    total_items: int
    created_at: int


@dataclass(frozen=True, slots=True)
class IdempotentResponse:
    """What a request with an Idempotency-Key answered (status None: still running)."""

    account_id: str
    endpoint: str
    idempotency_key: str
    created_at: int
    status: int | None = None
    body: str | None = None


# Work a person waits for (a clone) runs before background work (previews, measurements).
USER_PRIORITY = 10
BACKGROUND_PRIORITY = 0


@dataclass(frozen=True, slots=True)
class Job:
    """Durable work of some ``kind`` about a ``subject`` (a voice id for a clone; None for
    work about nothing in particular). Times are unix milliseconds.

    Every job is recorded in the store, in the same transaction as the record it belongs to;
    the queue then runs it. A worker leases a job (``running``, ``lease_owner``,
    ``lease_until``) and keeps extending the lease while it works; a job whose lease ran out
    (its worker died) is leased again, and ``attempts`` counts every lease. A higher
    ``priority`` runs first (``USER_PRIORITY`` before ``BACKGROUND_PRIORITY``).
    """

    job_id: str
    kind: str
    subject_id: str | None
    account_id: str | None
    payload: str  # JSON
    created_at: int
    priority: int = 0
    state: str = "queued"  # queued | dispatched | running | done | failed
    attempts: int = 0
    lease_owner: str | None = None
    lease_until: int | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """Where an account's events are POSTed. Secrets are sealed (never stored in the clear);
    after a rotation the previous secret signs too, until ``previous_secret_until`` (ms)."""

    endpoint_id: str
    account_id: str
    url: str
    events: str | None  # JSON list of event types; None: every event
    status: str  # enabled | disabled
    secret: str
    previous_secret: str | None
    previous_secret_until: int | None
    failures: int  # delivery attempts failed in a row
    created_at: int  # unix seconds
    updated_at: int  # unix seconds


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """Something that happened to an account's entity; ``payload`` is the body POSTed."""

    event_id: str
    account_id: str
    event_type: str
    entity_id: str | None
    payload: str  # JSON: {"event_type", "event_data"}
    created_at: int  # unix seconds


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event to one endpoint: a job of its own, retried until delivered or given up."""

    delivery_id: str
    event_id: str
    endpoint_id: str
    account_id: str
    state: str = "pending"  # pending | delivered | failed
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    response_prefix: str | None = None
    created_at: int = 0  # unix seconds
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class Outbox:
    """What a clone's outcome sets off, written in the outcome's transaction: an event and,
    for each of the account's enabled endpoints that ``deliveries`` picks, a delivery and
    the job that makes it."""

    event: WebhookEvent
    deliveries: Callable[[list[WebhookEndpoint]], list[tuple[WebhookDelivery, Job]]]
