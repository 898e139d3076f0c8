"""The speech worker pool with real processes: replaced when killed, refusing when full."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.integration.jobs import die, pid, sleep_then_pid
from voxhub.errors import WorkerFailed, WorkersBusy
from voxhub.workers import WorkerPool

pytestmark = pytest.mark.anyio


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    pool = WorkerPool(1, 1, timeout_seconds=20)
    try:
        yield pool
    finally:
        pool.close()


async def test_a_job_runs_in_another_process(pool: WorkerPool) -> None:
    import os

    assert await pool.run(pid) != os.getpid()


async def test_a_worker_killed_mid_job_fails_that_job_once_and_is_replaced(
    pool: WorkerPool,
) -> None:
    first = await pool.run(pid)
    with pytest.raises(WorkerFailed):
        await pool.run(die)
    replacement = await pool.run(pid)
    assert replacement != first
    assert pool.in_flight == 0


async def test_a_full_pool_refuses_at_once_with_a_retry_after(pool: WorkerPool) -> None:
    await pool.run(pid)  # started
    running = asyncio.ensure_future(pool.run(sleep_then_pid, 2.0))
    queued = asyncio.ensure_future(pool.run(sleep_then_pid, 0.0))
    await asyncio.sleep(0.1)
    with pytest.raises(WorkersBusy) as refused:
        await pool.run(pid)
    assert refused.value.retry_after >= 1
    assert refused.value.code == "rate_limit_exceeded"
    assert not running.done()  # refused while the others were still waiting
    await asyncio.gather(running, queued)
    assert await pool.run(pid) > 0  # and room again once they finished


async def test_a_job_over_its_time_limit_is_stopped() -> None:
    pool = WorkerPool(1, 0, timeout_seconds=0.5)
    try:
        with pytest.raises(WorkerFailed):
            await pool.run(sleep_then_pid, 30.0)
        assert await pool.run(pid) > 0
    finally:
        pool.close()


async def test_the_event_loop_runs_while_a_job_does(pool: WorkerPool) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.ensure_future(tick())
    await pool.run(pid)
    ticks_before = ticks
    await pool.run(sleep_then_pid, 1.0)
    ticker.cancel()
    assert ticks - ticks_before > 10  # a blocked loop would not have ticked at all


async def test_a_worker_killed_while_idle_does_not_break_the_pool(pool: WorkerPool) -> None:
    import os
    import signal

    idle = await pool.run(pid)
    os.kill(idle, signal.SIGKILL)
    await asyncio.sleep(0.5)  # pebble notices, and gives up on its pool
    assert await pool.run(pid) not in (idle, os.getpid())


async def test_background_work_gives_way_to_requests_and_never_fills_the_pool() -> None:
    pool = WorkerPool(1, 0, timeout_seconds=20, background_quiet_seconds=0)
    try:
        await pool.run(pid)  # started
        request = asyncio.ensure_future(pool.run(sleep_then_pid, 1.0))
        await asyncio.sleep(0.1)
        background = asyncio.ensure_future(pool.run_background(sleep_then_pid, 1.0))
        await asyncio.sleep(0.3)
        assert pool.in_flight == 1  # the background job waits for the request's to end
        await request
        await asyncio.sleep(0.3)
        assert not background.done()
        # while background work runs, a request is taken (queued behind it), not refused
        assert await pool.run(pid) > 0
        assert background.done()
    finally:
        pool.close()


async def test_background_work_waits_for_a_quiet_moment_after_a_request() -> None:
    """A server's first requests come right after it is ready: background work that loads a
    model then would hold them up."""
    pool = WorkerPool(1, 0, timeout_seconds=20, background_quiet_seconds=3.0)
    try:
        await pool.run(pid)  # a request's job has just ended
        background = asyncio.ensure_future(pool.run_background(pid))
        await asyncio.sleep(0.5)
        assert pool.in_flight == 0  # not begun: the last request was under 3 s ago
        assert await asyncio.wait_for(background, 60) > 0
    finally:
        pool.close()
