"""Jobs: durable work leased by workers, on the store (embedded) or on a task engine.

``open_queue(url, store)`` picks the backend: an empty URL queues jobs in the store's own
table (SQLite or PostgreSQL); ``postgresql://…`` runs them on procrastinate.
"""

from __future__ import annotations

from voxhub.jobs.base import JobQueue, now_ms
from voxhub.jobs.store_queue import StoreQueue
from voxhub.jobs.worker import JobHandler, JobWorker, RetryLater, worker_name
from voxhub.store import Store

__all__ = [
    "JobHandler",
    "JobQueue",
    "JobWorker",
    "RetryLater",
    "StoreQueue",
    "now_ms",
    "open_queue",
    "worker_name",
]


def open_queue(url: str, store: Store) -> JobQueue:
    if not url:
        return StoreQueue(store)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from voxhub.jobs.procrastinate import ProcrastinateQueue

        return ProcrastinateQueue(store, url)
    raise ValueError(f"VOXHUB_QUEUE_URL: no job queue for {url!r} (use postgresql://…)")
