"""The embedded queue: jobs wait in the store's own ``jobs`` table (SQLite or PostgreSQL).

The table the job was recorded in is the queue, so dispatching is nothing. Workers lease with a
conditional update that exactly one of several racing workers wins (``store/queries.sql``).
"""

from __future__ import annotations

from collections.abc import Collection

from voxhub.domain import Job
from voxhub.jobs.base import JobQueue, now_ms

__all__ = ["StoreQueue"]


class StoreQueue(JobQueue):
    async def dispatch(self, job: Job) -> None:
        return None

    async def lease(
        self,
        owner: str,
        lease_seconds: float,
        min_priority: int = 0,
        kinds: Collection[str] | None = None,
    ) -> Job | None:
        now = now_ms()
        until = now + int(lease_seconds * 1000)
        return await self.store.lease_job(owner, now, until, min_priority, kinds)

    async def heartbeat(self, job: Job, owner: str, lease_seconds: float) -> bool:
        until = now_ms() + int(lease_seconds * 1000)
        return await self.store.extend_job_lease(job.job_id, owner, until)

    async def finish(self, job: Job, owner: str, state: str, error: str | None = None) -> bool:
        return await self.store.end_job(job.job_id, owner, state, error)

    async def release(self, job: Job, owner: str, delay_seconds: float = 0.0) -> None:
        # a job whose lease has run out is leased again: one that runs out later is a delay
        until = now_ms() + int(delay_seconds * 1000) if delay_seconds > 0 else 0
        await self.store.extend_job_lease(job.job_id, owner, until)
