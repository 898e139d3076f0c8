"""The task-engine queue: jobs run on procrastinate (PostgreSQL), used as a library.

procrastinate keeps the runnable jobs (``procrastinate_jobs``); voxhub's store keeps every job's
record and outcome (the outbox and the history). ``JobWorker`` drives this queue like the
embedded one: procrastinate's own worker loop is not used, only its job manager and its SQL.

- **dispatch**: one procrastinate job per voxhub job, under the task ``voxhub.job`` with the
  job's fields as its arguments and the job id as its queueing lock, in the queue
  ``voxhub.<kind>.user`` (``priority >= USER_PRIORITY``) or ``voxhub.<kind>.background``. A
  transaction-scoped advisory lock on the job id and a look for an existing procrastinate job
  make dispatching idempotent, from any number of processes (a
  process that died between handing a job over and marking its record ``dispatched`` leaves a
  job that ``recover`` finds and only marks).
- **lease**: each lease registers a procrastinate worker that holds just that job; its
  heartbeat is the lease. Jobs of workers whose heartbeat is older than the lease are retried
  first (a dead worker's job is taken again), then the most urgent job is fetched, and its
  worker registered, in one transaction. ``kinds`` and ``min_priority`` pick the queues:
  ``USER_PRIORITY`` fetches from the user queues only, anything lower from both (by priority,
  then age). A release with a delay is procrastinate's retry at a later time.
  ``attempts`` counts leases: procrastinate counts a try when it ends (retried, succeeded or
  failed), so a running job is on try ``attempts + 1``.
- **heartbeat** refreshes the worker's heartbeat and says whether the job is still ``doing``
  under that worker; **finish** and **release** end or retry it only while it is (the job's
  row is locked to check). A job whose store record was deleted (its clone) is ended
  ``aborted`` and never leased again.

Every worker of one queue should use the same ``lease_seconds``: the heartbeat is per worker
with no lease length of its own, so a job is stalled once its heartbeat is older than the
lease of whoever looks. ``wait_for_job`` wakes an idle ``JobWorker`` on procrastinate's
LISTEN/NOTIFY instead of at its next poll.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Collection
from typing import Any

import procrastinate
import psycopg
from procrastinate import exceptions as procrastinate_errors
from procrastinate import jobs as procrastinate_jobs
from procrastinate import manager as procrastinate_manager
from procrastinate import sql as procrastinate_sql
from procrastinate.schema import SchemaManager

from voxhub.domain import USER_PRIORITY, Job
from voxhub.jobs.base import JobQueue, now_ms
from voxhub.store import Store
from voxhub.store.postgres import libpq_url

__all__ = ["TASK", "ProcrastinateQueue", "queue_name"]

log = logging.getLogger(__name__)

TASK = "voxhub.job"


def queue_name(kind: str, priority: int) -> str:
    """A job's procrastinate queue: by kind (a worker leases the kinds it runs) and by band
    (user work can be fetched alone)."""
    return f"voxhub.{kind}.{'user' if priority >= USER_PRIORITY else 'background'}"


_Status = procrastinate_jobs.Status
_STATES = {
    "todo": "queued",
    "doing": "running",
    "succeeded": "done",
    "failed": "failed",
    "cancelled": "failed",
    "aborting": "failed",
    "aborted": "failed",
}
_QUERIES = procrastinate_sql.queries

# Jobs are found by their voxhub id (the queueing lock) whatever their status; procrastinate
# indexes it only while they wait.
_CREATE_INDEX = (
    "CREATE INDEX IF NOT EXISTS voxhub_procrastinate_jobs_queueing_lock_idx "
    "ON procrastinate_jobs (queueing_lock)"
)
_SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('voxhub.procrastinate.schema', 0))"
_JOB_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('voxhub.job:' || %s, 0))"
_FIND = "SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = %s AND task_name = %s LIMIT 1"
_WAITING_QUEUES = (  # fmt: skip
    "SELECT DISTINCT queue_name FROM procrastinate_jobs"
    " WHERE status = 'todo' AND queue_name LIKE %s"
)
_ANY_READY = (
    "SELECT 1 FROM procrastinate_jobs WHERE status = 'todo' AND queue_name = ANY(%s)"
    " AND (scheduled_at IS NULL OR scheduled_at <= now()) LIMIT 1"
)
# The job's row, locked, while it is doing under the worker; stale: its heartbeat is old.
_HELD = (
    "SELECT job.worker_id,"
    " worker.id IS NULL OR worker.last_heartbeat < now() - make_interval(secs => %s) AS stale"
    " FROM procrastinate_jobs job"
    " LEFT JOIN procrastinate_workers worker ON worker.id = job.worker_id"
    " WHERE job.id = %s AND job.status = 'doing'"
    " FOR UPDATE OF job"
)


@dataclasses.dataclass(frozen=True, slots=True)
class _Held:
    """A lease this process holds: the procrastinate job and the worker registered for it."""

    job_id: int
    worker_id: int


class ProcrastinateQueue(JobQueue):
    def __init__(self, store: Store, url: str) -> None:
        super().__init__(store)
        self._url = libpq_url(url)
        self._app: procrastinate.App | None = None
        self._connector: procrastinate.PsycopgConnector | None = None
        # (voxhub job id, owner) -> its lease; only the jobs this process holds.
        self._held: dict[tuple[str, str], _Held] = {}
        self._listener: asyncio.Task[None] | None = None
        self._deferred = asyncio.Event()

    @property
    def _manager(self) -> procrastinate_manager.JobManager:
        if self._app is None:
            raise RuntimeError("ProcrastinateQueue is not open")
        return self._app.job_manager

    @property
    def _db(self) -> procrastinate.PsycopgConnector:
        if self._connector is None:
            raise RuntimeError("ProcrastinateQueue is not open")
        return self._connector

    async def open(self) -> None:
        # check: a connection the database dropped is replaced when next taken from the pool
        connector = procrastinate.PsycopgConnector(
            conninfo=self._url, min_size=1, max_size=10, timeout=10
        )
        app = procrastinate.App(connector=connector)
        await app.open_async()
        try:
            await self._apply_schema(connector)
        except BaseException:
            await app.close_async()
            raise
        self._app, self._connector = app, connector

    @staticmethod
    async def _apply_schema(connector: procrastinate.PsycopgConnector) -> None:
        """procrastinate's schema, once: processes starting together wait for the first."""
        async with connector.pool.connection() as conn, conn.transaction():
            await conn.execute(_SCHEMA_LOCK)
            cursor = await conn.execute("SELECT to_regclass('procrastinate_jobs')")
            row = await cursor.fetchone()
            if row is None or row[0] is None:
                log.info("applying procrastinate's schema")
                await conn.execute(SchemaManager.get_schema())
            await conn.execute(_CREATE_INDEX)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        if self._app is not None:
            await self._app.close_async()
        self._app = self._connector = None

    # -- handing jobs over ------------------------------------------------------------------

    async def dispatch(self, job: Job) -> None:
        await self._hand_over(job)

    async def recover(self, older_than_seconds: float = 30.0) -> int:
        before = now_ms() - int(older_than_seconds * 1000) + 1  # recorded at or before
        handed = 0
        while True:
            batch = await self.store.jobs_to_dispatch(before)
            marked = sum([await self._hand_over(job) for job in batch])
            handed += marked
            if not batch or not marked:  # handed rows leave the batch; stop when none did
                return handed

    async def _hand_over(self, job: Job) -> bool:
        """Defer the job unless procrastinate has it, then mark its record dispatched; whether
        the record was still waiting for that."""
        deferred = procrastinate_jobs.Job(
            queue=queue_name(job.kind, job.priority),
            priority=job.priority,
            lock=None,
            queueing_lock=job.job_id,
            task_name=TASK,
            task_kwargs={
                "job_id": job.job_id,
                "kind": job.kind,
                "subject_id": job.subject_id,
                "account_id": job.account_id,
                "payload": job.payload,
                "created_at": job.created_at,
            },
        )
        async with self._db.pool.connection() as conn, conn.transaction():
            await conn.execute(_JOB_LOCK, (job.job_id,))
            cursor = await conn.execute(_FIND, (job.job_id, TASK))
            if await cursor.fetchone() is None:
                try:
                    async with conn.transaction():
                        await self._manager.defer_job_async(deferred, connection=conn)
                except procrastinate_errors.AlreadyEnqueued:
                    pass  # waiting already (its queueing lock): handed over
        return await self.store.mark_job_dispatched(job.job_id)

    # -- leases -----------------------------------------------------------------------------

    async def lease(
        self,
        owner: str,
        lease_seconds: float,
        min_priority: int = 0,
        kinds: Collection[str] | None = None,
    ) -> Job | None:
        await self._retry_stalled(lease_seconds)
        queues = await self._queues(kinds, user_only=min_priority >= USER_PRIORITY)
        while True:
            fetched = await self._fetch(queues)
            if fetched is None:
                return None
            job_id = str(fetched.task_kwargs["job_id"])
            held = _Held(_id(fetched), _worker(fetched))
            if await self.store.get_job(job_id) is None:
                # its record was deleted (its clone) before it ran: it never will
                await self._end_if_held(held, _Status.ABORTED)
                await self._manager.unregister_worker(held.worker_id)
                continue
            self._held[(job_id, owner)] = held
            leased = _to_job(fetched, state="running", attempts=fetched.attempts + 1)
            until = now_ms() + int(lease_seconds * 1000)
            return _replace(leased, lease_owner=owner, lease_until=until)

    async def _queues(self, kinds: Collection[str] | None, *, user_only: bool) -> list[str]:
        bands = [USER_PRIORITY] if user_only else [USER_PRIORITY, 0]
        if kinds:
            return [queue_name(kind, band) for kind in sorted(kinds) for band in bands]
        pattern = "voxhub.%.user" if user_only else "voxhub.%"
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(_WAITING_QUEUES, (pattern,))
            return [str(row[0]) for row in await cursor.fetchall()]

    async def _retry_stalled(self, lease_seconds: float) -> None:
        """Put back the jobs of workers whose heartbeat is older than a lease (they died)."""
        stalled = await self._manager.get_stalled_jobs(
            task_name=TASK, seconds_since_heartbeat=lease_seconds
        )
        for job in stalled:
            held = _Held(_id(job), job.worker_id or 0)
            if not await self._retry_if_held(held, stale_after=lease_seconds):
                continue  # its worker came back, or another process retried it first
            log.warning("job %s: its worker stopped beating, retrying it", held.job_id)
            if job.worker_id is not None:
                await self._manager.unregister_worker(job.worker_id)

    async def _fetch(self, queues: list[str]) -> procrastinate_jobs.Job | None:
        """The most urgent waiting job, doing under a worker registered for it."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(_ANY_READY, (queues,))
            if await cursor.fetchone() is None:  # nothing waits: no worker row written
                return None
            async with conn.transaction():
                worker = await self._db.execute_query_one_async_with_connection(
                    conn, query=_QUERIES["register_worker"]
                )
                row = await self._db.execute_query_one_async_with_connection(
                    conn, query=_QUERIES["fetch_job"], queues=queues, worker_id=worker["worker_id"]
                )
                if row["id"] is None:  # taken by another worker since
                    raise psycopg.Rollback()
                return procrastinate_jobs.Job.from_row(row)
        return None

    async def heartbeat(self, job: Job, owner: str, lease_seconds: float) -> bool:
        key = (job.job_id, owner)
        held = self._held.get(key)
        if held is None:
            return False
        if await self.store.get_job(job.job_id) is None:
            # deleted with its subject: end it so that no one runs it again
            await self._end_if_held(held, _Status.ABORTED)
            await self._let_go(key, held)
            return False
        await self._manager.update_heartbeat(held.worker_id)
        found = list(await self._manager.list_jobs_async(id=held.job_id))
        if found and found[0].status == "doing" and found[0].worker_id == held.worker_id:
            if not found[0].abort_requested:
                return True
            await self._end_if_held(held, _Status.ABORTED)  # aborted through procrastinate
        await self._let_go(key, held)
        return False

    async def finish(self, job: Job, owner: str, state: str, error: str | None = None) -> bool:
        key = (job.job_id, owner)
        held = self._held.get(key)
        if held is None:
            return False
        status = _Status.SUCCEEDED if state == "done" else _Status.FAILED
        ended = await self._end_if_held(held, status)
        await self._let_go(key, held)
        if ended:
            await self.store.record_job_outcome(job.job_id, state, error, job.attempts)
        return ended

    async def release(self, job: Job, owner: str, delay_seconds: float = 0.0) -> None:
        key = (job.job_id, owner)
        held = self._held.get(key)
        if held is None:
            return
        retry_at = (
            datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=delay_seconds)
            if delay_seconds > 0
            else None
        )
        await self._retry_if_held(held, retry_at=retry_at)
        await self._let_go(key, held)

    async def _retry_if_held(
        self,
        held: _Held,
        stale_after: float | None = None,
        retry_at: datetime.datetime | None = None,
    ) -> bool:
        """Retry the job (now, or at ``retry_at``) while it is doing under the worker (and,
        with ``stale_after``, that worker's heartbeat is older than that many seconds)."""
        async with self._db.pool.connection() as conn, conn.transaction():
            if not await _is_held(conn, held, stale_after):
                return False
            await self._db.execute_query_all_async_with_connection(
                conn,
                query=_QUERIES["retry_job"],
                job_id=held.job_id,
                retry_at=retry_at,  # None: now
                new_priority=None,
                new_queue_name=None,
                new_lock=None,
            )
            return True

    async def _end_if_held(self, held: _Held, status: procrastinate_jobs.Status) -> bool:
        """End the job (succeeded, failed or aborted) while it is doing under the worker."""
        async with self._db.pool.connection() as conn, conn.transaction():
            if not await _is_held(conn, held, None):
                return False
            await self._db.execute_query_all_async_with_connection(
                conn,
                query=_QUERIES["finish_job"],
                job_id=held.job_id,
                status=status.value,
                delete_job=False,
            )
            return True

    async def _let_go(self, key: tuple[str, str], held: _Held) -> None:
        if self._held.get(key) == held:
            del self._held[key]
        await self._manager.unregister_worker(held.worker_id)

    # -- reading ----------------------------------------------------------------------------

    async def get(self, job_id: str) -> Job | None:
        stored = await self.store.get_job(job_id)
        found = list(await self._manager.list_jobs_async(queueing_lock=job_id, task=TASK))
        if not found:
            return stored
        latest = found[-1]
        status = latest.status or "todo"
        job = _to_job(
            latest,
            state=_STATES.get(status, "failed"),
            attempts=latest.attempts + (1 if status == "doing" else 0),
        )
        owner = next(
            (o for (j, o), held in self._held.items() if j == job_id and held.job_id == latest.id),
            None,
        )
        return _replace(job, lease_owner=owner, last_error=stored.last_error if stored else None)

    # -- waking ----------------------------------------------------------------------------

    async def wait_for_job(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking as soon as a job is deferred (procrastinate's
        LISTEN/NOTIFY; retried jobs send no notification, so this is still a poll)."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(
                self._manager.listen_for_jobs(on_notification=self._notified, queues=None)
            )
            self._listener.add_done_callback(_log_listener_end)
        try:
            await asyncio.wait_for(self._deferred.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            self._deferred.clear()

    async def _notified(
        self, *, channel: str, notification: procrastinate_jobs.Notification
    ) -> None:
        if notification["type"] == "job_inserted":
            self._deferred.set()


async def _is_held(
    conn: psycopg.AsyncConnection[Any], held: _Held, stale_after: float | None
) -> bool:
    cursor = await conn.execute(_HELD, (stale_after or 0.0, held.job_id))
    row = await cursor.fetchone()
    if row is None:
        return False
    worker_id, stale = row
    return (worker_id or 0) == held.worker_id and (stale_after is None or bool(stale))


def _to_job(job: procrastinate_jobs.Job, *, state: str, attempts: int) -> Job:
    fields = job.task_kwargs
    subject_id, account_id = fields.get("subject_id"), fields.get("account_id")
    created_at = fields.get("created_at")
    return Job(
        job_id=str(fields["job_id"]),
        kind=str(fields["kind"]),
        subject_id=None if subject_id is None else str(subject_id),
        account_id=None if account_id is None else str(account_id),
        payload=str(fields["payload"]),
        created_at=created_at if isinstance(created_at, int) else 0,
        priority=job.priority,
        state=state,
        attempts=attempts,
    )


def _replace(job: Job, **changes: Any) -> Job:
    return dataclasses.replace(job, **changes)


def _id(job: procrastinate_jobs.Job) -> int:
    if job.id is None:
        raise ValueError("a procrastinate job read from the database has an id")
    return job.id


def _worker(job: procrastinate_jobs.Job) -> int:
    if job.worker_id is None:
        raise ValueError("a fetched procrastinate job has a worker")
    return job.worker_id


def _log_listener_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("job notifications stopped (polling only): %r", task.exception())
