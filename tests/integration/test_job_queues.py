"""One job-queue contract, run on every queue: the store's own (in-memory twin, SQLite,
PostgreSQL) and the task engine's (procrastinate on PostgreSQL)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import EMPTY_VOXHUB_TABLES, fresh_postgres_database, private_voice
from voxhub.domain import BACKGROUND_PRIORITY, USER_PRIORITY, Account, Job, Voice
from voxhub.ids import new_voice_id
from voxhub.jobs import JobQueue, JobWorker, StoreQueue, open_queue
from voxhub.store import MemoryStore, Store, open_store
from voxhub.store.migrate import upgrade

pytestmark = pytest.mark.anyio

QUEUES = ["memory", "sqlite", "postgres", "procrastinate"]
LEASE = 1.0  # seconds: short, so a dead worker's job is taken again within the test


@pytest.fixture(params=QUEUES)
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobQueue]:
    store: Store
    if request.param == "memory":
        store = MemoryStore()
    else:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'jobs.db'}"
            upgrade(url)
        elif request.param == "procrastinate":
            url = request.getfixturevalue("procrastinate_url")
        else:
            url = request.getfixturevalue("postgres_url")
        store = open_store(url)
        await store.open()
    opened = open_queue(url, store) if request.param == "procrastinate" else StoreQueue(store)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
        await store.close()


@pytest.fixture(scope="module")
def procrastinate_database() -> Iterator[str]:
    """procrastinate's schema lives in a database of its own: the session database is held
    to voxhub's migrations alone (tests/integration/test_migrations.py)."""
    with fresh_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture
def procrastinate_url(procrastinate_database: str) -> str:
    """That database, emptied: voxhub's tables and procrastinate's (once it made them)."""
    import psycopg

    with psycopg.connect(procrastinate_database, autocommit=True) as conn:
        conn.execute(EMPTY_VOXHUB_TABLES)
        row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if row is not None and row[0] is not None:
            conn.execute(
                "TRUNCATE procrastinate_jobs, procrastinate_workers, procrastinate_events,"
                " procrastinate_periodic_defers"
            )
    return procrastinate_database


def job(priority: int = USER_PRIORITY, created_at: int | None = None, **fields: str) -> Job:
    return Job(
        job_id=fields.get("job_id", new_voice_id()),
        kind=fields.get("kind", "test"),
        subject_id=fields.get("subject_id"),
        account_id=fields.get("account_id"),
        payload='{"n": 1}',
        created_at=created_at if created_at is not None else int(time.time() * 1000),
        priority=priority,
    )


async def recorded_clone(queue: JobQueue) -> tuple[Voice, Job]:
    """A clone and its job, written together as the clone service writes them."""
    owner = await queue.store.get_or_create_account(Account("o" * 32, "owner", 1))
    voice = private_voice(owner.account_id)
    recorded = job(subject_id=voice.voice_id, account_id=owner.account_id, kind="clone")
    await queue.store.insert_voice_with_job(voice, recorded, updated_at=1)
    return voice, recorded


