"""The embedded store: one SQLite file in WAL mode.

Point reads (the Get Voice hot path) run inline on the caller's event loop: in WAL mode a
reader never waits for a writer, and a primary-key read costs microseconds, less than handing
it to a thread. Writes run in a worker thread on their own connection, one at a time, inside
``BEGIN IMMEDIATE`` transactions, so the event loop never waits on the write lock.

Private voices read by Get Voice are kept in a per-process cache. It is dropped at once when
this store writes, and whenever ``PRAGMA data_version`` shows that another connection (another
process) has committed. That check is made at most every ``FRESHNESS_SECONDS``, so a read is
at most that far behind another process's commit; measured, the check per request cost more
than the rest of a clone's Get Voice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

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
from voxhub.errors import ServiceUnavailable
from voxhub.store.base import (
    Store,
    api_key_from_row,
    api_key_params,
    asset_from_row,
    batch_from_row,
    endpoints_params,
    events_params,
    idempotency_params,
    is_reclaimable,
    job_from_row,
    kinds_param,
    list_assets_params,
    list_params,
    settle_asset_params,
    voice_from_row,
    voice_params,
)
from voxhub.store.queries import QUERIES

__all__ = ["SQLiteStore", "sqlite_path_from_url"]

T = TypeVar("T")
_BUSY_TIMEOUT_MS = 5000
_VOICE_CACHE_LIMIT = 10_000
FRESHNESS_SECONDS = 0.005


def sqlite_path_from_url(url: str) -> Path:
    """``sqlite:///relative.db`` or ``sqlite:////absolute.db`` to a path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"not a SQLite URL: {url!r}")
    return Path(url[len(prefix) :])


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class SQLiteStore(Store):
    def __init__(self, path: Path) -> None:
        self._path = path
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()
        self._voice_cache: dict[tuple[str, str], Voice | None] = {}
        self._data_version: int | None = None
        self._checked_at = float("-inf")

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._reader = _connect(self._path)
        self._writer = _connect(self._path)

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None

    # -- plumbing -------------------------------------------------------------------------

    def _read(self, name: str, params: dict[str, Any] | None = None) -> list[Any]:
        if self._reader is None:
            raise ServiceUnavailable("The store is not open.")
        try:
            return self._reader.execute(QUERIES[name], params or {}).fetchall()
        except sqlite3.OperationalError as exc:
            raise ServiceUnavailable() from exc

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await asyncio.to_thread(self._write_in_thread, work)
        finally:
            self._voice_cache.clear()  # this process sees its own writes at once

    def _write_in_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise ServiceUnavailable("The store is not open.")
        conn = self._writer
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return result
            except sqlite3.OperationalError as exc:
                raise ServiceUnavailable() from exc

    # -- queries --------------------------------------------------------------------------

    async def ping(self) -> None:
        self._read("ping")

    async def get_or_create_account(self, account: Account) -> Account:
        def work(conn: sqlite3.Connection) -> Account:
            conn.execute(
                QUERIES["insert_account"],
                {"account_id": account.account_id, "name": account.name,
                 "created_at": account.created_at},
            )  # fmt: skip
            row = conn.execute(QUERIES["get_account_by_name"], {"name": account.name}).fetchone()
            return Account(*row)

        return await self._write(work)

    async def insert_api_key(self, key: ApiKey) -> None:
        params = api_key_params(key)
        await self._write(lambda conn: conn.execute(QUERIES["insert_api_key"], params))

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        rows = self._read("get_api_key", {"key_id": key_id})
        return api_key_from_row(rows[0]) if rows else None

    async def revoke_api_key(self, key_id: str, revoked_at: int) -> bool:
        params = {"key_id": key_id, "revoked_at": revoked_at}
        cursor = await self._write(lambda conn: conn.execute(QUERIES["revoke_api_key"], params))
        return cursor.rowcount == 1

    async def list_api_keys(self, account_id: str | None = None) -> list[ApiKey]:
        return [
            api_key_from_row(r) for r in self._read("list_api_keys", {"account_id": account_id})
        ]

    async def count_active_api_keys(self) -> int:
        return int(self._read("count_active_api_keys")[0][0])

    async def sync_public_voices(self, voices: Iterable[Voice], synced_at: int) -> None:
        rows = [voice_params(voice, synced_at) for voice in voices]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(QUERIES["upsert_public_voice"], rows)
            conn.execute(QUERIES["delete_stale_public_voices"], {"synced_at": synced_at})

        await self._write(work)

    async def all_public_voices(self) -> list[Voice]:
        return [voice_from_row(r) for r in self._read("all_public_voices")]

    async def insert_voice(self, voice: Voice, updated_at: int) -> None:
        params = voice_params(voice, updated_at)
        await self._write(lambda conn: conn.execute(QUERIES["insert_voice"], params))

    async def get_private_voice(self, voice_id: str, account_id: str) -> Voice | None:
        self._drop_stale_cache()
        cache_key = (voice_id, account_id)
        if cache_key in self._voice_cache:
            return self._voice_cache[cache_key]
        rows = self._read("get_private_voice", {"voice_id": voice_id, "account_id": account_id})
        voice = voice_from_row(rows[0]) if rows else None
        self._voice_cache[cache_key] = voice
        return voice

    def _drop_stale_cache(self) -> None:
        now = time.monotonic()
        if (
            now - self._checked_at < FRESHNESS_SECONDS
            and len(self._voice_cache) < _VOICE_CACHE_LIMIT
        ):
            return
        version = self._read("data_version")[0][0]
        if version != self._data_version or len(self._voice_cache) >= _VOICE_CACHE_LIMIT:
            self._voice_cache.clear()
            self._data_version = version
        self._checked_at = now

    async def list_voices(self, query: VoiceQuery) -> list[Voice]:
        return [voice_from_row(r) for r in self._read("list_voices", list_params(query))]

    async def insert_asset(self, asset: Asset) -> None:
        params = dataclasses.asdict(asset)
        await self._write(lambda conn: conn.execute(QUERIES["insert_asset"], params))

    async def get_asset(self, asset_id: str, account_id: str) -> Asset | None:
        rows = self._read("get_asset", {"asset_id": asset_id, "account_id": account_id})
        return asset_from_row(rows[0]) if rows else None

    async def delete_asset(self, asset_id: str, account_id: str) -> Asset | None:
        params = {"asset_id": asset_id, "account_id": account_id}

        def work(conn: sqlite3.Connection) -> Asset | None:
            row = conn.execute(QUERIES["get_asset"], params).fetchone()
            conn.execute(QUERIES["delete_asset"], params)
            return asset_from_row(row) if row else None

        return await self._write(work)

    async def list_assets(
        self, account_id: str, limit: int, after: tuple[int, str] | None
    ) -> list[Asset]:
        rows = self._read("list_assets", list_assets_params(account_id, limit, after))
        return [asset_from_row(r) for r in rows]

    async def settle_asset(self, asset: Asset) -> None:
        params = settle_asset_params(asset)
        await self._write(lambda conn: conn.execute(QUERIES["settle_asset"], params))

    async def insert_asset_batch(self, batch: AssetBatch, assets: Sequence[Asset]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(QUERIES["insert_asset_batch"], dataclasses.asdict(batch))
            conn.executemany(QUERIES["insert_asset"], [dataclasses.asdict(a) for a in assets])

        await self._write(work)

    async def get_asset_batch(self, batch_id: str, account_id: str) -> AssetBatch | None:
        rows = self._read("get_asset_batch", {"batch_id": batch_id, "account_id": account_id})
        return batch_from_row(rows[0]) if rows else None

    async def batch_assets(self, batch_id: str, account_id: str) -> list[Asset]:
        rows = self._read("batch_assets", {"batch_id": batch_id, "account_id": account_id})
        return [asset_from_row(r) for r in rows]

    async def expired_uploads(self, cutoff: int, limit: int) -> list[Asset]:
        rows = self._read("expired_uploads", {"cutoff": cutoff, "limit": limit})
        return [asset_from_row(r) for r in rows]

    async def claim_idempotency(
        self, claim: IdempotentResponse, running_since: int, done_since: int
    ) -> IdempotentResponse | None:
        params = idempotency_params(claim)

        def work(conn: sqlite3.Connection) -> IdempotentResponse | None:
            row = conn.execute(QUERIES["get_idempotency"], params).fetchone()
            if row is not None:
                held = IdempotentResponse(*row)
                if not is_reclaimable(held, running_since, done_since):
                    return held
                conn.execute(QUERIES["release_idempotency"], idempotency_params(held))
            conn.execute(QUERIES["claim_idempotency"], params)
            return None

        return await self._write(work)

    async def complete_idempotency(self, answer: IdempotentResponse) -> None:
        params = idempotency_params(answer)
        await self._write(lambda conn: conn.execute(QUERIES["complete_idempotency"], params))

    async def release_idempotency(self, claim: IdempotentResponse) -> None:
        params = idempotency_params(claim)
        await self._write(lambda conn: conn.execute(QUERIES["release_idempotency"], params))

    async def insert_voice_with_job(self, voice: Voice, job: Job, updated_at: int) -> None:
        voice_row, job_row = voice_params(voice, updated_at), dataclasses.asdict(job)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(QUERIES["insert_voice"], voice_row)
            conn.execute(QUERIES["insert_job"], job_row)

        await self._write(work)

    async def insert_job(self, job: Job) -> bool:
        row = dataclasses.asdict(job)
        cursor = await self._write(lambda conn: conn.execute(QUERIES["insert_job"], row))
        return cursor.rowcount == 1

    async def lease_job(
        self,
        owner: str,
        now: int,
        lease_until: int,
        min_priority: int = 0,
        kinds: Collection[str] | None = None,
    ) -> Job | None:
        ready_params = {"now": now, "min_priority": min_priority, "kinds": kinds_param(kinds)}

        def work(conn: sqlite3.Connection) -> Job | None:
            for (job_id,) in conn.execute(QUERIES["ready_jobs"], ready_params).fetchall():
                params = {"job_id": job_id, "owner": owner, "now": now, "lease_until": lease_until}
                if conn.execute(QUERIES["take_job"], params).rowcount == 1:
                    row = conn.execute(QUERIES["get_job"], {"job_id": job_id}).fetchone()
                    return job_from_row(row)
            return None

        return await self._write(work)

    async def _changed(self, name: str, params: dict[str, Any]) -> bool:
        cursor = await self._write(lambda conn: conn.execute(QUERIES[name], params))
        return cursor.rowcount == 1

    async def extend_job_lease(self, job_id: str, owner: str, lease_until: int) -> bool:
        params = {"job_id": job_id, "owner": owner, "lease_until": lease_until}
        return await self._changed("extend_job_lease", params)

    async def end_job(self, job_id: str, owner: str, state: str, error: str | None) -> bool:
        params = {"job_id": job_id, "owner": owner, "state": state, "last_error": error}
        return await self._changed("end_job", params)

    async def jobs_to_dispatch(self, before: int) -> list[Job]:
        return [job_from_row(row) for row in self._read("jobs_to_dispatch", {"before": before})]

    async def mark_job_dispatched(self, job_id: str) -> bool:
        return await self._changed("mark_job_dispatched", {"job_id": job_id})

    async def record_job_outcome(
        self, job_id: str, state: str, error: str | None, attempts: int
    ) -> None:
        params = {"job_id": job_id, "state": state, "last_error": error, "attempts": attempts}
        await self._changed("record_job_outcome", params)

    async def settle_voice(
        self, voice: Voice, updated_at: int, outbox: Outbox | None = None
    ) -> list[Job] | None:
        params = voice_params(voice, updated_at)

        def work(conn: sqlite3.Connection) -> list[Job] | None:
            if conn.execute(QUERIES["settle_voice"], params).rowcount != 1:
                return None
            if outbox is None:
                return []
            conn.execute(QUERIES["insert_webhook_event"], dataclasses.asdict(outbox.event))
            found = conn.execute(
                QUERIES["enabled_webhook_endpoints"], {"account_id": outbox.event.account_id}
            ).fetchall()
            jobs = []
            for delivery, job in outbox.deliveries([WebhookEndpoint(*row) for row in found]):
                conn.execute(QUERIES["insert_webhook_delivery"], dataclasses.asdict(delivery))
                conn.execute(QUERIES["insert_job"], dataclasses.asdict(job))
                jobs.append(job)
            return jobs

        return await self._write(work)

    # --- webhooks ----------------------------------------------------------------------

    async def insert_webhook_endpoint(self, endpoint: WebhookEndpoint) -> None:
        await self._changed("insert_webhook_endpoint", dataclasses.asdict(endpoint))

    async def get_webhook_endpoint(
        self, endpoint_id: str, account_id: str | None
    ) -> WebhookEndpoint | None:
        params = {"endpoint_id": endpoint_id, "account_id": account_id}
        rows = self._read("get_webhook_endpoint", params)
        return WebhookEndpoint(*rows[0]) if rows else None

    async def list_webhook_endpoints(
        self, account_id: str, after: tuple[int, str] | None, limit: int
    ) -> list[WebhookEndpoint]:
        params = endpoints_params(account_id, after, limit)
        return [WebhookEndpoint(*row) for row in self._read("list_webhook_endpoints", params)]

    async def update_webhook_endpoint(self, endpoint: WebhookEndpoint) -> bool:
        return await self._changed("update_webhook_endpoint", dataclasses.asdict(endpoint))

    async def delete_webhook_endpoint(self, endpoint_id: str, account_id: str) -> bool:
        params = {"endpoint_id": endpoint_id, "account_id": account_id}
        return await self._changed("delete_webhook_endpoint", params)

    async def note_webhook_attempt(
        self, endpoint_id: str, ok: bool, disable_after: int, updated_at: int
    ) -> None:
        if ok:
            await self._changed("webhook_attempt_succeeded", {"endpoint_id": endpoint_id})
            return
        params = {"endpoint_id": endpoint_id, "disable_after": disable_after,
                  "updated_at": updated_at}  # fmt: skip
        await self._changed("webhook_attempt_failed", params)

    async def get_webhook_event(self, event_id: str) -> WebhookEvent | None:
        rows = self._read("get_webhook_event", {"event_id": event_id})
        return WebhookEvent(*rows[0]) if rows else None

    async def list_webhook_events(
        self,
        account_id: str,
        event_type: str | None,
        entity_id: str | None,
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[WebhookEvent]:
        params = events_params(account_id, event_type, entity_id, before, limit)
        return [WebhookEvent(*row) for row in self._read("list_webhook_events", params)]

    async def get_webhook_delivery(self, delivery_id: str) -> WebhookDelivery | None:
        rows = self._read("get_webhook_delivery", {"delivery_id": delivery_id})
        return WebhookDelivery(*rows[0]) if rows else None

    async def deliveries_of_webhook_event(self, event_id: str) -> list[WebhookDelivery]:
        rows = self._read("deliveries_of_webhook_event", {"event_id": event_id})
        return [WebhookDelivery(*row) for row in rows]

    async def record_webhook_delivery(self, delivery: WebhookDelivery) -> None:
        await self._changed("record_webhook_delivery", dataclasses.asdict(delivery))

    async def get_job(self, job_id: str) -> Job | None:
        rows = self._read("get_job", {"job_id": job_id})
        return job_from_row(rows[0]) if rows else None

    async def count_jobs(self) -> list[tuple[str, str, int]]:
        return [(row[0], row[1], int(row[2])) for row in self._read("count_jobs", {})]

    async def count_unfinished_jobs(self, kind: str) -> int:
        return int(self._read("count_unfinished_jobs", {"kind": kind})[0][0])

    async def count_private_voices(self, account_id: str) -> int:
        return int(self._read("count_private_voices", {"account_id": account_id})[0][0])

    async def set_voice_traits(self, voice_id: str, traits: str, measured_at: int) -> None:
        params = {"voice_id": voice_id, "traits": traits, "measured_at": measured_at}
        await self._write(lambda conn: conn.execute(QUERIES["set_voice_traits"], params))

    async def voice_traits(self, account_id: str | None) -> dict[str, str]:
        return {r[0]: r[1] for r in self._read("voice_traits", {"account_id": account_id})}

    async def delete_private_voice(self, voice_id: str, account_id: str) -> Voice | None:
        params = {"voice_id": voice_id, "account_id": account_id}

        def work(conn: sqlite3.Connection) -> Voice | None:
            row = conn.execute(QUERIES["get_private_voice"], params).fetchone()
            if row is None:
                return None
            conn.execute(QUERIES["delete_jobs_of_voice"], params)
            conn.execute(QUERIES["delete_private_voice"], params)
            return voice_from_row(row)

        return await self._write(work)
