"""The store interface: every durable record goes through one of these methods.

Implementations: ``SQLiteStore`` (embedded default), ``PostgresStore`` (scale-out) and
``MemoryStore`` (an in-memory twin for unit tests).
"""

from __future__ import annotations

import abc
import dataclasses
import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from voxhub.domain import (
    Account,
    ApiKey,
    Asset,
    AssetBatch,
    IdempotentResponse,
    Job,
    Outbox,
    Voice,
    VoiceQuery,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

__all__ = [
    "Store",
    "api_key_from_row",
    "api_key_params",
    "asset_from_row",
    "batch_from_row",
    "endpoints_params",
    "events_params",
    "idempotency_params",
    "is_reclaimable",
    "job_from_row",
    "kinds_param",
    "list_assets_params",
    "list_params",
    "settle_asset_params",
    "subscribed",
    "voice_from_row",
    "voice_params",
]


class Store(abc.ABC):
    """Async access to accounts, API keys and voices."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Acquire connections; called once before use."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise if the database does not answer."""

    @abc.abstractmethod
    async def get_or_create_account(self, account: Account) -> Account:
        """Insert ``account`` unless one of that name exists; return the stored one."""

    @abc.abstractmethod
    async def insert_api_key(self, key: ApiKey) -> None: ...

    @abc.abstractmethod
    async def get_api_key(self, key_id: str) -> ApiKey | None: ...

    @abc.abstractmethod
    async def revoke_api_key(self, key_id: str, revoked_at: int) -> bool:
        """Mark a key revoked; False if it is unknown or already revoked."""

    @abc.abstractmethod
    async def list_api_keys(self, account_id: str | None = None) -> list[ApiKey]: ...

    @abc.abstractmethod
    async def count_active_api_keys(self) -> int: ...

    @abc.abstractmethod
    async def sync_public_voices(self, voices: Iterable[Voice], synced_at: int) -> None:
        """Make the public catalog exactly ``voices`` (upsert them, drop the rest) atomically."""

    @abc.abstractmethod
    async def all_public_voices(self) -> list[Voice]: ...

    @abc.abstractmethod
    async def insert_voice(self, voice: Voice, updated_at: int) -> None: ...

    @abc.abstractmethod
    async def get_private_voice(self, voice_id: str, account_id: str) -> Voice | None: ...

    @abc.abstractmethod
    async def list_voices(self, query: VoiceQuery) -> list[Voice]:
        """Up to ``query.limit`` voices ordered by (name, voice_id), after the cursor."""

    @abc.abstractmethod
    async def insert_asset(self, asset: Asset) -> None: ...

    @abc.abstractmethod
    async def get_asset(self, asset_id: str, account_id: str) -> Asset | None:
        """The account's asset; None for an unknown id and another account's asset alike."""

    @abc.abstractmethod
    async def delete_asset(self, asset_id: str, account_id: str) -> Asset | None:
        """Remove the account's asset; return what was removed (None: nothing was)."""

    @abc.abstractmethod
    async def list_assets(
        self, account_id: str, limit: int, after: tuple[int, str] | None
    ) -> list[Asset]:
        """Up to ``limit`` completed assets, newest first, after ``(created_at, asset_id)``."""

    @abc.abstractmethod
    async def settle_asset(self, asset: Asset) -> None:
        """Record a direct upload's outcome: status, what its bytes are, or why refused."""

    @abc.abstractmethod
    async def insert_asset_batch(self, batch: AssetBatch, assets: Sequence[Asset]) -> None:
        """A batch and its pending assets, together or not at all."""

    @abc.abstractmethod
    async def get_asset_batch(self, batch_id: str, account_id: str) -> AssetBatch | None: ...

    @abc.abstractmethod
    async def batch_assets(self, batch_id: str, account_id: str) -> list[Asset]:
        """A batch's assets by item index."""

    @abc.abstractmethod
    async def expired_uploads(self, cutoff: int, limit: int) -> list[Asset]:
        """Direct uploads never completed whose URL expired before ``cutoff``."""

    @abc.abstractmethod
    async def claim_idempotency(
        self, claim: IdempotentResponse, running_since: int, done_since: int
    ) -> IdempotentResponse | None:
        """Take the key for a new request (None), or return what holds it. A holder is
        forgotten first when it is a request still running from before ``running_since`` (its
        process died) or an answer from before ``done_since`` (expired)."""

    @abc.abstractmethod
    async def complete_idempotency(self, answer: IdempotentResponse) -> None: ...

    @abc.abstractmethod
    async def release_idempotency(self, claim: IdempotentResponse) -> None:
        """Forget a claim whose request failed, so that a retry runs again."""

    @abc.abstractmethod
    async def insert_voice_with_job(self, voice: Voice, job: Job, updated_at: int) -> None:
        """A new clone and the job that processes it, in one transaction."""

    @abc.abstractmethod
    async def insert_job(self, job: Job) -> bool:
        """Record a job unless one with its id exists (False then: ids made from what a job
        does make it run once, whoever asks for it and however often)."""

    @abc.abstractmethod
    async def lease_job(
        self,
        owner: str,
        now: int,
        lease_until: int,
        min_priority: int = 0,
        kinds: Collection[str] | None = None,
    ) -> Job | None:
        """Take the most urgent job (highest priority, then oldest) of at least
        ``min_priority`` and of one of ``kinds`` (None: any) that is queued or whose lease ran
        out before ``now``."""

    @abc.abstractmethod
    async def extend_job_lease(self, job_id: str, owner: str, lease_until: int) -> bool:
        """False when ``owner`` no longer holds the job (its lease ran out and it was taken)."""

    @abc.abstractmethod
    async def end_job(self, job_id: str, owner: str, state: str, error: str | None) -> bool:
        """End the job (``done`` or ``failed``) while ``owner`` still holds it; False (and
        nothing written) otherwise."""

    @abc.abstractmethod
    async def jobs_to_dispatch(self, before: int) -> list[Job]:
        """Queued jobs recorded before ``before`` (for a task engine: not handed to it yet)."""

    @abc.abstractmethod
    async def mark_job_dispatched(self, job_id: str) -> bool:
        """The job was handed to the task engine; False when it was not queued."""

    @abc.abstractmethod
    async def record_job_outcome(
        self, job_id: str, state: str, error: str | None, attempts: int
    ) -> None:
        """How a job the task engine ran ended (the store keeps the history)."""

    @abc.abstractmethod
    async def settle_voice(
        self, voice: Voice, updated_at: int, outbox: Outbox | None = None
    ) -> list[Job] | None:
        """Write a clone's outcome while it is still ``processing`` and, in the same
        transaction, what it sets off (``outbox``: its event, a delivery and a job for each
        of the account's enabled endpoints the outbox picks). The jobs written, to dispatch;
        None (and nothing written) when the clone is not processing any more (already settled
        by another worker, or deleted)."""

    # --- webhooks ----------------------------------------------------------------------

    @abc.abstractmethod
    async def insert_webhook_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    @abc.abstractmethod
    async def get_webhook_endpoint(
        self, endpoint_id: str, account_id: str | None
    ) -> WebhookEndpoint | None:
        """The account's endpoint (None: whoever's it is — for workers)."""

    @abc.abstractmethod
    async def list_webhook_endpoints(
        self, account_id: str, after: tuple[int, str] | None, limit: int
    ) -> list[WebhookEndpoint]:
        """Oldest first, after the (created_at, endpoint_id) cursor."""

    @abc.abstractmethod
    async def update_webhook_endpoint(self, endpoint: WebhookEndpoint) -> bool: ...

    @abc.abstractmethod
    async def delete_webhook_endpoint(self, endpoint_id: str, account_id: str) -> bool: ...

    @abc.abstractmethod
    async def note_webhook_attempt(
        self, endpoint_id: str, ok: bool, disable_after: int, updated_at: int
    ) -> None:
        """Count failed attempts in a row (a success resets them); disable the endpoint at
        ``disable_after``."""

    @abc.abstractmethod
    async def get_webhook_event(self, event_id: str) -> WebhookEvent | None: ...

    @abc.abstractmethod
    async def list_webhook_events(
        self,
        account_id: str,
        event_type: str | None,
        entity_id: str | None,
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[WebhookEvent]:
        """Newest first, before the (created_at, event_id) cursor."""

    @abc.abstractmethod
    async def get_webhook_delivery(self, delivery_id: str) -> WebhookDelivery | None: ...

    @abc.abstractmethod
    async def deliveries_of_webhook_event(self, event_id: str) -> list[WebhookDelivery]: ...

    @abc.abstractmethod
    async def record_webhook_delivery(self, delivery: WebhookDelivery) -> None: ...

    @abc.abstractmethod
    async def get_job(self, job_id: str) -> Job | None: ...

    @abc.abstractmethod
    async def count_jobs(self) -> list[tuple[str, str, int]]:
        """How many jobs of each kind are in each state: (kind, state, count)."""

    @abc.abstractmethod
    async def count_unfinished_jobs(self, kind: str) -> int:
        """How many jobs of ``kind`` are waiting or running."""

    @abc.abstractmethod
    async def count_private_voices(self, account_id: str) -> int: ...

    @abc.abstractmethod
    async def delete_private_voice(self, voice_id: str, account_id: str) -> Voice | None:
        """Remove the account's clone and its jobs in one transaction; return what was removed."""

    @abc.abstractmethod
    async def set_voice_traits(self, voice_id: str, traits: str, measured_at: int) -> None:
        """Record what was measured about a voice's audio (JSON), replacing what was."""

    @abc.abstractmethod
    async def voice_traits(self, account_id: str | None) -> dict[str, str]:
        """The measured traits (JSON) by voice id: of the public voices when ``account_id``
        is None, else of that account's voices only."""


def kinds_param(kinds: Collection[str] | None) -> str:
    """Job kinds as the ready_jobs query takes them: comma-separated, empty for any."""
    return ",".join(sorted(kinds)) if kinds else ""


def job_from_row(row: Sequence[Any]) -> Job:
    return Job(*row)


def is_reclaimable(held: IdempotentResponse, running_since: int, done_since: int) -> bool:
    cutoff = running_since if held.status is None else done_since
    return held.created_at < cutoff


def idempotency_params(record: IdempotentResponse) -> dict[str, Any]:
    return dataclasses.asdict(record)


def asset_from_row(row: Sequence[Any]) -> Asset:
    return Asset(*row)


def batch_from_row(row: Sequence[Any]) -> AssetBatch:
    return AssetBatch(*row)


def list_assets_params(
    account_id: str, limit: int, after: tuple[int, str] | None
) -> dict[str, Any]:
    created, asset_id = after if after is not None else (None, None)
    return {
        "account_id": account_id,
        "limit": limit,
        "after_created": created,
        "after_id": asset_id,
    }


def settle_asset_params(asset: Asset) -> dict[str, Any]:
    keys = ("asset_id", "account_id", "status", "media_type", "kind", "size_bytes")
    params = {key: getattr(asset, key) for key in keys}
    params.update(storage_key=asset.storage_key, failure_message=asset.failure_message)
    return params


def voice_params(voice: Voice, updated_at: int) -> dict[str, Any]:
    return {
        "voice_id": voice.voice_id,
        "account_id": voice.account_id,
        "engine": voice.engine,
        "engine_voice": voice.engine_voice,
        "name": voice.name,
        "language": voice.language,
        "gender": voice.gender,
        "locale": voice.locale,
        "support_pause": voice.support_pause,
        "support_locale": voice.support_locale,
        "support_interactive_avatar": voice.support_interactive_avatar,
        "preview_key": voice.preview_key,
        "profile": voice.profile,
        "status": voice.status,
        "failure_message": voice.failure_message,
        "created_at": voice.created_at,
        "updated_at": updated_at,
    }


def voice_from_row(row: Sequence[Any]) -> Voice:
    """A voice from a row in the column order of the voice queries in queries.sql."""
    (voice_id, account_id, engine, engine_voice, name, language, gender, locale,
     support_pause, support_locale, support_interactive_avatar, preview_key,
     status, failure_message, created_at, profile) = row  # fmt: skip
    return Voice(
        voice_id=voice_id,
        account_id=account_id,
        engine=engine,
        engine_voice=engine_voice,
        name=name,
        language=language,
        gender=gender,
        locale=locale,
        support_pause=bool(support_pause),
        support_locale=bool(support_locale),
        support_interactive_avatar=bool(support_interactive_avatar),
        preview_key=preview_key,
        status=status,
        failure_message=failure_message,
        created_at=created_at,
        profile=profile,
    )


def api_key_from_row(row: Sequence[Any]) -> ApiKey:
    key_id, account_id, secret_hash, name, rate_limit, read_only, created_at, revoked_at = row
    return ApiKey(
        key_id=key_id,
        account_id=account_id,
        secret_hash=secret_hash,
        name=name,
        rate_limit=rate_limit,
        read_only=bool(read_only),
        created_at=created_at,
        revoked_at=revoked_at,
    )


def api_key_params(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "account_id": key.account_id,
        "secret_hash": key.secret_hash,
        "name": key.name,
        "rate_limit": key.rate_limit,
        "read_only": key.read_only,
        "created_at": key.created_at,
    }


def list_params(query: VoiceQuery) -> dict[str, Any]:
    return {
        "account_id": query.account_id,
        "engine": query.engine,
        "language": query.language,
        "gender": query.gender,
        "after_name": query.after_name,
        "after_id": query.after_id,
        "limit": query.limit,
    }


def endpoints_params(account_id: str, after: tuple[int, str] | None, limit: int) -> dict[str, Any]:
    created, endpoint_id = after if after is not None else (0, None)
    return {
        "account_id": account_id,
        "after_created": created,
        "after_id": endpoint_id,
        "limit": limit,
    }


def events_params(
    account_id: str,
    event_type: str | None,
    entity_id: str | None,
    before: tuple[int, str] | None,
    limit: int,
) -> dict[str, Any]:
    created, event_id = before if before is not None else (0, None)
    return {
        "account_id": account_id,
        "event_type": event_type,
        "entity_id": entity_id,
        "before_created": created,
        "before_id": event_id,
        "limit": limit,
    }


def subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    """Whether the endpoint takes events of this type (no list: every type)."""
    return endpoint.events is None or event_type in json.loads(endpoint.events)
