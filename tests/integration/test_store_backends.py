"""One store contract, run on the in-memory twin, SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.conftest import private_voice
from voxhub.domain import (
    BACKGROUND_PRIORITY,
    USER_PRIORITY,
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
from voxhub.engines import installed_engines
from voxhub.ids import new_voice_id
from voxhub.services.catalog import catalog_voices
from voxhub.store import SQLiteStore, Store, open_store
from voxhub.store.base import subscribed
from voxhub.store.migrate import upgrade
from voxhub.store.postgres import PostgresStore
from voxhub.store.sqlite import FRESHNESS_SECONDS

pytestmark = pytest.mark.anyio


async def make_account(store: Store, name: str = "acme") -> Account:
    return await store.get_or_create_account(Account(f"{name:0<32}"[:32], name, 1))


def key(account: Account, key_id: str = "0123456789abcdef") -> ApiKey:
    return ApiKey(key_id, account.account_id, "h" * 64, "label", "5/second", True, 10)


async def test_accounts_are_unique_by_name(store: Store) -> None:
    first = await make_account(store)
    again = await store.get_or_create_account(Account("x" * 32, "acme", 99))
    assert again == first


async def test_api_keys_round_trip_and_revoke_once(store: Store) -> None:
    account = await make_account(store)
    await store.insert_api_key(key(account))
    assert await store.get_api_key("0123456789abcdef") == key(account)
    assert await store.count_active_api_keys() == 1
    assert await store.revoke_api_key("0123456789abcdef", 20) is True
    assert await store.revoke_api_key("0123456789abcdef", 21) is False
    revoked = await store.get_api_key("0123456789abcdef")
    assert revoked is not None
    assert revoked.revoked_at == 20
    assert await store.count_active_api_keys() == 0
    assert await store.get_api_key("ffffffffffffffff") is None
    assert [k.key_id for k in await store.list_api_keys(account.account_id)] == ["0123456789abcdef"]


async def test_catalog_sync_is_idempotent_and_drops_voices_no_engine_offers(
    store: Store,
) -> None:
    voices = catalog_voices(installed_engines())
    await store.sync_public_voices(voices, synced_at=100)
    await store.sync_public_voices(voices, synced_at=200)
    stored = await store.all_public_voices()
    assert sorted(v.voice_id for v in stored) == sorted(v.voice_id for v in voices)
    assert stored == sorted(voices, key=lambda v: (v.name, v.voice_id))
    await store.sync_public_voices(voices[:3], synced_at=300)
    assert {v.voice_id for v in await store.all_public_voices()} == {v.voice_id for v in voices[:3]}


async def test_a_private_voice_is_visible_to_its_account_only(store: Store) -> None:
    owner, other = await make_account(store, "owner"), await make_account(store, "other")
    clone = private_voice(owner.account_id, status="failed", failure_message="Too noisy.")
    await store.insert_voice(clone, updated_at=1)
    assert await store.get_private_voice(clone.voice_id, owner.account_id) == clone
    assert await store.get_private_voice(clone.voice_id, other.account_id) is None


async def test_listing_filters_orders_and_pages(store: Store) -> None:
    owner = await make_account(store, "owner")
    await store.sync_public_voices(catalog_voices(installed_engines()), synced_at=1)
    names = ["b", "a", "c", "a"]
    clones = [private_voice(owner.account_id, name=n, gender="female") for n in names]
    for clone in clones:
        await store.insert_voice(clone, updated_at=1)
    expected = sorted(clones, key=lambda v: (v.name, v.voice_id))

    seen: list[Voice] = []
    query = VoiceQuery(account_id=owner.account_id, limit=3)
    while True:
        page = await store.list_voices(query)
        seen += page
        if len(page) < 3:
            break
        query = dataclasses.replace(query, after_name=page[-1].name, after_id=page[-1].voice_id)
    assert seen == expected

    english = await store.list_voices(VoiceQuery(None, language="English", limit=100))
    assert english
    assert all(v.language == "English" and v.is_public for v in english)
    assert await store.list_voices(VoiceQuery(None, engine="nope", limit=5)) == []
    female = await store.list_voices(VoiceQuery(None, gender="female", limit=500))
    assert female
    assert all(v.gender == "female" and v.is_public for v in female)
    assert len(await store.list_voices(VoiceQuery(owner.account_id, gender="female"))) == 4


async def test_ping(store: Store) -> None:
    await store.ping()


async def test_sqlite_read_cache_follows_commits_of_other_connections(tmp_path: Path) -> None:
    """Get Voice's SQLite cache: another process's commit shows within FRESHNESS_SECONDS,
    this store's own writes at once."""
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    upgrade(url)
    api, worker = SQLiteStore(tmp_path / "cache.db"), SQLiteStore(tmp_path / "cache.db")
    await api.open()
    await worker.open()
    try:
        owner = await make_account(worker, "owner")
        clone = private_voice(owner.account_id)
        assert await api.get_private_voice(clone.voice_id, owner.account_id) is None  # cached
        await worker.insert_voice(clone, updated_at=1)
        await asyncio.sleep(FRESHNESS_SECONDS * 2)
        assert await api.get_private_voice(clone.voice_id, owner.account_id) == clone
        again = private_voice(owner.account_id)
        await api.insert_voice(again, updated_at=1)  # its own writer connection
        assert await api.get_private_voice(again.voice_id, owner.account_id) == again
    finally:
        await api.close()
        await worker.close()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_postgres_read_cache_follows_commits_of_other_processes(postgres_url: str) -> None:
    """Get Voice's PostgreSQL cache serves repeated reads and drops them on any commit."""
    api, worker = PostgresStore(postgres_url), PostgresStore(postgres_url)
    await api.open()
    await worker.open()
    try:
        owner = await make_account(worker, "owner")
        clone = private_voice(owner.account_id)
        key = (clone.voice_id, owner.account_id)

        async def cached_absent() -> bool:
            await api.get_private_voice(*key)
            return api._voice_cache.lookup(key) == (True, None)

        assert await eventually(cached_absent)  # once the listener is up, reads are cached
        await worker.insert_voice(clone, updated_at=1)

        async def seen() -> bool:
            return await api.get_private_voice(*key) == clone

        assert await eventually(seen, seconds=2)
    finally:
        await api.close()
        await worker.close()


