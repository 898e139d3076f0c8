"""The scale-out store: PostgreSQL through a psycopg 3 async connection pool.

Get Voice's reads of private voices go through a per-process cache that LISTEN/NOTIFY keeps
in step with every process's writes (``notified_cache``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool

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
from voxhub.store.notified_cache import NotifiedCache
from voxhub.store.queries import QUERIES, to_pyformat

__all__ = ["PostgresStore", "libpq_url"]

T = TypeVar("T")
_SQL = {name: to_pyformat(query) for name, query in QUERIES.items()}


def libpq_url(url: str) -> str:
    """Accept SQLAlchemy-style ``postgresql+psycopg://`` as well as plain ``postgresql://``."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgresql") else url


class PostgresStore(Store):
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self._voice_cache: NotifiedCache[tuple[str, str], Voice | None] = NotifiedCache(
            libpq_url(url)
        )
        self._pool = AsyncConnectionPool(
            libpq_url(url),
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=10,
            # Single statements commit on their own; several go in conn.transaction().
            kwargs={"autocommit": True},
        )

    async def open(self) -> None:
        await self._pool.open(wait=True, timeout=10)
        self._voice_cache.start()

    async def close(self) -> None:
        await self._voice_cache.stop()
        await self._pool.close()

    async def _run(self, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]) -> T:
        try:
            async with self._pool.connection() as conn:
                return await work(conn)
        except (psycopg.OperationalError, TimeoutError) as exc:
            raise ServiceUnavailable() from exc

    async def _fetch(self, name: str, params: dict[str, Any] | None = None) -> list[Any]:
        async def work(conn: psycopg.AsyncConnection[Any]) -> list[Any]:
            cursor = await conn.execute(_SQL[name], params or {}, prepare=True)
            return await cursor.fetchall()

        return await self._run(work)

    async def _execute(self, name: str, params: dict[str, Any]) -> int:
        async def work(conn: psycopg.AsyncConnection[Any]) -> int:
            cursor = await conn.execute(_SQL[name], params)
            return cursor.rowcount

        return await self._run(work)

    async def _write(self, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]) -> T:
        try:
            return await self._run(work)
        finally:
            self._voice_cache.invalidate()  # this process sees its own writes at once

    async def ping(self) -> None:
        await self._fetch("ping")

    async def get_or_create_account(self, account: Account) -> Account:
        async def work(conn: psycopg.AsyncConnection[Any]) -> Account:
            async with conn.transaction():
                await conn.execute(
                    _SQL["insert_account"],
                    {"account_id": account.account_id, "name": account.name,
                     "created_at": account.created_at},
                )  # fmt: skip
                cursor = await conn.execute(_SQL["get_account_by_name"], {"name": account.name})
                return Account(*(await cursor.fetchone() or ()))

        return await self._run(work)

    async def insert_api_key(self, key: ApiKey) -> None:
        await self._execute("insert_api_key", api_key_params(key))

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        rows = await self._fetch("get_api_key", {"key_id": key_id})
        return api_key_from_row(rows[0]) if rows else None

    async def revoke_api_key(self, key_id: str, revoked_at: int) -> bool:
        params = {"key_id": key_id, "revoked_at": revoked_at}
        return await self._execute("revoke_api_key", params) == 1

    async def list_api_keys(self, account_id: str | None = None) -> list[ApiKey]:
        rows = await self._fetch("list_api_keys", {"account_id": account_id})
        return [api_key_from_row(r) for r in rows]

    async def count_active_api_keys(self) -> int:
        return int((await self._fetch("count_active_api_keys"))[0][0])

    async def sync_public_voices(self, voices: Iterable[Voice], synced_at: int) -> None:
        rows = [voice_params(voice, synced_at) for voice in voices]

        async def work(conn: psycopg.AsyncConnection[Any]) -> None:
            async with conn.transaction():
                async with conn.cursor() as cursor:
                    await cursor.executemany(_SQL["upsert_public_voice"], rows)
                await conn.execute(_SQL["delete_stale_public_voices"], {"synced_at": synced_at})

        await self._write(work)

    async def all_public_voices(self) -> list[Voice]:
        return [voice_from_row(r) for r in await self._fetch("all_public_voices")]

    async def insert_voice(self, voice: Voice, updated_at: int) -> None:
        params = voice_params(voice, updated_at)

        async def work(conn: psycopg.AsyncConnection[Any]) -> None:
            await conn.execute(_SQL["insert_voice"], params)

        await self._write(work)

    async def get_private_voice(self, voice_id: str, account_id: str) -> Voice | None:
        key = (voice_id, account_id)
        hit, cached = self._voice_cache.lookup(key)
        if hit:
            return cached
        generation = self._voice_cache.generation
        rows = await self._fetch(
            "get_private_voice", {"voice_id": voice_id, "account_id": account_id}
        )
        voice = voice_from_row(rows[0]) if rows else None
        self._voice_cache.store(key, voice, generation)
        return voice

    async def list_voices(self, query: VoiceQuery) -> list[Voice]:
        return [voice_from_row(r) for r in await self._fetch("list_voices", list_params(query))]

    async def insert_asset(self, asset: Asset) -> None:
        await self._execute("insert_asset", dataclasses.asdict(asset))

    async def get_asset(self, asset_id: str, account_id: str) -> Asset | None:
        rows = await self._fetch("get_asset", {"asset_id": asset_id, "account_id": account_id})
        return asset_from_row(rows[0]) if rows else None

    async def delete_asset(self, asset_id: str, account_id: str) -> Asset | None:
        params = {"asset_id": asset_id, "account_id": account_id}

        async def work(conn: psycopg.AsyncConnection[Any]) -> Asset | None:
            async with conn.transaction():
                cursor = await conn.execute(_SQL["get_asset"], params)
                row = await cursor.fetchone()
                await conn.execute(_SQL["delete_asset"], params)
            return asset_from_row(row) if row else None

        return await self._run(work)

    async def list_assets(
        self, account_id: str, limit: int, after: tuple[int, str] | None
    ) -> list[Asset]:
        rows = await self._fetch("list_assets", list_assets_params(account_id, limit, after))
        return [asset_from_row(r) for r in rows]

    async def settle_asset(self, asset: Asset) -> None:
        await self._execute("settle_asset", settle_asset_params(asset))

    async def insert_asset_batch(self, batch: AssetBatch, assets: Sequence[Asset]) -> None:
        async def work(conn: psycopg.AsyncConnection[Any]) -> None:
            async with conn.transaction():
                await conn.execute(_SQL["insert_asset_batch"], dataclasses.asdict(batch))
                async with conn.cursor() as cursor:
                    rows = [dataclasses.asdict(a) for a in assets]
                    await cursor.executemany(_SQL["insert_asset"], rows)

        await self._run(work)

    async def get_asset_batch(self, batch_id: str, account_id: str) -> AssetBatch | None:
        params = {"batch_id": batch_id, "account_id": account_id}
        rows = await self._fetch("get_asset_batch", params)
        return batch_from_row(rows[0]) if rows else None

    async def batch_assets(self, batch_id: str, account_id: str) -> list[Asset]:
        params = {"batch_id": batch_id, "account_id": account_id}
        return [asset_from_row(r) for r in await self._fetch("batch_assets", params)]

    async def expired_uploads(self, cutoff: int, limit: int) -> list[Asset]:
        rows = await self._fetch("expired_uploads", {"cutoff": cutoff, "limit": limit})
        return [asset_from_row(r) for r in rows]

    async def claim_idempotency(
        self, claim: IdempotentResponse, running_since: int, done_since: int
    ) -> IdempotentResponse | None:
        params = idempotency_params(claim)

        async def work(conn: psycopg.AsyncConnection[Any]) -> IdempotentResponse | None:
            async with conn.transaction():
                inserted = await conn.execute(_SQL["claim_idempotency"], params)
                if inserted.rowcount == 1:
                    return None
                cursor = await conn.execute(_SQL["get_idempotency"], params)
                row = await cursor.fetchone()
                held = IdempotentResponse(*row) if row else None
                if held is not None and not is_reclaimable(held, running_since, done_since):
                    return held
                if held is not None:
                    await conn.execute(_SQL["release_idempotency"], idempotency_params(held))
                taken = await conn.execute(_SQL["claim_idempotency"], params)
                if taken.rowcount == 1:
                    return None
            # another process took it between our statements: what it holds is the answer
            return IdempotentResponse(**{**params, "status": None, "body": None})

        return await self._run(work)

    async def complete_idempotency(self, answer: IdempotentResponse) -> None:
        await self._execute("complete_idempotency", idempotency_params(answer))

    async def release_idempotency(self, claim: IdempotentResponse) -> None:
        await self._execute("release_idempotency", idempotency_params(claim))

    async def insert_voice_with_job(self, voice: Voice, job: Job, updated_at: int) -> None:
        voice_row, job_row = voice_params(voice, updated_at), dataclasses.asdict(job)

        async def work(conn: psycopg.AsyncConnection[Any]) -> None:
            async with conn.transaction():
                await conn.execute(_SQL["insert_voice"], voice_row)
                await conn.execute(_SQL["insert_job"], job_row)

        await self._write(work)

    async def insert_job(self, job: Job) -> bool:
        return await self._execute("insert_job", dataclasses.asdict(job)) == 1

    async def lease_job(
        self,
        owner: str,
        now: int,
        lease_until: int,
        min_priority: int = 0,
        kinds: Collection[str] | None = None,
    ) -> Job | None:
        ready_params = {"now": now, "min_priority": min_priority, "kinds": kinds_param(kinds)}

        async def work(conn: psycopg.AsyncConnection[Any]) -> Job | None:
            ready = await (await conn.execute(_SQL["ready_jobs"], ready_params)).fetchall()
            for (job_id,) in ready:
                params = {"job_id": job_id, "owner": owner, "now": now, "lease_until": lease_until}
                # The WHERE is checked again against the row's latest version: of two workers
                # racing for a job, exactly one updates it.
                if (await conn.execute(_SQL["take_job"], params)).rowcount == 1:
                    cursor = await conn.execute(_SQL["get_job"], {"job_id": job_id})
                    row = await cursor.fetchone()
                    return job_from_row(row) if row else None
            return None

        return await self._run(work)

    async def extend_job_lease(self, job_id: str, owner: str, lease_until: int) -> bool:
        params = {"job_id": job_id, "owner": owner, "lease_until": lease_until}
        return await self._execute("extend_job_lease", params) == 1

    async def end_job(self, job_id: str, owner: str, state: str, error: str | None) -> bool:
        params = {"job_id": job_id, "owner": owner, "state": state, "last_error": error}
        return await self._execute("end_job", params) == 1

    async def jobs_to_dispatch(self, before: int) -> list[Job]:
        return [job_from_row(r) for r in await self._fetch("jobs_to_dispatch", {"before": before})]

    async def mark_job_dispatched(self, job_id: str) -> bool:
        return await self._execute("mark_job_dispatched", {"job_id": job_id}) == 1

    async def record_job_outcome(
        self, job_id: str, state: str, error: str | None, attempts: int
    ) -> None:
        params = {"job_id": job_id, "state": state, "last_error": error, "attempts": attempts}
        await self._execute("record_job_outcome", params)

    async def settle_voice(
        self, voice: Voice, updated_at: int, outbox: Outbox | None = None
    ) -> list[Job] | None:
        params = voice_params(voice, updated_at)

        async def work(conn: psycopg.AsyncConnection[Any]) -> list[Job] | None:
            async with conn.transaction():
                if (await conn.execute(_SQL["settle_voice"], params)).rowcount != 1:
                    return None
                if outbox is None:
                    return []
                event = dataclasses.asdict(outbox.event)
                await conn.execute(_SQL["insert_webhook_event"], event)
                cursor = await conn.execute(
                    _SQL["enabled_webhook_endpoints"], {"account_id": outbox.event.account_id}
                )
                found = [WebhookEndpoint(*row) for row in await cursor.fetchall()]
                jobs = []
                for delivery, job in outbox.deliveries(found):
                    await conn.execute(
                        _SQL["insert_webhook_delivery"], dataclasses.asdict(delivery)
                    )
                    await conn.execute(_SQL["insert_job"], dataclasses.asdict(job))
                    jobs.append(job)
                return jobs

        return await self._write(work)

    # --- webhooks ----------------------------------------------------------------------

    async def insert_webhook_endpoint(self, endpoint: WebhookEndpoint) -> None:
        await self._execute("insert_webhook_endpoint", dataclasses.asdict(endpoint))

    async def get_webhook_endpoint(
        self, endpoint_id: str, account_id: str | None
    ) -> WebhookEndpoint | None:
        params = {"endpoint_id": endpoint_id, "account_id": account_id}
        rows = await self._fetch("get_webhook_endpoint", params)
        return WebhookEndpoint(*rows[0]) if rows else None

    async def list_webhook_endpoints(
        self, account_id: str, after: tuple[int, str] | None, limit: int
    ) -> list[WebhookEndpoint]:
        params = endpoints_params(account_id, after, limit)
        rows = await self._fetch("list_webhook_endpoints", params)
        return [WebhookEndpoint(*row) for row in rows]

    async def update_webhook_endpoint(self, endpoint: WebhookEndpoint) -> bool:
        return await self._execute("update_webhook_endpoint", dataclasses.asdict(endpoint)) == 1

    async def delete_webhook_endpoint(self, endpoint_id: str, account_id: str) -> bool:
        params = {"endpoint_id": endpoint_id, "account_id": account_id}
        return await self._execute("delete_webhook_endpoint", params) == 1

    async def note_webhook_attempt(
        self, endpoint_id: str, ok: bool, disable_after: int, updated_at: int
    ) -> None:
        if ok:
            await self._execute("webhook_attempt_succeeded", {"endpoint_id": endpoint_id})
            return
        params = {"endpoint_id": endpoint_id, "disable_after": disable_after,
                  "updated_at": updated_at}  # fmt: skip
        await self._execute("webhook_attempt_failed", params)

    async def get_webhook_event(self, event_id: str) -> WebhookEvent | None:
        rows = await self._fetch("get_webhook_event", {"event_id": event_id})
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
        return [WebhookEvent(*row) for row in await self._fetch("list_webhook_events", params)]

    async def get_webhook_delivery(self, delivery_id: str) -> WebhookDelivery | None:
        rows = await self._fetch("get_webhook_delivery", {"delivery_id": delivery_id})
        return WebhookDelivery(*rows[0]) if rows else None

    async def deliveries_of_webhook_event(self, event_id: str) -> list[WebhookDelivery]:
        rows = await self._fetch("deliveries_of_webhook_event", {"event_id": event_id})
        return [WebhookDelivery(*row) for row in rows]

    async def record_webhook_delivery(self, delivery: WebhookDelivery) -> None:
        await self._execute("record_webhook_delivery", dataclasses.asdict(delivery))

    async def get_job(self, job_id: str) -> Job | None:
        rows = await self._fetch("get_job", {"job_id": job_id})
        return job_from_row(rows[0]) if rows else None

    async def count_jobs(self) -> list[tuple[str, str, int]]:
        return [(row[0], row[1], int(row[2])) for row in await self._fetch("count_jobs", {})]

    async def count_unfinished_jobs(self, kind: str) -> int:
        return int((await self._fetch("count_unfinished_jobs", {"kind": kind}))[0][0])

    async def count_private_voices(self, account_id: str) -> int:
        rows = await self._fetch("count_private_voices", {"account_id": account_id})
        return int(rows[0][0])

    async def set_voice_traits(self, voice_id: str, traits: str, measured_at: int) -> None:
        params = {"voice_id": voice_id, "traits": traits, "measured_at": measured_at}
        await self._execute("set_voice_traits", params)

    async def voice_traits(self, account_id: str | None) -> dict[str, str]:
        rows = await self._fetch("voice_traits", {"account_id": account_id})
        return {r[0]: r[1] for r in rows}

    async def delete_private_voice(self, voice_id: str, account_id: str) -> Voice | None:
        params = {"voice_id": voice_id, "account_id": account_id}

        async def work(conn: psycopg.AsyncConnection[Any]) -> Voice | None:
            async with conn.transaction():
                row = await (await conn.execute(_SQL["get_private_voice"], params)).fetchone()
                if row is None:
                    return None
                await conn.execute(_SQL["delete_jobs_of_voice"], params)
                await conn.execute(_SQL["delete_private_voice"], params)
                return voice_from_row(row)

        return await self._write(work)
