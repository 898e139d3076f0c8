"""The two job queues on PostgreSQL: the store's own ``jobs`` table against procrastinate.

(a) what an enqueue costs (record + hand-over, one at a time); (b) how long a job waits before a
worker leases it: a JobWorker-like loop polling every ``--poll`` seconds (JobWorker's default
0.5 s) and, for procrastinate, the same loop woken by its LISTEN/NOTIFY; (c) durability: a
worker process SIGKILLed mid-job (is the job leased again, and when), and a worker whose
database connections are terminated mid-job (``pg_terminate_backend``: is the job lost?).

Runs on a fresh database it creates next to ``--database-url`` (and drops at the end).

    python -m bench.queues [--database-url postgresql://postgres@127.0.0.1:5432/test]
                           [--enqueues 500] [--jobs 100] [--poll 0.5] [--lease 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import statistics
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg

from voxhub.domain import USER_PRIORITY, Job
from voxhub.ids import new_voice_id
from voxhub.jobs import JobQueue, JobWorker, StoreQueue, open_queue
from voxhub.jobs.procrastinate import ProcrastinateQueue
from voxhub.store import open_store
from voxhub.store.migrate import upgrade

BACKENDS = ("store", "procrastinate")
WORKER_APP = "voxhub-bench-worker"  # application_name of the worker process's connections


def new_job(kind: str = "bench") -> Job:
    return Job(
        job_id=new_voice_id(),
        kind=kind,
        subject_id=None,
        account_id=None,
        payload="{}",
        created_at=int(time.time() * 1000),
        priority=USER_PRIORITY,
    )


async def open_backend(backend: str, url: str) -> JobQueue:
    store = open_store(url)
    await store.open()
    queue = StoreQueue(store) if backend == "store" else open_queue(url, store)
    await queue.open()
    return queue


async def close_backend(queue: JobQueue) -> None:
    await queue.close()
    await queue.store.close()


def empty(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE jobs")
        if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() != (None,):
            conn.execute(
                "TRUNCATE procrastinate_jobs, procrastinate_workers, procrastinate_events,"
                " procrastinate_periodic_defers"
            )


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- (a) costs --------------------------------------------------------------------------------


async def timed(step: Awaitable[Any]) -> float:
    started = time.perf_counter()
    await step
    return (time.perf_counter() - started) * 1000


async def costs(url: str, enqueues: int) -> dict[str, dict[str, float]]:
    """Both queues open at once and called in turn, so that they share the disk's moods (a
    commit waits for its WAL flush: that is most of an enqueue's time, and it varies)."""
    empty(url)
    queues = {backend: await open_backend(backend, url) for backend in BACKENDS}
    enqueue: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
    idle: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
    try:
        for _ in range(20):  # warm-up
            for queue in queues.values():
                await queue.enqueue(new_job("warm-up"))
        for _ in range(enqueues):
            for backend, queue in queues.items():
                enqueue[backend].append(await timed(queue.enqueue(new_job())))
        empty(url)
        for _ in range(200):  # nothing to lease: what a worker's idle poll costs
            for backend, queue in queues.items():
                idle[backend].append(await timed(queue.lease("bench", 60)))
    finally:
        for queue in queues.values():
            await close_backend(queue)
    return {
        backend: {
            "enqueue_ms": statistics.median(enqueue[backend]),
            "enqueue_p95_ms": quantile(enqueue[backend], 0.95),
            "idle_lease_ms": statistics.median(idle[backend]),
        }
        for backend in BACKENDS
    }