async def test_assets_belong_to_their_account(store: Store) -> None:
    owner, other = await make_account(store, "owner"), await make_account(store, "other")
    asset = Asset(
        asset_id="a" * 32,
        account_id=owner.account_id,
        name="sample.wav",
        media_type="audio/wav",
        kind="audio",
        size_bytes=1234,
        storage_key=f"assets/{'a' * 32}.wav",
        created_at=5,
    )
    await store.insert_asset(asset)
    assert await store.get_asset(asset.asset_id, owner.account_id) == asset
    assert await store.get_asset(asset.asset_id, other.account_id) is None
    assert await store.delete_asset(asset.asset_id, other.account_id) is None
    assert await store.delete_asset(asset.asset_id, owner.account_id) == asset
    assert await store.delete_asset(asset.asset_id, owner.account_id) is None
    assert await store.get_asset(asset.asset_id, owner.account_id) is None


def an_asset(account: Account, n: int, **fields: object) -> Asset:
    asset_id = f"{n:032x}"
    base = Asset(
        asset_id,
        account.account_id,
        f"{n}.wav",
        "audio/wav",
        "audio",
        10 + n,
        f"assets/{asset_id}.wav",
        created_at=100 + n // 2,
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


async def test_assets_list_newest_first_completed_only_in_pages(store: Store) -> None:
    owner, other = await make_account(store, "owner"), await make_account(store, "other")
    for n in range(5):
        await store.insert_asset(an_asset(owner, n))
    await store.insert_asset(an_asset(owner, 9, status="pending_upload", upload_expires_at=50))
    await store.insert_asset(an_asset(other, 7))
    first = await store.list_assets(owner.account_id, 3, None)
    assert [a.asset_id[-1] for a in first] == ["4", "3", "2"]  # (created_at, id) descending
    last = first[-1]
    rest = await store.list_assets(owner.account_id, 3, (last.created_at, last.asset_id))
    assert [a.asset_id[-1] for a in rest] == ["1", "0"]


async def test_a_batch_and_its_uploads_settle_and_expire(store: Store) -> None:
    owner = await make_account(store, "owner")
    batch = AssetBatch("b" * 32, owner.account_id, "title", 2, 100)
    pending = [
        an_asset(
            owner,
            n,
            status="pending_upload",
            upload_expires_at=200,
            batch_id=batch.batch_id,
            item_index=n,
        )
        for n in range(2)
    ]
    await store.insert_asset_batch(batch, pending)
    assert await store.get_asset_batch(batch.batch_id, owner.account_id) == batch
    assert await store.get_asset_batch(batch.batch_id, "x" * 32) is None
    assert await store.batch_assets(batch.batch_id, owner.account_id) == pending
    done = dataclasses.replace(
        pending[0], status="completed", media_type="audio/flac", storage_key="assets/x.flac"
    )
    failed = dataclasses.replace(pending[1], status="failed", failure_message="why")
    await store.settle_asset(done)
    await store.settle_asset(failed)
    settled = await store.batch_assets(batch.batch_id, owner.account_id)
    assert settled == [dataclasses.replace(done, upload_expires_at=None), failed]
    assert await store.expired_uploads(200, 10) == []
    assert await store.expired_uploads(201, 10) == [failed]  # completed ones never expire


async def test_idempotency_claims_are_taken_once_and_expire(store: Store) -> None:
    owner = await make_account(store, "owner")
    claim = IdempotentResponse(owner.account_id, "POST /v3/assets", "k-1", created_at=100)
    assert await store.claim_idempotency(claim, running_since=0, done_since=0) is None
    rival = dataclasses.replace(claim, created_at=101)
    assert await store.claim_idempotency(rival, running_since=0, done_since=0) == claim
    done = dataclasses.replace(claim, status=200, body='{"data": {}}')
    await store.complete_idempotency(done)
    assert await store.claim_idempotency(rival, running_since=0, done_since=0) == done
    # expired answers and abandoned runs are forgotten, and the newcomer holds the key
    assert await store.claim_idempotency(rival, running_since=0, done_since=101) is None
    later = dataclasses.replace(claim, created_at=500)
    assert await store.claim_idempotency(later, running_since=200, done_since=0) is None
    await store.release_idempotency(later)
    assert await store.claim_idempotency(rival, running_since=0, done_since=0) is None


def clone_job(voice: Voice, created_at: int = 1000) -> Job:
    return Job(
        job_id=new_voice_id(),
        kind="clone",
        subject_id=voice.voice_id,
        account_id=voice.account_id or "",
        payload='{"sample_key": "x"}',
        created_at=created_at,
        priority=USER_PRIORITY,
    )


async def test_a_clone_and_its_job_are_written_together_and_leased_once(store: Store) -> None:
    owner = await make_account(store, "owner")
    voice = private_voice(owner.account_id)
    job = clone_job(voice)
    await store.insert_voice_with_job(voice, job, updated_at=1)
    assert await store.get_private_voice(voice.voice_id, owner.account_id) == voice

    leased = await store.lease_job("worker-a", now=2000, lease_until=3000)
    assert leased is not None
    assert (leased.job_id, leased.state, leased.attempts) == (job.job_id, "running", 1)
    assert await store.count_jobs() == [(job.kind, "running", 1)]  # GET /metrics' voxhub_jobs
    assert await store.lease_job("worker-b", now=2500, lease_until=3500) is None  # held
    assert await store.extend_job_lease(job.job_id, "worker-a", 5000) is True
    assert await store.lease_job("worker-b", now=4000, lease_until=6000) is None


async def test_unfinished_jobs_are_counted_by_kind_until_they_end(store: Store) -> None:
    owner = await make_account(store, "owner")
    voice = private_voice(owner.account_id)
    job = clone_job(voice)
    await store.insert_voice_with_job(voice, job, updated_at=1)
    assert await store.count_unfinished_jobs("clone") == 1  # queued
    assert await store.count_unfinished_jobs("preview") == 0
    assert await store.lease_job("worker-a", now=2000, lease_until=3000) is not None
    assert await store.count_unfinished_jobs("clone") == 1  # running
    assert await store.end_job(job.job_id, "worker-a", "done", None) is True
    assert await store.count_unfinished_jobs("clone") == 0


async def test_an_expired_lease_is_taken_again_and_the_old_owner_cannot_end_it(
    store: Store,
) -> None:
    owner = await make_account(store, "owner")
    voice = private_voice(owner.account_id)
    job = clone_job(voice)
    await store.insert_voice_with_job(voice, job, updated_at=1)
    await store.lease_job("worker-a", now=2000, lease_until=3000)
    retaken = await store.lease_job("worker-b", now=3001, lease_until=9000)
    assert retaken is not None
    assert (retaken.lease_owner, retaken.attempts) == ("worker-b", 2)

    assert await store.extend_job_lease(job.job_id, "worker-a", 9999) is False
    assert not await store.end_job(job.job_id, "worker-a", "done", None)
    assert await store.end_job(job.job_id, "worker-b", "done", None)
    finished = await store.get_job(job.job_id)
    assert finished is not None
    assert (finished.state, finished.lease_owner) == ("done", None)
    assert await store.lease_job("worker-c", now=99_999, lease_until=100_000) is None


async def test_a_clone_is_settled_once_while_processing(store: Store) -> None:
    owner = await make_account(store, "owner")
    voice = private_voice(owner.account_id)
    await store.insert_voice_with_job(voice, clone_job(voice), updated_at=1)
    complete = dataclasses.replace(voice, status="complete", gender="female")
    assert await store.settle_voice(complete, 5) == []
    assert await store.get_private_voice(voice.voice_id, owner.account_id) == complete
    late = dataclasses.replace(voice, status="failed", failure_message="late")
    assert await store.settle_voice(late, 6) is None  # a slower duplicate changes nothing
    assert await store.get_private_voice(voice.voice_id, owner.account_id) == complete


async def test_background_jobs_wait_for_user_jobs_and_ids_run_once(store: Store) -> None:
    owner = await make_account(store, "owner")
    background = Job("b" * 32, "preview", None, None, "{}", 1000, BACKGROUND_PRIORITY)
    assert await store.insert_job(background) is True
    assert await store.insert_job(background) is False  # the same work is recorded once
    voice = private_voice(owner.account_id)
    user = clone_job(voice, created_at=2000)  # newer, but a person waits for it
    await store.insert_voice_with_job(voice, user, updated_at=1)
    assert await store.lease_job("a", 5000, 6000, min_priority=USER_PRIORITY) is not None
    assert await store.lease_job("b", 5000, 6000, min_priority=USER_PRIORITY) is None
    leased = await store.lease_job("b", 5000, 6000)
    assert leased is not None
    assert leased.job_id == background.job_id


async def test_recorded_jobs_are_dispatched_once(store: Store) -> None:
    job = Job("c" * 32, "preview", None, None, "{}", 1000, BACKGROUND_PRIORITY)
    await store.insert_job(job)
    assert [j.job_id for j in await store.jobs_to_dispatch(before=2000)] == [job.job_id]
    assert await store.jobs_to_dispatch(before=500) == []
    assert await store.mark_job_dispatched(job.job_id) is True
    assert await store.mark_job_dispatched(job.job_id) is False
    assert await store.jobs_to_dispatch(before=2000) == []
    assert await store.lease_job("a", 5000, 6000) is None  # the task engine runs it now
    await store.record_job_outcome(job.job_id, "done", None, 1)
    recorded = await store.get_job(job.job_id)
    assert recorded is not None
    assert (recorded.state, recorded.attempts) == ("done", 1)


async def test_jobs_are_leased_oldest_first(store: Store) -> None:
    owner = await make_account(store, "owner")
    voices = [private_voice(owner.account_id) for _ in range(3)]
    jobs = [clone_job(v, created_at=3000 - i) for i, v in enumerate(voices)]
    for voice, job in zip(voices, jobs, strict=True):
        await store.insert_voice_with_job(voice, job, updated_at=1)
    order = []
    for name in ("a", "b", "c"):
        leased = await store.lease_job(name, now=5000, lease_until=6000)
        assert leased is not None
        order.append(leased.job_id)
    assert order == [j.job_id for j in reversed(jobs)]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_workers_racing_from_two_connections_lease_each_job_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")
    first, second = open_store(url), open_store(url)
    await first.open()
    await second.open()
    try:
        owner = await make_account(first, "owner")
        for index in range(12):
            voice = private_voice(owner.account_id)
            await first.insert_voice_with_job(voice, clone_job(voice, 1000 + index), 1)

        async def drain(store: Store, name: str) -> list[str]:
            taken = []
            while (job := await store.lease_job(name, now=2000, lease_until=9000)) is not None:
                taken.append(job.job_id)
            return taken

        a, b = await asyncio.gather(drain(first, "a"), drain(second, "b"))
        assert len(a) + len(b) == 12
        assert len(set(a) | set(b)) == 12
    finally:
        await first.close()
        await second.close()


def endpoint(account: Account, endpoint_id: str, events: str | None = None) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id=endpoint_id.ljust(32, "0"), account_id=account.account_id,
        url="https://hooks.example.com/x", events=events, status="enabled", secret="sealed",
        previous_secret=None, previous_secret_until=None, failures=0, created_at=100,
        updated_at=100,
    )  # fmt: skip


