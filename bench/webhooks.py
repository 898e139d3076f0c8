"""Webhook deliveries per second from one job worker to a receiver on loopback.

Events are set off the way clones set them off (a processing clone settled with its outbox, in
one transaction, on SQLite), then one delivery JobWorker — as `voxhub worker` runs it — drains
them to a bare ASGI receiver in a process of its own, at several concurrencies.

    python -m bench.webhooks [--events 300] [--concurrency 1 8 32]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import socket
import sqlite3
import tempfile
import time
from pathlib import Path

import uvicorn
from tests.conftest import private_voice

from voxhub.container import build_services
from voxhub.domain import Account, Job
from voxhub.ids import new_voice_id
from voxhub.jobs import JobWorker, StoreQueue
from voxhub.services import Services
from voxhub.services.webhooks import WEBHOOK_JOB
from voxhub.settings import load_settings
from voxhub.storage import MemoryStorage
from voxhub.store import open_store
from voxhub.store.migrate import upgrade
from voxhub.workers import InlineRunner


async def _receiver(scope: dict[str, object], receive: object, send: object) -> None:
    if scope["type"] != "http":
        return
    while (await receive())["more_body"]:  # type: ignore[operator]
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


def _serve(port: int) -> None:
    uvicorn.run(_receiver, host="127.0.0.1", port=port, log_level="error", lifespan="off")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def services_on(directory: Path) -> Services:
    url = f"sqlite:///{directory / 'bench.db'}"
    upgrade(url)
    store = open_store(url)
    await store.open()
    settings = load_settings(
        environ={
            "VOXHUB_DATA_DIR": str(directory),
            "VOXHUB_FILE_SECRET": "bench",
            "VOXHUB_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
        }
    )
    return build_services(
        settings, store, MemoryStorage(), InlineRunner(), StoreQueue(store), engine_names=[]
    )


async def set_off(services: Services, account_id: str, events: int) -> list[Job]:
    """Clone outcomes as clones write them: voice settled, event and delivery in one go."""
    jobs: list[Job] = []
    for _ in range(events):
        voice = private_voice(account_id)
        job = Job(new_voice_id(), "clone", voice.voice_id, account_id, "{}", 1)
        await services.store.insert_voice_with_job(voice, job, updated_at=1)
        failed = dataclasses.replace(voice, status="failed", failure_message="bench")
        written = await services.store.settle_voice(
            failed, 2, services.webhooks.clone_outbox(failed)
        )
        jobs.extend(written or [])
    return jobs


def delivered(directory: Path) -> int:
    with sqlite3.connect(directory / "bench.db") as db:
        row = db.execute("SELECT COUNT(*) FROM webhook_deliveries WHERE state <> 'pending'")
        return int(row.fetchone()[0])


async def drain(services: Services, directory: Path, concurrency: int, expected: int) -> float:
    worker = JobWorker(
        services.queue,
        {WEBHOOK_JOB: services.webhooks},
        owner="bench",
        concurrency=concurrency,
        idle_seconds=0.01,
    )
    started = time.perf_counter()
    running = asyncio.create_task(worker.run())
    while delivered(directory) < expected:  # noqa: ASYNC110 - the database says when
        await asyncio.sleep(0.02)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    return expected / (time.perf_counter() - started)


async def main(args: argparse.Namespace) -> None:
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,))
    server.start()
    await asyncio.sleep(2)
    rows = []
    try:
        for concurrency in args.concurrency:
            with tempfile.TemporaryDirectory() as directory:
                services = await services_on(Path(directory))
                owner = await services.store.get_or_create_account(Account("b" * 32, "bench", 1))
                await services.webhooks.create_endpoint(
                    owner.account_id, f"http://127.0.0.1:{port}/hook", None
                )
                jobs = await set_off(services, owner.account_id, args.events)
                rate = await drain(services, Path(directory), concurrency, len(jobs))
                rows.append((concurrency, len(jobs), rate))
                await services.store.close()
    finally:
        server.terminate()
        server.join()
    print("| concurrency | deliveries | deliveries/s |")
    print("|---|---|---|")
    for concurrency, count, rate in rows:
        print(f"| {concurrency} | {count} | {rate:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    asyncio.run(main(parser.parse_args()))