def without_flush_waits(url: str) -> str:
    """The same database, its commits not waiting for the WAL flush (round trips and work)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.urlencode(
        {"options": "-c synchronous_commit=off"}, quote_via=urllib.parse.quote
    )
    return urllib.parse.urlunsplit(parts._replace(query=query))


# -- (b) latency to start ---------------------------------------------------------------------


async def latency(backend: str, url: str, jobs: int, poll: float, listen: bool) -> list[float]:
    """Seconds from an enqueue's call to the lease of its job, over ``jobs`` jobs enqueued at
    random moments (so that they fall anywhere in the poll interval)."""
    empty(url)
    producer = await open_backend(backend, url)
    consumer = await open_backend(backend, url)
    enqueued: dict[str, float] = {}
    leased_at: dict[str, float] = {}

    async def consume() -> None:
        while len(leased_at) < jobs:
            leased = await consumer.lease("bench", 60)
            if leased is None:
                if isinstance(consumer, ProcrastinateQueue) and listen:
                    await consumer.wait_for_job(poll)
                else:
                    await asyncio.sleep(poll)
                continue
            leased_at[leased.job_id] = time.perf_counter()
            await consumer.finish(leased, "bench", "done")

    worker = asyncio.create_task(consume())
    try:
        if isinstance(consumer, ProcrastinateQueue) and listen:
            await consumer.wait_for_job(0.5)  # starts listening
        for _ in range(jobs):
            await asyncio.sleep(random.uniform(0.05, 0.6))
            job = new_job()
            enqueued[job.job_id] = time.perf_counter()
            await producer.enqueue(job)
        await asyncio.wait_for(worker, timeout=30)  # raises what stopped it
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await close_backend(producer)
        await close_backend(consumer)
    return [leased_at[job_id] - at for job_id, at in enqueued.items()]


# -- (c) durability ---------------------------------------------------------------------------


class Worker:
    """A handler for the worker process: says when a job starts and ends, works ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def run(self, job: Job) -> str | None:
        say("start", job.job_id, job.attempts)
        await asyncio.sleep(self.seconds)
        say("end", job.job_id, job.attempts)
        return None

    async def abandon(self, job: Job, reason: str) -> None:
        say("abandon", job.job_id, job.attempts)


def say(event: str, job_id: str, attempts: int) -> None:
    line = {"event": event, "job": job_id, "attempts": attempts, "at": time.time()}
    print(json.dumps(line), flush=True)


async def work(backend: str, url: str, lease: float, seconds: float) -> None:
    """The worker process: a JobWorker with one slot, until killed."""
    queue = await open_backend(backend, url)
    worker = JobWorker(queue, {"bench": Worker(seconds)}, owner=f"bench-{os.getpid()}",
                       lease_seconds=lease)  # fmt: skip
    await worker.run()


@contextlib.asynccontextmanager
async def worker_process(backend: str, url: str, lease: float, seconds: float) -> Any:
    env = dict(os.environ, PGAPPNAME=WORKER_APP)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.queues", "--worker", backend, "--database-url", url,
        "--lease", str(lease), "--work", str(seconds),
        stdout=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def next_event(process: Any, within: float = 60) -> dict[str, Any]:
    line = await asyncio.wait_for(process.stdout.readline(), within)
    if not line:
        raise RuntimeError("the worker process ended")
    event: dict[str, Any] = json.loads(line)
    return event


@dataclass
class Durability:
    killed_again: bool = False
    killed_after_s: float = float("nan")
    killed_attempts: int = 0
    cut_outcome: str = ""
    cut_details: list[str] = field(default_factory=list)


async def sigkill(backend: str, url: str, lease: float, durability: Durability) -> None:
    """Kill -9 a worker two heartbeats into a job; lease until the job comes back."""
    empty(url)
    queue = await open_backend(backend, url)
    try:
        job = new_job()
        await queue.enqueue(job)
        async with worker_process(backend, url, lease, 3600) as process:
            started = await next_event(process)
            assert started["job"] == job.job_id
            await asyncio.sleep(lease * 2 / 3 + 0.2)  # past its second heartbeat
            process.send_signal(signal.SIGKILL)
            killed = time.perf_counter()
        deadline = killed + lease * 4
        while time.perf_counter() < deadline:
            leased = await queue.lease("survivor", lease)
            if leased is not None:
                durability.killed_again = leased.job_id == job.job_id
                durability.killed_after_s = time.perf_counter() - killed
                durability.killed_attempts = leased.attempts
                await queue.finish(leased, "survivor", "done")
                return
            await asyncio.sleep(0.05)
    finally:
        await close_backend(queue)