async def lease_soon(queue: JobQueue, owner: str, within: float = 10.0) -> Job:
    """A lease taken as soon as the queue offers one (a dead worker's job: after its lease)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        leased = await queue.lease(owner, LEASE)
        if leased is not None:
            return leased
        await asyncio.sleep(0.1)
    raise AssertionError(f"no job could be leased within {within} s")


async def test_a_job_is_leased_once_kept_by_heartbeats_and_finished(queue: JobQueue) -> None:
    queued = job()
    assert await queue.enqueue(queued) is True
    leased = await queue.lease("worker-a", LEASE)
    assert leased is not None
    assert (leased.job_id, leased.kind, leased.payload, leased.attempts) == (
        queued.job_id, "test", '{"n": 1}', 1,
    )  # fmt: skip
    assert await queue.lease("worker-b", LEASE) is None
    for _ in range(3):  # held past its first lease by heartbeats
        await asyncio.sleep(LEASE / 2)
        assert await queue.heartbeat(leased, "worker-a", LEASE) is True
        assert await queue.lease("worker-b", LEASE) is None
    assert await queue.finish(leased, "worker-a", "done") is True
    assert await queue.lease("worker-b", LEASE) is None
    ended = await queue.get(queued.job_id)
    assert ended is not None
    assert ended.state == "done"


async def test_a_dead_workers_job_is_taken_again_and_it_cannot_finish(queue: JobQueue) -> None:
    await queue.enqueue(job())
    first = await queue.lease("worker-a", LEASE)
    assert first is not None
    # worker-a dies: no heartbeat; its lease runs out and another worker takes the job
    again = await lease_soon(queue, "worker-b")
    assert (again.job_id, again.attempts) == (first.job_id, 2)
    assert await queue.heartbeat(first, "worker-a", LEASE) is False
    assert await queue.finish(first, "worker-a", "done") is False
    assert await queue.finish(again, "worker-b", "failed", "bad sample") is True
    ended = await queue.get(first.job_id)
    assert ended is not None
    assert (ended.state, ended.last_error) == ("failed", "bad sample")


async def test_a_released_job_is_taken_again_at_once(queue: JobQueue) -> None:
    await queue.enqueue(job())
    first = await queue.lease("worker-a", 60)
    assert first is not None
    await queue.release(first, "worker-a")
    again = await lease_soon(queue, "worker-b", within=5)
    assert (again.job_id, again.attempts) == (first.job_id, 2)


async def test_a_job_released_with_a_delay_waits_for_it(queue: JobQueue) -> None:
    await queue.enqueue(job())
    first = await queue.lease("worker-a", 60)
    assert first is not None
    released = time.monotonic()
    await queue.release(first, "worker-a", delay_seconds=1.5)
    assert await queue.lease("worker-b", LEASE) is None
    again = await lease_soon(queue, "worker-b", within=10)
    assert time.monotonic() - released >= 1.0
    assert (again.job_id, again.attempts) == (first.job_id, 2)


async def test_a_worker_leases_only_the_kinds_it_runs(queue: JobQueue) -> None:
    delivery = job(kind="webhook")
    clone = job(kind="clone")
    await queue.enqueue(delivery)
    await queue.enqueue(clone)
    leased = await queue.lease("io", LEASE, kinds={"webhook"})
    assert leased is not None
    assert leased.job_id == delivery.job_id
    assert await queue.lease("io", LEASE, kinds={"webhook", "other"}) is None
    other = await queue.lease("cpu", LEASE, kinds={"clone", "preview"})
    assert other is not None
    assert other.job_id == clone.job_id


async def test_user_jobs_go_before_older_background_jobs(queue: JobQueue) -> None:
    now = int(time.time() * 1000)
    background = job(BACKGROUND_PRIORITY, created_at=now - 10_000)
    user = job(USER_PRIORITY, created_at=now)
    await queue.enqueue(background)
    await queue.enqueue(user)
    assert await queue.lease("w", LEASE, min_priority=USER_PRIORITY) is not None
    assert await queue.lease("w", LEASE, min_priority=USER_PRIORITY) is None
    leased = await queue.lease("w", LEASE)
    assert leased is not None
    assert leased.job_id == background.job_id


async def test_the_same_job_id_runs_once(queue: JobQueue) -> None:
    once = job(BACKGROUND_PRIORITY, job_id="f" * 32)
    assert await queue.enqueue(once) is True
    leased = await queue.lease("w", LEASE)
    assert leased is not None
    assert await queue.finish(leased, "w", "done") is True
    assert await queue.enqueue(once) is False  # asked again (a restart): not run again
    assert await queue.lease("w", LEASE) is None


async def test_a_job_recorded_with_its_record_but_never_dispatched_is_recovered(
    queue: JobQueue,
) -> None:
    _, recorded = await recorded_clone(queue)
    # the API process died before dispatching it: recovery hands it over
    await queue.recover(older_than_seconds=0)
    leased = await lease_soon(queue, "w", within=5)
    assert leased.job_id == recorded.job_id
    assert await queue.recover(older_than_seconds=0) == 0  # never twice


class Recorder:
    """A handler that records what it ran; its subject may be deleted while it works."""

    def __init__(self, queue: JobQueue, seconds: float = 0.0, max_attempts: int = 3) -> None:
        self.queue = queue
        self.max_attempts = max_attempts
        self.seconds = seconds
        self.ran: list[str] = []
        self.cancelled: list[str] = []

    async def run(self, running: Job) -> str | None:
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled.append(running.job_id)
            raise
        self.ran.append(running.job_id)
        return None

    async def abandon(self, running: Job, reason: str) -> None:
        self.ran.append(f"abandoned {running.job_id}")


async def test_a_job_whose_record_is_deleted_is_stopped_and_not_run_again(
    queue: JobQueue,
) -> None:
    voice, recorded = await recorded_clone(queue)
    await queue.dispatch(recorded)
    handler = Recorder(queue, seconds=30)
    worker = JobWorker(queue, {"clone": handler}, owner="w", lease_seconds=LEASE)
    running = asyncio.create_task(worker.run_once())
    await asyncio.sleep(0.3)
    await queue.store.delete_private_voice(voice.voice_id, voice.account_id or "")
    await asyncio.wait_for(running, timeout=10)  # lost its lease at the next heartbeat
    assert handler.cancelled == [recorded.job_id]
    await asyncio.sleep(LEASE * 1.5)
    assert await worker.run_once() is False
    assert handler.ran == []


async def test_a_worker_runs_jobs_to_the_end_and_abandons_those_tried_too_often(
    queue: JobQueue,
) -> None:
    handler = Recorder(queue, max_attempts=1)
    worker = JobWorker(queue, {"test": handler}, owner="w", lease_seconds=LEASE)
    done = job()
    await queue.enqueue(done)
    assert await worker.run_once() is True
    assert handler.ran == [done.job_id]
    tried = job()
    await queue.enqueue(tried)
    assert await queue.lease("dead-worker", LEASE) is not None  # it dies holding the job
    leased = await lease_soon(queue, "w")  # attempt 2 > max_attempts 1
    await worker.process(leased)
    assert handler.ran[-1] == f"abandoned {tried.job_id}"
    ended = await queue.get(tried.job_id)
    assert ended is not None
    assert ended.state == "failed"


# procrastinate only: what its mapping onto leases must also hold ---------------------------

only_procrastinate = pytest.mark.parametrize("queue", ["procrastinate"], indirect=True)

WORKER = """
import asyncio, sys
from voxhub.jobs import open_queue
from voxhub.store import open_store

