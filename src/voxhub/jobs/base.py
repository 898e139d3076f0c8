"""The job queue interface: where recorded jobs wait, and how workers take them.

Every job is first recorded in the store — in the same transaction as the record it belongs to
(a clone and its job), or on its own (``enqueue``) — so the store is the outbox: a job is never
lost between the record's commit and the queue. ``dispatch`` then makes it runnable, and
``recover`` hands over any recorded job whose dispatch never happened (the process died in
between).

A worker ``lease``s a job for a while, renews the lease with ``heartbeat`` while it works and
ends it with ``finish``; a job whose worker died is leased again once its lease runs out, and
``attempts`` counts every lease. ``release`` gives a job back (to be retried, at once or
after a delay).
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import Collection

from voxhub.domain import Job
from voxhub.store import Store

__all__ = ["JobQueue", "now_ms"]


def now_ms() -> int:
    return int(time.time() * 1000)


class JobQueue(abc.ABC):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect; called once before use."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Disconnect."""

    async def enqueue(self, job: Job) -> bool:
        """Record a job and make it runnable; False when a job with its id was recorded before
        (whatever became of it: a job id made from what the job does runs once)."""
        if not await self.store.insert_job(job):
            return False
        await self.dispatch(job)
        return True

    @abc.abstractmethod
    async def dispatch(self, job: Job) -> None:
        """Make a job the store has recorded runnable."""

    async def recover(self, older_than_seconds: float = 30.0) -> int:
        """Dispatch recorded jobs that were never dispatched; how many were."""
        return 0

    @abc.abstractmethod
    async def lease(
        self,
        owner: str,
        lease_seconds: float,
        min_priority: int = 0,
        kinds: Collection[str] | None = None,
    ) -> Job | None:
        """The most urgent runnable job of at least ``min_priority`` and of one of ``kinds``
        (None: any), leased to ``owner``."""

    @abc.abstractmethod
    async def heartbeat(self, job: Job, owner: str, lease_seconds: float) -> bool:
        """Extend the lease; False when ``owner`` lost it (another worker took the job, or it
        was deleted with its subject)."""

    @abc.abstractmethod
    async def finish(self, job: Job, owner: str, state: str, error: str | None = None) -> bool:
        """End the job ``done`` or ``failed``; False when ``owner`` no longer held it."""

    @abc.abstractmethod
    async def release(self, job: Job, owner: str, delay_seconds: float = 0.0) -> None:
        """Give the job back, to be leased again after ``delay_seconds`` (its attempt still
        counts)."""

    async def wait_for_job(self, seconds: float) -> None:
        """An idle worker's pause before it looks again: ``seconds``, or less where the queue
        can say that a job arrived."""
        await asyncio.sleep(seconds)

    async def get(self, job_id: str) -> Job | None:
        """The job as the queue knows it now."""
        return await self.store.get_job(job_id)