async def test_a_clone_outcome_writes_its_event_and_deliveries_in_one_transaction(
    store: Store,
) -> None:
    owner = await make_account(store, "owner")
    other = await make_account(store, "other")
    voice = private_voice(owner.account_id)
    await store.insert_voice_with_job(voice, clone_job(voice), updated_at=1)
    await store.insert_webhook_endpoint(endpoint(owner, "a"))
    await store.insert_webhook_endpoint(endpoint(owner, "b", events='["voice_clone.fail"]'))
    await store.insert_webhook_endpoint(endpoint(other, "c"))
    disabled = dataclasses.replace(endpoint(owner, "d"), status="disabled")
    await store.insert_webhook_endpoint(disabled)
    event = WebhookEvent("e" * 32, owner.account_id, "voice_clone.success", voice.voice_id,
                         '{"event_type": "voice_clone.success"}', 200)  # fmt: skip

    def delivery(to: WebhookEndpoint) -> tuple[WebhookDelivery, Job]:
        delivery_id = to.endpoint_id[:1] * 32
        made = WebhookDelivery(delivery_id, event.event_id, to.endpoint_id, owner.account_id)
        job = Job(delivery_id, "webhook", delivery_id, owner.account_id, "{}", 200_000)
        return made, job

    def deliveries(found: list[WebhookEndpoint]) -> list[tuple[WebhookDelivery, Job]]:
        return [delivery(e) for e in found if subscribed(e, event.event_type)]

    complete = dataclasses.replace(voice, status="complete")
    jobs = await store.settle_voice(complete, 5, Outbox(event, deliveries))
    assert jobs is not None
    assert [j.job_id for j in jobs] == ["a" * 32]  # owner's, enabled, subscribed only
    assert await store.get_webhook_event(event.event_id) == event
    written = await store.deliveries_of_webhook_event(event.event_id)
    assert [(d.endpoint_id[:1], d.state) for d in written] == [("a", "pending")]
    assert await store.get_job("a" * 32) is not None
    # a second settle writes nothing at all
    assert await store.settle_voice(complete, 6, Outbox(event, deliveries)) is None
    assert len(await store.deliveries_of_webhook_event(event.event_id)) == 1


