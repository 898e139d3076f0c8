"""The loop a job worker runs: lease jobs, run each kind's handler, keep the lease, end it.

Up to ``concurrency`` jobs run at once. Work a person waits for comes first: the queue hands
out the most urgent job, and when only one slot is free it is kept for such work
(``USER_PRIORITY``) — background jobs (previews, measurements) never take the last slot.

A handler returns None (done) or a failure message (failed, for good), or raises: the job is
released to be tried again (``attempts`` counts) — after a delay when it raises ``RetryLater``.
Past its handler's ``max_attempts`` leases the handler's ``abandon`` ends it. A worker leases
only the kinds it has handlers for, so one process may run several workers side by side (CPU
work in a pool, network deliveries many at a time). A job whose lease is lost
(its subject was deleted, or another worker took it after this one stalled) has its handler
cancelled, which stops its work in the worker process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Coroutine, Mapping
from typing import Any, Protocol

from voxhub.domain import USER_PRIORITY, Job
from voxhub.jobs.base import JobQueue
from voxhub.metrics import NO_METRICS, Metrics

__all__ = ["JobHandler", "JobWorker", "RetryLater", "worker_name"]

log = logging.getLogger(__name__)


def worker_name(role: str) -> str:
    """Who holds a lease: host, process and role (shown in the jobs table)."""
    return f"{os.uname().nodename}:{os.getpid()}:{role}"[:64]


class RetryLater(Exception):
    """Raised by a handler: try the job again in ``delay_seconds`` (its attempt counts)."""

    def __init__(self, delay_seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds
        self.reason = reason


class JobHandler(Protocol):
    #: Leases a job may take before it is abandoned.
    max_attempts: int

    async def run(self, job: Job) -> str | None:
        """Do the job: None when done, a failure message when it failed for good."""

    async def abandon(self, job: Job, reason: str) -> None:
        """The job will not be tried again (``reason`` says why): settle what it was for."""


class _LeaseLost(Exception):
    pass


class JobWorker:
    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, JobHandler],
        *,
        owner: str,
        lease_seconds: float = 60.0,
        concurrency: int = 1,
        idle_seconds: float = 0.5,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._queue = queue
        self._metrics = metrics
        self._handlers = handlers
        self.owner = owner
        self._lease_seconds = lease_seconds
        self._concurrency = concurrency
        self._idle_seconds = idle_seconds
        self._running: set[asyncio.Task[None]] = set()
        #: Set once the queue had nothing for a worker with nothing running, cleared when a job
        #: is leased: background work of the process's own waits for it. Not set in the gap
        #: between one job's end and the next lease, or that work would go before a waiting job.
        self.idle = asyncio.Event()
        self._idle_since = time.monotonic()
        self._background_open = asyncio.Event()
        self._background_open.set()

    @property
    def busy(self) -> int:
        return len(self._running)

    async def run(self) -> None:
        """Lease and run jobs until cancelled; running jobs are released on the way out."""
        try:
            while True:
                if self.busy >= self._concurrency:
                    await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
                    continue
                job = await self._lease_safely()
                if job is None:
                    if not self._running and not self.idle.is_set():
                        self._idle_since = time.monotonic()
                        self.idle.set()
                    await self._queue.wait_for_job(self._idle_seconds)
                    continue
                task = asyncio.create_task(self.process(job))
                self._running.add(task)
                self.idle.clear()
                task.add_done_callback(self._ended)
        finally:
            for task in list(self._running):
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)

    async def until_idle_for(self, seconds: float) -> None:
        """Return once the queue has had nothing for this worker for ``seconds`` on end: work
        of the process's own then does not take the pool from a job posted a moment later
        (a person's first clone, right after a start)."""
        while True:
            await self.idle.wait()
            left = seconds - (time.monotonic() - self._idle_since)
            if left <= 0:
                return
            await asyncio.sleep(left)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)

    def hold_background(self) -> None:
        """Lease only work a person waits for until ``release_background``: the process's own
        work that clones need (base-voice measurements) goes before background jobs."""
        self._background_open.clear()

    def release_background(self) -> None:
        self._background_open.set()

    async def _lease_safely(self) -> Job | None:
        last_slot = self._concurrency > 1 and self.busy == self._concurrency - 1
        user_only = last_slot or not self._background_open.is_set()
        try:
            return await self._queue.lease(
                self.owner,
                self._lease_seconds,
                USER_PRIORITY if user_only else 0,
                kinds=self._handlers.keys(),
            )
        except Exception:  # the database may be away for a moment: try again later
            log.exception("could not lease a job")
            return None

    async def run_once(self) -> bool:
        """Lease one job and run it to its end; False when none was ready (for tests)."""
        job = await self._lease_safely()
        if job is None:
            return False
        await self.process(job)
        return True

    async def process(self, job: Job) -> None:
        started = time.monotonic()
        outcome = await self._process(job)
        seconds = time.monotonic() - started
        self._metrics.job_ended(job.kind, outcome, seconds)
        log.debug("job %s (%s) %s in %.2f s", job.job_id, job.kind, outcome, seconds)

    async def _process(self, job: Job) -> str:
        """Run the job; how its run ended (done, failed, retried, abandoned, lost)."""
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                await self._queue.finish(job, self.owner, "failed", f"no handler for {job.kind}")
                return "failed"
            if job.attempts > handler.max_attempts:
                reason = f"tried {handler.max_attempts} times"
                await handler.abandon(job, reason)
                await self._queue.finish(job, self.owner, "failed", reason)
                return "abandoned"
            failure = await self._with_lease(job, handler.run(job))
        except _LeaseLost:
            return "lost"
        except RetryLater as later:
            log.info("job %s (%s) retried later: %s", job.job_id, job.kind, later.reason)
            await self._release(job, later.delay_seconds)
            return "retried"
        except asyncio.CancelledError:
            await asyncio.shield(self._release(job))
            raise
        except Exception as exc:  # worker died, pool busy, or a bug: try again
            log.warning("job %s (%s) will be tried again: %r", job.job_id, job.kind, exc)
            await self._release(job)
            return "retried"
        state = "done" if failure is None else "failed"
        if not await self._queue.finish(job, self.owner, state, failure):
            log.warning("job %s ended after losing its lease", job.job_id)
            return "lost"
        return state

    async def _release(self, job: Job, delay_seconds: float = 0.0) -> None:
        try:
            await self._queue.release(job, self.owner, delay_seconds)
        except Exception:  # its lease runs out by itself
            log.exception("could not release job %s", job.job_id)

    async def _with_lease(self, job: Job, work: Coroutine[Any, Any, str | None]) -> str | None:
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self._lease_seconds / 3)
                if done:
                    return task.result()
                if not await self._queue.heartbeat(job, self.owner, self._lease_seconds):
                    raise _LeaseLost()
        finally:
            if not task.done():
                task.cancel()  # stops the job's work: the pool kills that worker process
                await asyncio.gather(task, return_exceptions=True)
