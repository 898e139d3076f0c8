"""An in-memory twin of the store for unit tests: same interface, same ordering rules."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Collection, Iterable, Sequence

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
from voxhub.store.base import Store, is_reclaimable

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.voices: dict[str, Voice] = {}
        self.traits: dict[str, str] = {}
        self.assets: dict[str, Asset] = {}
        self.asset_batches: dict[str, AssetBatch] = {}
        self.idempotency: dict[tuple[str, str, str], IdempotentResponse] = {}
        self.jobs: dict[str, Job] = {}
        self.webhook_endpoints: dict[str, WebhookEndpoint] = {}
        self.webhook_events: dict[str, WebhookEvent] = {}
        self.webhook_deliveries: dict[str, WebhookDelivery] = {}

    async def ping(self) -> None:
        return None

    async def get_or_create_account(self, account: Account) -> Account:
        for existing in self.accounts.values():
            if existing.name == account.name:
                return existing
        self.accounts[account.account_id] = account
        return account

    async def insert_api_key(self, key: ApiKey) -> None:
        if key.key_id in self.api_keys:
            raise ValueError(f"duplicate key id {key.key_id}")
        self.api_keys[key.key_id] = key

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        return self.api_keys.get(key_id)

    async def revoke_api_key(self, key_id: str, revoked_at: int) -> bool:
        key = self.api_keys.get(key_id)
        if key is None or key.revoked_at is not None:
            return False
        self.api_keys[key_id] = dataclasses.replace(key, revoked_at=revoked_at)
        return True

    async def list_api_keys(self, account_id: str | None = None) -> list[ApiKey]:
        keys = [k for k in self.api_keys.values() if account_id in (None, k.account_id)]
        return sorted(keys, key=lambda k: (k.created_at, k.key_id))

    async def count_active_api_keys(self) -> int:
        return sum(1 for k in self.api_keys.values() if k.revoked_at is None)

    async def sync_public_voices(self, voices: Iterable[Voice], synced_at: int) -> None:
        private = {k: v for k, v in self.voices.items() if not v.is_public}
        self.voices = private | {v.voice_id: v for v in voices}

    async def all_public_voices(self) -> list[Voice]:
        return _ordered(v for v in self.voices.values() if v.is_public)

    async def insert_voice(self, voice: Voice, updated_at: int) -> None:
        if voice.voice_id in self.voices:
            raise ValueError(f"duplicate voice id {voice.voice_id}")
        self.voices[voice.voice_id] = voice

    async def get_private_voice(self, voice_id: str, account_id: str) -> Voice | None:
        voice = self.voices.get(voice_id)
        return voice if voice is not None and voice.account_id == account_id else None

    async def list_voices(self, query: VoiceQuery) -> list[Voice]:
        matching = (v for v in self.voices.values() if _matches(v, query))
        return _ordered(matching)[: query.limit]

    async def insert_asset(self, asset: Asset) -> None:
        if asset.asset_id in self.assets:
            raise ValueError(f"duplicate asset id {asset.asset_id}")
        self.assets[asset.asset_id] = asset

    async def get_asset(self, asset_id: str, account_id: str) -> Asset | None:
        asset = self.assets.get(asset_id)
        return asset if asset is not None and asset.account_id == account_id else None

    async def delete_asset(self, asset_id: str, account_id: str) -> Asset | None:
        asset = await self.get_asset(asset_id, account_id)
        if asset is not None:
            del self.assets[asset_id]
        return asset

    async def list_assets(
        self, account_id: str, limit: int, after: tuple[int, str] | None
    ) -> list[Asset]:
        mine = [
            a
            for a in self.assets.values()
            if a.account_id == account_id
            and a.status == "completed"
            and (after is None or (a.created_at, a.asset_id) < after)
        ]
        return sorted(mine, key=lambda a: (a.created_at, a.asset_id), reverse=True)[:limit]

    async def settle_asset(self, asset: Asset) -> None:
        stored = self.assets.get(asset.asset_id)
        if stored is not None:
            expires = None if asset.status == "completed" else stored.upload_expires_at
            self.assets[asset.asset_id] = dataclasses.replace(asset, upload_expires_at=expires)

    async def insert_asset_batch(self, batch: AssetBatch, assets: Sequence[Asset]) -> None:
        self.asset_batches[batch.batch_id] = batch
        for asset in assets:
            await self.insert_asset(asset)

    async def get_asset_batch(self, batch_id: str, account_id: str) -> AssetBatch | None:
        batch = self.asset_batches.get(batch_id)
        return batch if batch is not None and batch.account_id == account_id else None

    async def batch_assets(self, batch_id: str, account_id: str) -> list[Asset]:
        items = [
            a for a in self.assets.values() if a.batch_id == batch_id and a.account_id == account_id
        ]
        return sorted(items, key=lambda a: a.item_index or 0)

    async def expired_uploads(self, cutoff: int, limit: int) -> list[Asset]:
        expired = [
            a
            for a in self.assets.values()
            if a.status != "completed"
            and a.upload_expires_at is not None
            and a.upload_expires_at < cutoff
        ]
        return sorted(expired, key=lambda a: a.upload_expires_at or 0)[:limit]

    async def claim_idempotency(
        self, claim: IdempotentResponse, running_since: int, done_since: int
    ) -> IdempotentResponse | None:
        key = (claim.account_id, claim.endpoint, claim.idempotency_key)
        held = self.idempotency.get(key)
        if held is not None and not is_reclaimable(held, running_since, done_since):
            return held
        self.idempotency[key] = claim
        return None

    async def complete_idempotency(self, answer: IdempotentResponse) -> None:
        self.idempotency[(answer.account_id, answer.endpoint, answer.idempotency_key)] = answer

    async def release_idempotency(self, claim: IdempotentResponse) -> None:
        self.idempotency.pop((claim.account_id, claim.endpoint, claim.idempotency_key), None)

    async def insert_voice_with_job(self, voice: Voice, job: Job, updated_at: int) -> None:
        await self.insert_voice(voice, updated_at)
        self.jobs[job.job_id] = job

    async def insert_job(self, job: Job) -> bool:
        if job.job_id in self.jobs:
            return False
        self.jobs[job.job_id] = job
        return True

    async def lease_job(
        self,
        owner: str,
        now: int,
        lease_until: int,
        min_priority: int = 0,
        kinds: Collection[str] | None = None,
    ) -> Job | None:
        ready = [
            j for j in self.jobs.values()
            if (j.state == "queued" or (j.state == "running" and (j.lease_until or 0) < now))
            and j.priority >= min_priority and (not kinds or j.kind in kinds)
        ]  # fmt: skip
        if not ready:
            return None
        job = min(ready, key=lambda j: (-j.priority, j.created_at, j.job_id))
        leased = dataclasses.replace(
            job, state="running", attempts=job.attempts + 1, lease_owner=owner,
            lease_until=lease_until,
        )  # fmt: skip
        self.jobs[job.job_id] = leased
        return leased

    def _held(self, job_id: str, owner: str) -> Job | None:
        job = self.jobs.get(job_id)
        return job if job and job.state == "running" and job.lease_owner == owner else None

    async def extend_job_lease(self, job_id: str, owner: str, lease_until: int) -> bool:
        job = self._held(job_id, owner)
        if job is not None:
            self.jobs[job_id] = dataclasses.replace(job, lease_until=lease_until)
        return job is not None

    async def end_job(self, job_id: str, owner: str, state: str, error: str | None) -> bool:
        job = self._held(job_id, owner)
        if job is None:
            return False
        self.jobs[job_id] = dataclasses.replace(
            job, state=state, last_error=error, lease_owner=None, lease_until=None
        )
        return True

    async def jobs_to_dispatch(self, before: int) -> list[Job]:
        queued = [j for j in self.jobs.values() if j.state == "queued" and j.created_at < before]
        return sorted(queued, key=lambda j: (-j.priority, j.created_at, j.job_id))[:100]

    async def mark_job_dispatched(self, job_id: str) -> bool:
        job = self.jobs.get(job_id)
        if job is None or job.state != "queued":
            return False
        self.jobs[job_id] = dataclasses.replace(job, state="dispatched")
        return True

    async def record_job_outcome(
        self, job_id: str, state: str, error: str | None, attempts: int
    ) -> None:
        job = self.jobs.get(job_id)
        if job is not None:
            self.jobs[job_id] = dataclasses.replace(
                job, state=state, last_error=error, attempts=attempts
            )

    async def settle_voice(
        self, voice: Voice, updated_at: int, outbox: Outbox | None = None
    ) -> list[Job] | None:
        stored = self.voices.get(voice.voice_id)
        if stored is None or stored.status != "processing":
            return None
        self.voices[voice.voice_id] = voice
        if outbox is None:
            return []
        self.webhook_events[outbox.event.event_id] = outbox.event
        enabled = [
            e for e in self.webhook_endpoints.values()
            if e.account_id == outbox.event.account_id and e.status == "enabled"
        ]  # fmt: skip
        jobs = []
        for delivery, job in outbox.deliveries(enabled):
            self.webhook_deliveries[delivery.delivery_id] = delivery
            self.jobs[job.job_id] = job
            jobs.append(job)
        return jobs

    # --- webhooks ----------------------------------------------------------------------

    async def insert_webhook_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.webhook_endpoints[endpoint.endpoint_id] = endpoint

    async def get_webhook_endpoint(
        self, endpoint_id: str, account_id: str | None
    ) -> WebhookEndpoint | None:
        found = self.webhook_endpoints.get(endpoint_id)
        if found is None or account_id not in (None, found.account_id):
            return None
        return found

    async def list_webhook_endpoints(
        self, account_id: str, after: tuple[int, str] | None, limit: int
    ) -> list[WebhookEndpoint]:
        mine = sorted(
            (e for e in self.webhook_endpoints.values() if e.account_id == account_id),
            key=lambda e: (e.created_at, e.endpoint_id),
        )
        return [e for e in mine if after is None or (e.created_at, e.endpoint_id) > after][:limit]

    async def update_webhook_endpoint(self, endpoint: WebhookEndpoint) -> bool:
        if await self.get_webhook_endpoint(endpoint.endpoint_id, endpoint.account_id) is None:
            return False
        self.webhook_endpoints[endpoint.endpoint_id] = endpoint
        return True

    async def delete_webhook_endpoint(self, endpoint_id: str, account_id: str) -> bool:
        if await self.get_webhook_endpoint(endpoint_id, account_id) is None:
            return False
        del self.webhook_endpoints[endpoint_id]
        return True

    async def note_webhook_attempt(
        self, endpoint_id: str, ok: bool, disable_after: int, updated_at: int
    ) -> None:
        found = self.webhook_endpoints.get(endpoint_id)
        if found is None:
            return
        failures = 0 if ok else found.failures + 1
        status = "disabled" if failures >= disable_after else found.status
        changed = dataclasses.replace(found, failures=failures, status=status)
        if not ok:
            changed = dataclasses.replace(changed, updated_at=updated_at)
        self.webhook_endpoints[endpoint_id] = changed

    async def get_webhook_event(self, event_id: str) -> WebhookEvent | None:
        return self.webhook_events.get(event_id)

    async def list_webhook_events(
        self,
        account_id: str,
        event_type: str | None,
        entity_id: str | None,
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[WebhookEvent]:
        found = sorted(
            (
                e for e in self.webhook_events.values()
                if e.account_id == account_id and event_type in (None, e.event_type)
                and entity_id in (None, e.entity_id)
                and (before is None or (e.created_at, e.event_id) < before)
            ),
            key=lambda e: (e.created_at, e.event_id),
            reverse=True,
        )  # fmt: skip
        return found[:limit]

    async def get_webhook_delivery(self, delivery_id: str) -> WebhookDelivery | None:
        return self.webhook_deliveries.get(delivery_id)

    async def deliveries_of_webhook_event(self, event_id: str) -> list[WebhookDelivery]:
        found = (d for d in self.webhook_deliveries.values() if d.event_id == event_id)
        return sorted(found, key=lambda d: (d.created_at, d.delivery_id))

    async def record_webhook_delivery(self, delivery: WebhookDelivery) -> None:
        if delivery.delivery_id in self.webhook_deliveries:
            self.webhook_deliveries[delivery.delivery_id] = delivery

    async def get_job(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    async def count_jobs(self) -> list[tuple[str, str, int]]:
        counts = Counter((job.kind, job.state) for job in self.jobs.values())
        return [(kind, state, count) for (kind, state), count in sorted(counts.items())]

    async def count_unfinished_jobs(self, kind: str) -> int:
        unfinished = ("queued", "running", "dispatched")
        return sum(1 for job in self.jobs.values() if job.kind == kind and job.state in unfinished)

    async def count_private_voices(self, account_id: str) -> int:
        return sum(1 for v in self.voices.values() if v.account_id == account_id)

    async def set_voice_traits(self, voice_id: str, traits: str, measured_at: int) -> None:
        if voice_id not in self.voices:
            raise ValueError(f"no voice {voice_id}")  # the tables' foreign key
        self.traits[voice_id] = traits

    async def voice_traits(self, account_id: str | None) -> dict[str, str]:
        return {
            voice_id: traits for voice_id, traits in self.traits.items()
            if voice_id in self.voices and self.voices[voice_id].account_id == account_id
        }  # fmt: skip

    async def delete_private_voice(self, voice_id: str, account_id: str) -> Voice | None:
        voice = await self.get_private_voice(voice_id, account_id)
        if voice is not None:
            del self.voices[voice_id]
            self.traits.pop(voice_id, None)
            self.jobs = {k: j for k, j in self.jobs.items() if j.subject_id != voice_id}
        return voice


def _ordered(voices: Iterable[Voice]) -> list[Voice]:
    return sorted(voices, key=lambda v: (v.name, v.voice_id))


def _matches(voice: Voice, query: VoiceQuery) -> bool:
    after = query.after_name is None or (voice.name, voice.voice_id) > (
        query.after_name,
        query.after_id or "",
    )
    return (
        voice.account_id == query.account_id
        and query.engine in (None, voice.engine)
        and query.language in (None, voice.language)
        and query.gender in (None, voice.gender)
        and after
    )