async def test_webhook_endpoints_are_the_accounts_and_disabled_after_failures(
    store: Store,
) -> None:
    owner = await make_account(store, "owner")
    other = await make_account(store, "other")
    for name in "abc":
        await store.insert_webhook_endpoint(endpoint(owner, name))
    first = await store.list_webhook_endpoints(owner.account_id, None, 2)
    assert [e.endpoint_id[:1] for e in first] == ["a", "b"]
    last = first[-1]
    rest = await store.list_webhook_endpoints(
        owner.account_id, (last.created_at, last.endpoint_id), 2
    )
    assert [e.endpoint_id[:1] for e in rest] == ["c"]
    a = "a".ljust(32, "0")
    assert await store.get_webhook_endpoint(a, other.account_id) is None
    assert await store.delete_webhook_endpoint(a, other.account_id) is False
    for _ in range(2):
        await store.note_webhook_attempt(a, False, 3, 200)
    found = await store.get_webhook_endpoint(a, None)
    assert found is not None
    assert (found.failures, found.status) == (2, "enabled")
    await store.note_webhook_attempt(a, True, 3, 200)  # a success forgets the failures
    for _ in range(3):
        await store.note_webhook_attempt(a, False, 3, 300)
    found = await store.get_webhook_endpoint(a, owner.account_id)
    assert found is not None
    assert (found.failures, found.status) == (3, "disabled")
    enabled = dataclasses.replace(found, status="enabled", failures=0)
    assert await store.update_webhook_endpoint(enabled) is True
    assert await store.get_webhook_endpoint(a, owner.account_id) == enabled
    assert await store.delete_webhook_endpoint(a, owner.account_id) is True
    assert await store.get_webhook_endpoint(a, owner.account_id) is None


