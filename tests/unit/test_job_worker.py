"""The job worker's scheduling: work a person waits for before background work."""

from __future__ import annotations

import asyncio
import time

import pytest

from voxhub.domain import BACKGROUND_PRIORITY, USER_PRIORITY, Job
from voxhub.jobs import JobWorker, StoreQueue
from voxhub.store import MemoryStore

pytestmark = pytest.mark.anyio


def job(name: str, priority: int, created_at: int) -> Job:
    return Job(name.ljust(32, "0"), "work", None, None, "{}", created_at, priority)


class Gate:
    """A handler whose jobs run until the test lets them finish."""

    max_attempts = 3

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def run(self, running: Job) -> str | None:
        self.started.append(running.job_id[:1])
        await self.release.wait()
        return None

    async def abandon(self, running: Job, reason: str) -> None:
        raise AssertionError("nothing is abandoned here")


async def until(condition: object) -> None:
    for _ in range(200):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_background_work_never_takes_the_last_free_slot() -> None:
    queue = StoreQueue(MemoryStore())
    for name, created in (("a", 1), ("b", 2)):  # two old background jobs
        await queue.enqueue(job(name, BACKGROUND_PRIORITY, created))
    gate = Gate()
    worker = JobWorker(queue, {"work": gate}, owner="w", concurrency=2, idle_seconds=0.01)
    running = asyncio.create_task(worker.run())
    await until(lambda: gate.started == ["a"])
    await asyncio.sleep(0.1)
    assert gate.started == ["a"]  # "b" waits: the last slot is kept for a person's job
    await queue.enqueue(job("u", USER_PRIORITY, 3))
    await until(lambda: gate.started == ["a", "u"])
    assert not worker.idle.is_set()
    gate.release.set()
    await until(lambda: gate.started == ["a", "u", "b"])
    await until(worker.idle.is_set)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    ended = await queue.get("b".ljust(32, "0"))
    assert ended is not None
    assert ended.state == "done"


async def test_idle_is_not_set_between_one_job_and_the_next() -> None:
    """The process's background work (base-voice measurement) waits for ``idle``: set in the
    gap after a job ended, it went before the clone the worker was about to lease."""
    queue = StoreQueue(MemoryStore())
    for name, created in (("a", 1), ("b", 2)):
        await queue.enqueue(job(name, USER_PRIORITY, created))
    gate = Gate()
    gate.release.set()
    worker = JobWorker(queue, {"work": gate}, owner="w", idle_seconds=0.01)
    running = asyncio.create_task(worker.run())
    await worker.idle.wait()
    assert gate.started == ["a", "b"]  # idle came only once the queue had nothing left
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


async def test_until_idle_for_counts_from_the_last_time_the_queue_was_empty() -> None:
    queue = StoreQueue(MemoryStore())
    gate = Gate()
    gate.release.set()
    worker = JobWorker(queue, {"work": gate}, owner="w", idle_seconds=0.01)
    running = asyncio.create_task(worker.run())
    waiting = asyncio.create_task(worker.until_idle_for(0.5))
    await asyncio.sleep(0.2)
    await queue.enqueue(job("a", USER_PRIORITY, 1))  # a clone posted within the quiet time
    await until(lambda: gate.started == ["a"])
    after_the_job = time.monotonic()
    await waiting
    assert time.monotonic() - after_the_job >= 0.45  # counted again once the queue was empty
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


async def test_held_background_jobs_wait_while_a_persons_job_runs_at_once() -> None:
    queue = StoreQueue(MemoryStore())
    await queue.enqueue(job("b", BACKGROUND_PRIORITY, 1))  # a preview, waiting since the start
    gate = Gate()
    gate.release.set()
    worker = JobWorker(queue, {"work": gate}, owner="w", idle_seconds=0.01)
    worker.hold_background()  # base voices are being measured
    running = asyncio.create_task(worker.run())
    await queue.enqueue(job("u", USER_PRIORITY, 2))
    await until(lambda: gate.started == ["u"])
    await asyncio.sleep(0.1)
    assert gate.started == ["u"]
    worker.release_background()
    await until(lambda: gate.started == ["u", "b"])
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


async def test_a_stopped_worker_releases_its_running_job_at_once() -> None:
    queue = StoreQueue(MemoryStore())
    await queue.enqueue(job("a", USER_PRIORITY, 1))
    gate = Gate()
    worker = JobWorker(queue, {"work": gate}, owner="w", lease_seconds=600, idle_seconds=0.01)
    running = asyncio.create_task(worker.run())
    await until(lambda: gate.started == ["a"])
    running.cancel()  # SIGTERM: the worker stops
    await asyncio.gather(running, return_exceptions=True)
    again = await queue.lease("other", 60)  # not after its 600 s lease: now
    assert again is not None
    assert again.attempts == 2
