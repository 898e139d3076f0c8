"""Work a process does besides answering requests, as coroutines that run until cancelled.

API processes: purge expired speech files and direct uploads never completed, pick up
previews the job workers render, write out the requests' metrics, and embed the voices'
descriptions for Design a Voice.
Job worker processes: run jobs, enqueue the public voices' previews, measure base voices while
idle, and hand over jobs whose dispatch was lost (a task engine's outbox).
"""

from __future__ import annotations

import asyncio
import logging

from voxhub.jobs import JobQueue, JobWorker
from voxhub.metrics import FLUSH_INTERVAL_SECONDS, Metrics
from voxhub.services.registry import Services

__all__ = [
    "PURGE_INTERVAL_SECONDS",
    "RECOVER_INTERVAL_SECONDS",
    "api_tasks",
    "worker_tasks",
]

log = logging.getLogger(__name__)
PURGE_INTERVAL_SECONDS = 3600
RECOVER_INTERVAL_SECONDS = 30
IDLE_BEFORE_MEASURING_SECONDS = 5.0


def api_tasks(services: Services) -> list[asyncio.Task[None]]:
    tasks = [asyncio.create_task(_purge_expired(services))]
    if services.design is not None:
        tasks.append(asyncio.create_task(_warm_design(services)))
    if services.render_previews:
        tasks.append(asyncio.create_task(services.previews.watch()))
    if services.metrics.enabled:
        tasks.append(asyncio.create_task(_flush_metrics(services.metrics)))
    return tasks


def worker_tasks(
    services: Services, queue: JobQueue, worker: JobWorker, *, measure: bool
) -> list[asyncio.Task[None]]:
    tasks = [
        asyncio.create_task(worker.run()),
        asyncio.create_task(_recover(queue)),
    ]
    if services.render_previews:
        tasks.append(asyncio.create_task(_enqueue_previews(services, queue)))
        tasks.append(asyncio.create_task(_enqueue_measurements(services, queue)))
    if measure:
        worker.hold_background()  # English base voices are measured before previews render
        tasks.append(asyncio.create_task(_measure_base_voices(services, worker)))
    return tasks


async def _flush_metrics(metrics: Metrics) -> None:
    try:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_SECONDS)
            metrics.flush()
    finally:
        metrics.flush()  # the last requests of a process that stops


async def _purge_expired(services: Services) -> None:
    while True:
        try:
            await services.speech.purge_expired()
        except Exception:
            log.exception("could not purge expired speech files")
        try:
            await services.uploads.purge_expired()
        except Exception:
            log.exception("could not remove direct uploads never completed")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


async def _enqueue_previews(services: Services, queue: JobQueue) -> None:
    try:
        added = await services.previews.enqueue_missing(queue)
    except Exception:  # the next start tries again
        log.exception("could not enqueue the previews")
        return
    log.info("preview jobs enqueued", extra={"new": added})


async def _warm_design(services: Services) -> None:
    """Design a Voice: embed the voices' descriptions before the first request needs them."""
    if services.design is None:
        return
    try:
        await services.design.keep_warm()
    except Exception:  # requests embed what is missing
        log.exception("could not embed the voices' descriptions ahead of requests")
        return
    log.info("every public voice's measurements are embedded for Design a Voice")


async def _enqueue_measurements(services: Services, queue: JobQueue) -> None:
    """Design a Voice: measure the public voices whose previews were rendered before."""
    if services.design is None:
        return
    try:
        added = await services.design.enqueue_missing(queue)
    except Exception:  # the next start tries again
        log.exception("could not enqueue the voices' measurements")
        return
    log.info("voice measurement jobs enqueued", extra={"new": added})


async def _measure_base_voices(services: Services, worker: JobWorker) -> None:
    """Measure once the job worker has had nothing to do for a few seconds (a clone posted
    right after a start goes first): a clone measures what it needs itself, this saves it the
    wait; one voice at a time, so a clone arriving waits for one voice at most. The worker
    holds background jobs (previews, hundreds at a first start) until English is measured:
    a person's first clone comes minutes after a start more often than seconds."""
    try:
        measured = await services.clones.measure_base_voices(
            lambda: worker.until_idle_for(IDLE_BEFORE_MEASURING_SECONDS),
            worker.release_background,
        )
    except Exception:
        log.exception("could not measure the base voices ahead of clones")
        return
    finally:
        worker.release_background()
    log.info("base voices measured for cloning", extra={"voices": measured})


async def _recover(queue: JobQueue) -> None:
    while True:
        try:
            handed = await queue.recover()
            if handed:
                log.warning("jobs whose dispatch was lost were handed over", extra={"jobs": handed})
        except Exception:
            log.exception("could not recover jobs")
        await asyncio.sleep(RECOVER_INTERVAL_SECONDS)