async def test_webhook_events_are_listed_newest_first_and_filtered(store: Store) -> None:
    owner = await make_account(store, "owner")
    for index, kind in enumerate(["voice_clone.success", "voice_clone.fail"] * 2):
        voice = private_voice(owner.account_id)
        await store.insert_voice_with_job(voice, clone_job(voice), updated_at=1)
        event = WebhookEvent(str(index) * 32, owner.account_id, kind, f"entity-{index}", "{}",
                             100 + index)  # fmt: skip
        settled = dataclasses.replace(voice, status="complete")
        await store.settle_voice(settled, 2, Outbox(event, lambda found: []))
    newest = await store.list_webhook_events(owner.account_id, None, None, None, 3)
    assert [e.event_id[:1] for e in newest] == ["3", "2", "1"]
    last = newest[-1]
    older = await store.list_webhook_events(
        owner.account_id, None, None, (last.created_at, last.event_id), 3
    )
    assert [e.event_id[:1] for e in older] == ["0"]
    fails = await store.list_webhook_events(owner.account_id, "voice_clone.fail", None, None, 9)
    assert [e.event_id[:1] for e in fails] == ["3", "1"]
    one = await store.list_webhook_events(owner.account_id, None, "entity-2", None, 9)
    assert [e.event_id[:1] for e in one] == ["2"]
