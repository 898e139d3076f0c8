"""The voxhub Python SDK: ``Client`` (blocking) and ``AsyncClient``, on httpx2.

Quick start::

    from voxhub.client import Client, CloneFailed

    with Client() as voxhub:                     # VOXHUB_URL, VOXHUB_API_KEY (or arguments)
        joe = next(voxhub.voices.list(language="English", engine="piper"))
        voxhub.speech.to_file("hello.mp3", "Hello there.", joe.voice_id)
        clone = voxhub.clones.create("My voice", "sample.wav")
        try:
            voice = voxhub.clones.wait(clone.voice_id)
        except CloneFailed as failed:
            print(failed.failure_message)

The calls are grouped as the API is: ``voices`` (get, list with automatic paging, design,
delete), ``clones`` (create from a path, bytes, URL or asset id; ``wait``), ``speech`` (create,
to bytes, to a file, streamed), ``assets`` (upload, get, list, delete) and ``webhooks`` (endpoints,
event types, events; ``verify`` checks a delivery's signature). 429 and 503 answers are retried
as ``RetryPolicy`` says, honouring ``Retry-After``; creates carry an ``Idempotency-Key``. Errors
form one tree under ``VoxhubError`` (drawn in ``voxhub.client.errors``). For tests without a
server, ``voxhub.client.testing.MockVoxhub``.

This package imports nothing of the server but the standard-library ``voxhub.webhooks``.
"""

from __future__ import annotations

from voxhub.client._async import AsyncAudioStream, AsyncClient
from voxhub.client._base import RetryPolicy, WaitPolicy
from voxhub.client._sync import AudioStream, Client
from voxhub.client.errors import (
    APIError,
    AuthenticationFailed,
    BadRequest,
    CloneFailed,
    CloneTimeout,
    ConfigurationError,
    Conflict,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TransportError,
    VoxhubError,
)
from voxhub.client.models import (
    Asset,
    CloneCreated,
    DesignedVoices,
    EventType,
    Speech,
    UploadedAsset,
    Voice,
    VoiceSummary,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecret,
    WordTimestamp,
)
from voxhub.webhooks import WebhookVerificationError, verify

__all__ = [
    "APIError",
    "Asset",
    "AsyncAudioStream",
    "AsyncClient",
    "AudioStream",
    "AuthenticationFailed",
    "BadRequest",
    "Client",
    "CloneCreated",
    "CloneFailed",
    "CloneTimeout",
    "ConfigurationError",
    "Conflict",
    "DesignedVoices",
    "EventType",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "Speech",
    "TransportError",
    "UploadedAsset",
    "Voice",
    "VoiceSummary",
    "VoxhubError",
    "WaitPolicy",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookSecret",
    "WebhookVerificationError",
    "WordTimestamp",
    "verify",
]
