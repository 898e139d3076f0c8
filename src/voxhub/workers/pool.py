"""A pool of worker processes for audio and model work (pebble's ProcessPool).

Requests never synthesize on their event loop: they hand a job to the pool and await it. A
worker that dies mid-job is replaced by the pool and only that job fails (WorkerFailed, once);
a job that overruns its time limit has its worker killed the same way. When every worker is
busy and the queue is full, a job is refused at once with WorkersBusy (429) and a Retry-After
estimated from recent job times, rather than waiting into a client's timeout.

Background work (``run_background``: warming caches no request waits for) starts only while no
request's job is in flight, a worker is free and no request has come or gone for
``background_quiet_seconds`` (from the pool's start too: a server's first requests come right
after it is ready, and a background job that loads a model would hold them up). It never counts
against the requests' capacity: a request waits behind at most the one background job each
worker is running.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

import pebble
from pebble import ProcessExpired

from voxhub.errors import WorkerFailed, WorkersBusy
from voxhub.metrics import NO_METRICS, Metrics

__all__ = ["InlineRunner", "JobRunner", "WorkerPool"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class JobRunner(Protocol):
    """Runs a picklable function with picklable arguments away from the event loop."""

    @property
    def in_flight(self) -> int:
        """Jobs running or waiting."""

    async def run(self, function: Callable[..., T], *args: Any) -> T: ...

    async def run_background(self, function: Callable[..., T], *args: Any) -> T:
        """As ``run``, for work no request waits for: it gives way to requests' jobs."""

    def close(self) -> None: ...


class InlineRunner:
    """The in-process twin of WorkerPool, for unit tests: runs jobs in a thread."""

    def __init__(self) -> None:
        self.jobs = 0
        self.in_flight = 0

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        self.jobs += 1
        self.in_flight += 1
        try:
            return await asyncio.to_thread(function, *args)
        finally:
            self.in_flight -= 1

    async def run_background(self, function: Callable[..., T], *args: Any) -> T:
        return await self.run(function, *args)

    def close(self) -> None:
        pass


class WorkerPool:
    def __init__(
        self,
        workers: int,
        queue: int,
        *,
        timeout_seconds: float,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        name: str = "speech",
        metrics: Metrics = NO_METRICS,
        background_quiet_seconds: float = 2.0,
    ) -> None:
        self.name = name
        self._metrics = metrics
        self.workers = workers
        self.capacity = workers + queue
        self._timeout = timeout_seconds
        self._in_flight = 0
        self._background_in_flight = 0
        self._settled: asyncio.Event | None = None  # set whenever a job ends
        self._quiet_seconds = background_quiet_seconds
        self._last_request = time.monotonic()  # a request's job began or ended (or the pool began)
        self._typical_seconds = 1.0
        self._initializer = initializer
        self._initargs = initargs
        self._pool = self._new_pool()
        self._report()

    def _report(self) -> None:
        busy = min(self._in_flight, self.workers)
        self._metrics.pool(self.name, self.workers, busy, self._in_flight - busy)

    def _new_pool(self) -> pebble.ProcessPool:
        # spawn: a fork of a process running an event loop and threads is not safe.
        return pebble.ProcessPool(
            max_workers=self.workers,
            initializer=self._initializer,
            initargs=self._initargs,
            context=multiprocessing.get_context("spawn"),
        )

    def _replace_pool(self) -> None:
        """pebble gives up on the whole pool when a worker dies while idle ("All workers
        expired"); start a new one rather than refusing every job from then on."""
        log.error("the worker pool broke (a worker died while idle); starting a new one")
        self._metrics.worker_restart(self.name, "pool_broken")
        broken, self._pool = self._pool, self._new_pool()
        broken.stop()  # type: ignore[no-untyped-call]

    def _schedule(self, function: Callable[..., T], args: tuple[Any, ...]) -> Any:
        try:
            return self._pool.schedule(function, args, timeout=self._timeout)
        except RuntimeError:  # "Unexpected error within the Pool": it is broken
            self._replace_pool()
            return self._pool.schedule(function, args, timeout=self._timeout)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        requests = self._in_flight - self._background_in_flight
        if requests >= self.capacity:
            waves = math.ceil((requests + 1) / self.workers)
            retry = math.ceil(self._typical_seconds * waves)
            self._metrics.pool_refusal(self.name)
            raise WorkersBusy(retry, f"Every speech worker is busy. Retry in {retry} seconds.")
        self._last_request = time.monotonic()
        try:
            return await self._run(function, args)
        finally:
            self._last_request = time.monotonic()

    async def run_background(self, function: Callable[..., T], *args: Any) -> T:
        if self._settled is None:
            self._settled = asyncio.Event()
        while True:
            if self._in_flight > self._background_in_flight or self._in_flight >= self.workers:
                self._settled.clear()
                await self._settled.wait()
                continue
            quiet_for = self._quiet_seconds - (time.monotonic() - self._last_request)
            if quiet_for <= 0:
                break
            await asyncio.sleep(quiet_for)
        self._background_in_flight += 1
        try:
            return await self._run(function, args)
        finally:
            self._background_in_flight -= 1

    async def _run(self, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        self._in_flight += 1
        self._report()
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            future = self._schedule(function, args)
            result: T = await asyncio.wrap_future(future)
        except ProcessExpired as exc:
            log.error("worker process died during a job", extra={"exit_code": exc.exitcode})
            self._metrics.worker_restart(self.name, "died")
            raise WorkerFailed() from exc
        except BrokenProcessPool as exc:
            self._replace_pool()
            raise WorkerFailed() from exc
        except FutureTimeout as exc:
            log.error("worker job overran its time limit; worker replaced")
            self._metrics.worker_restart(self.name, "timeout")
            raise WorkerFailed() from exc
        finally:
            self._in_flight -= 1
            self._report()
            if self._settled is not None:
                self._settled.set()
        elapsed = loop.time() - started
        self._typical_seconds = 0.8 * self._typical_seconds + 0.2 * elapsed
        return result

    def close(self) -> None:
        self._pool.stop()  # type: ignore[no-untyped-call]
        self._pool.join(timeout=10)
