"""What runs in worker processes: the process pool, rendering speech, cloning, measuring voices.

Nothing here runs on an event loop. Engines and voice transforms are registered when a worker
process starts (``init_worker``), never at import.
"""

from __future__ import annotations

from voxhub.workers.pool import InlineRunner, JobRunner, WorkerPool

__all__ = ["InlineRunner", "JobRunner", "WorkerPool"]