async def main(url: str) -> None:
    store = open_store(url)
    await store.open()
    queue = open_queue(url, store)
    await queue.open()
    leased = await queue.lease("doomed", float(sys.argv[2]))
    print(leased.job_id if leased else "", flush=True)
    await asyncio.sleep(3600)  # working, until SIGKILL

asyncio.run(main(sys.argv[1]))
"""


@only_procrastinate
async def test_a_killed_workers_job_is_leased_again_after_its_lease(
    queue: JobQueue, procrastinate_url: str
) -> None:
    queued = job()
    await queue.enqueue(queued)
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, procrastinate_url, str(LEASE),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), timeout=30)
        assert line.decode().strip() == queued.job_id
        assert await queue.lease("w", LEASE) is None  # its worker is alive
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    again = await lease_soon(queue, "w")
    assert (again.job_id, again.attempts) == (queued.job_id, 2)
    assert await queue.finish(again, "w", "done") is True


@only_procrastinate
async def test_recovery_from_several_processes_at_once_hands_each_job_over_once(
    queue: JobQueue, procrastinate_url: str
) -> None:
    recorded = [job() for _ in range(20)]
    for each in recorded:
        assert await queue.store.insert_job(each) is True
    others = [open_queue(procrastinate_url, queue.store) for _ in range(3)]
    for other in others:
        await other.open()
    try:
        handed = await asyncio.gather(*(q.recover(older_than_seconds=0) for q in [queue, *others]))
    finally:
        for other in others:
            await other.close()
    assert sum(handed) == len(recorded)
    leased = set()
    while (taken := await queue.lease("w", LEASE)) is not None:
        leased.add(taken.job_id)
        assert taken.attempts == 1
    assert leased == {each.job_id for each in recorded}


@only_procrastinate
async def test_a_job_handed_over_by_a_process_that_died_before_marking_it_is_not_handed_twice(
    queue: JobQueue, procrastinate_url: str
) -> None:
    import psycopg

    recorded = job()
    await queue.enqueue(recorded)
    running = await queue.lease("w", LEASE)
    assert running is not None
    with psycopg.connect(procrastinate_url, autocommit=True) as conn:  # as if never marked
        conn.execute("UPDATE jobs SET state = 'queued' WHERE job_id = %s", (recorded.job_id,))
    assert await queue.recover(older_than_seconds=0) == 1  # marked, not deferred again
    assert await queue.lease("other", LEASE) is None
    assert await queue.finish(running, "w", "done") is True


@only_procrastinate
async def test_workers_racing_for_jobs_take_each_once(
    queue: JobQueue, procrastinate_url: str
) -> None:
    recorded = {job().job_id: None for _ in range(30)}
    for job_id in recorded:
        await queue.enqueue(job(job_id=job_id))
    others = [open_queue(procrastinate_url, queue.store) for _ in range(3)]
    for other in others:
        await other.open()

    async def drain(q: JobQueue, owner: str) -> list[str]:
        taken = []
        while (leased := await q.lease(owner, LEASE)) is not None:
            taken.append(leased.job_id)
            assert await q.finish(leased, owner, "done") is True
        return taken

    try:
        taken = await asyncio.gather(*(drain(q, f"w{n}") for n, q in enumerate([queue, *others])))
    finally:
        for other in others:
            await other.close()
    every = [job_id for each in taken for job_id in each]
    assert sorted(every) == sorted(recorded)


@only_procrastinate
async def test_a_job_whose_record_is_deleted_before_it_runs_is_never_leased(
    queue: JobQueue,
) -> None:
    voice, recorded = await recorded_clone(queue)
    await queue.dispatch(recorded)
    await queue.store.delete_private_voice(voice.voice_id, voice.account_id or "")
    assert await queue.lease("w", LEASE) is None
    ended = await queue.get(recorded.job_id)
    assert ended is not None
    assert ended.state == "failed"


async def test_processes_starting_together_apply_procrastinates_schema_once() -> None:
    with fresh_postgres_database() as url:
        store = MemoryStore()  # one store (its records), four processes' queues
        queues = [open_queue(url, store) for _ in range(4)]
        await asyncio.gather(*(q.open() for q in queues))
        try:
            recorded = job()
            assert await queues[0].enqueue(recorded) is True
            leased = await queues[1].lease("w", LEASE)
            assert leased is not None
            assert leased.job_id == recorded.job_id
            assert await queues[1].finish(leased, "w", "done") is True
        finally:
            for each in queues:
                await each.close()