async def cut_connections(backend: str, url: str, lease: float, durability: Durability) -> None:
    """Terminate every connection of a worker process mid-job; follow the job to its end."""
    empty(url)
    queue = await open_backend(backend, url)
    seconds = lease * 2  # a job of two leases: heartbeats must work after the cut
    try:
        job = new_job()
        await queue.enqueue(job)
        async with worker_process(backend, url, lease, seconds) as process:
            events = [await next_event(process)]
            await asyncio.sleep(seconds / 2)
            with psycopg.connect(url, autocommit=True) as conn:
                cut = conn.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
                    " FROM pg_stat_activity WHERE application_name = %s",
                    (WORKER_APP,),
                ).fetchone()
            cut_at = time.perf_counter()
            deadline = cut_at + seconds + lease * 4
            state = None
            while time.perf_counter() < deadline:
                current = await queue.get(job.job_id)
                state = current.state if current else "lost"
                if state in ("done", "failed"):
                    break
                await asyncio.sleep(0.1)
            with contextlib.suppress(TimeoutError, RuntimeError):
                while True:
                    events.append(await next_event(process, within=0.5))
        ended = await queue.get(job.job_id)
        attempts = ended.attempts if ended else 0
        durability.cut_outcome = f"{state}, {attempts} attempt(s)"
        durability.cut_details = [
            f"{cut[0] if cut else 0} connection(s) cut",
            *(f"{e['event']} #{e['attempts']}" for e in events),
            f"ended {time.perf_counter() - cut_at:.1f} s after the cut",
        ]
    finally:
        await close_backend(queue)


# -- the run ----------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(url: str) -> Iterator[str]:
    name = f"voxhub_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    fresh = urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{name}"))
    try:
        upgrade(fresh)
        yield fresh
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def measure(url: str, args: argparse.Namespace) -> None:
    results: dict[str, dict[str, Any]] = await costs(url, args.enqueues)
    unflushed = await costs(without_flush_waits(url), args.enqueues)
    print(f"costs {results}, without flush waits {unflushed}", file=sys.stderr)
    for backend in BACKENDS:
        row = results[backend]
        row["enqueue_nosync_ms"] = unflushed[backend]["enqueue_ms"]
        row["poll"] = await latency(backend, url, args.jobs, args.poll, listen=False)
        if backend == "procrastinate":
            row["listen"] = await latency(backend, url, args.jobs, args.poll, listen=True)
        durability = Durability()
        await sigkill(backend, url, args.lease, durability)
        await cut_connections(backend, url, args.lease, durability)
        row["durability"] = durability
        print(f"{backend}: {durability}", file=sys.stderr)
    print_table(results, args)


def waits(values: list[float] | None) -> str:
    if not values:
        return "-"
    ms = [v * 1000 for v in values]
    return f"{statistics.median(ms):.0f} / {quantile(ms, 0.95):.0f}"


def print_table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    store, engine = results["store"], results["procrastinate"]
    rows = [
        (f"enqueue, median ms ({args.enqueues} jobs)", "enqueue_ms", "{:.2f}"),
        ("enqueue, p95 ms", "enqueue_p95_ms", "{:.2f}"),
        (
            "enqueue, median ms, commits not waiting for the WAL flush",
            "enqueue_nosync_ms",
            "{:.2f}",
        ),
        ("lease when nothing waits (an idle poll), median ms", "idle_lease_ms", "{:.2f}"),
    ]
    print("\n| PostgreSQL 1 node, same database | store queue | procrastinate |")
    print("|---|---|---|")
    for label, key, fmt in rows:
        print(f"| {label} | {fmt.format(store[key])} | {fmt.format(engine[key])} |")
    label = f"enqueue → lease, polling every {args.poll} s: median / p95 ms ({args.jobs} jobs)"
    print(f"| {label} | {waits(store['poll'])} | {waits(engine['poll'])} |")
    label = f"enqueue → lease, LISTEN/NOTIFY (poll {args.poll} s as fallback): median / p95 ms"
    print(f"| {label} | - | {waits(engine.get('listen'))} |")
    kill: list[str] = []
    for row in (store, engine):
        d: Durability = row["durability"]
        kill.append(
            f"yes, {d.killed_after_s:.1f} s after the kill (attempt {d.killed_attempts})"
            if d.killed_again
            else "no"
        )
    label = f"worker SIGKILLed mid-job (lease {args.lease} s): job leased again?"
    print(f"| {label} | {kill[0]} | {kill[1]} |")
    cells = [
        f"{r['durability'].cut_outcome} ({'; '.join(r['durability'].cut_details)})"
        for r in (store, engine)
    ]
    print(f"| worker's connections terminated mid-job: the job | {cells[0]} | {cells[1]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "VOXHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--enqueues", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=float, default=3600, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:  # the worker process of (c)
        asyncio.run(work(args.worker, args.database_url, args.lease, args.work))
        return
    with fresh_database(args.database_url) as url:
        asyncio.run(measure(url, args))


if __name__ == "__main__":
    main()
