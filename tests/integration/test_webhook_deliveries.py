"""Webhook deliveries to a real receiver on loopback: signed, retried, bounded, never lost.

The clone outcomes that set the events off are real: a silent sample fails its clone job
("voice_clone.fail") through the same job worker the service runs.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.audio_fixtures import wav_bytes
from voxhub.container import build_services
from voxhub.domain import Account
from voxhub.engines import EspeakEngine
from voxhub.jobs import JobWorker, StoreQueue
from voxhub.services import Services
from voxhub.services.catalog import sync_catalog
from voxhub.services.clones import CLONE_JOB, CloneRequest
from voxhub.services.webhooks import WEBHOOK_JOB
from voxhub.settings import load_settings
from voxhub.storage import MemoryStorage
from voxhub.store import open_store
from voxhub.store.migrate import upgrade
from voxhub.webhooks import verify
from voxhub.workers import InlineRunner

pytestmark = pytest.mark.anyio
TIMEOUT = 1.0


class Receiver:
    """A webhook receiver: answers each POST by the next item of ``plan`` (a status, or
    "hang"), then 200; keeps every request."""

    def __init__(self) -> None:
        self.plan: list[int | str] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.url = ""

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        self.received.append((dict(request.headers), body))
        answer = self.plan.pop(0) if self.plan else 200
        if answer == "hang":
            await asyncio.sleep(30)
            answer = 200
        return Response(b"ok" * 2000, status_code=int(answer))


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    app = Starlette(routes=[Route("/hook", made.hook, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    made.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield made
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
async def services(tmp_path: Path, receiver: Receiver) -> AsyncIterator[Services]:
    receiver.plan.clear()
    receiver.received.clear()
    url = f"sqlite:///{tmp_path / 'hooks.db'}"
    upgrade(url)
    store = open_store(url)
    await store.open()
    settings = load_settings(
        environ={
            "VOXHUB_DATA_DIR": str(tmp_path),
            "VOXHUB_FILE_SECRET": "hooks-test",
            "VOXHUB_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
            "VOXHUB_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT),
            "VOXHUB_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
            "VOXHUB_WEBHOOK_MAX_ATTEMPTS": "6",
            "VOXHUB_WEBHOOK_DISABLE_AFTER": "8",
            "VOXHUB_PUBLIC_URL": "https://voice.example.com",
        }
    )
    engines = ["espeak"]
    await sync_catalog(store, [EspeakEngine()], synced_at=1)
    built = build_services(
        settings, store, MemoryStorage(), InlineRunner(), StoreQueue(store), engine_names=engines
    )
    await built.voices.load_catalog()
    try:
        yield built
    finally:
        await store.close()


async def account(services: Services) -> str:
    made = await services.store.get_or_create_account(Account("h" * 32, "hooks", 1))
    return made.account_id


async def failed_clone(services: Services, account_id: str) -> str:
    """A clone of a silent sample, run to its end: it fails, and so sets off voice_clone.fail."""
    silence = wav_bytes(np.zeros(16000 * 4, np.float32), 16000)
    request = CloneRequest("quiet", "base64", base64.b64encode(silence).decode(), "audio/wav")
    voice_id = await services.clones.create(account_id, request)
    clones = JobWorker(services.queue, {CLONE_JOB: services.clones}, owner="cpu")
    assert await clones.run_once()
    return voice_id


def delivery_worker(services: Services, lease: float = 2.0) -> JobWorker:
    return JobWorker(
        services.queue,
        {WEBHOOK_JOB: services.webhooks},
        owner="io",
        lease_seconds=lease,
        concurrency=4,
        idle_seconds=0.02,
    )


async def run_until(worker: JobWorker, done: Any, seconds: float = 20.0) -> None:
    """Run the worker until ``done()``, then until the job that made it so has ended (the
    receiver has an attempt before the worker records it)."""
    running = asyncio.create_task(worker.run())
    try:
        deadline = time.monotonic() + seconds
        while not done() or worker.busy:
            assert time.monotonic() < deadline, "the delivery never came, or never ended"
            await asyncio.sleep(0.02)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_clone_outcome_is_delivered_signed_to_the_receiver(
    services: Services, receiver: Receiver
) -> None:
    owner = await account(services)
    endpoint, secret = await services.webhooks.create_endpoint(owner, receiver.url, None)
    voice_id = await failed_clone(services, owner)
    await run_until(delivery_worker(services), lambda: receiver.received)
    headers, body = receiver.received[0]
    event = verify(body, headers, secret)  # the receiver's own check, as the README shows
    assert event["event_type"] == "voice_clone.fail"
    data = event["event_data"]
    assert (data["voice_id"], data["status"]) == (voice_id, "failed")
    assert "silent" in data["failure_message"]
    assert set(data) >= {"name", "language", "preview_audio_url", "support_pause", "created_at"}
    page = await services.webhooks.list_events(owner, None, voice_id, 10, None)
    [(listed, deliveries)] = page.events
    assert listed.event_id == headers["heygen-event-id"]
    assert [(d.endpoint_id, d.state, d.attempts, d.last_status_code) for d in deliveries] == [
        (endpoint.endpoint_id, "delivered", 1, 200)
    ]


async def test_a_receiver_failing_three_times_gets_the_same_event_the_fourth(
    services: Services, receiver: Receiver
) -> None:
    owner = await account(services)
    await services.webhooks.create_endpoint(owner, receiver.url, ["voice_clone.fail"])
    receiver.plan = [500, 503, 404]
    await failed_clone(services, owner)
    await run_until(delivery_worker(services), lambda: len(receiver.received) == 4)
    ids = {headers["heygen-event-id"] for headers, _ in receiver.received}
    bodies = {body for _, body in receiver.received}
    assert len(ids) == 1
    assert len(bodies) == 1
    page = await services.webhooks.list_events(owner, None, None, 10, None)
    [(_, [delivery])] = page.events
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 4, 200)


async def test_a_hanging_receiver_holds_no_worker_past_the_timeout(
    services: Services, receiver: Receiver
) -> None:
    owner = await account(services)
    await services.webhooks.create_endpoint(owner, receiver.url, None)
    receiver.plan = ["hang"]
    started = time.monotonic()
    await failed_clone(services, owner)
    await run_until(delivery_worker(services), lambda: len(receiver.received) == 2)
    assert time.monotonic() - started < TIMEOUT + 15  # the hang is 30 s
    page = await services.webhooks.list_events(owner, None, None, 10, None)
    [(_, [delivery])] = page.events
    assert (delivery.state, delivery.attempts) == ("delivered", 2)


async def test_a_clone_ended_with_no_endpoint_makes_no_delivery(
    services: Services, receiver: Receiver
) -> None:
    owner = await account(services)
    await failed_clone(services, owner)
    worker = delivery_worker(services)
    assert await worker.run_once() is False
    assert receiver.received == []


async def test_a_worker_dying_between_outcome_and_delivery_loses_nothing(
    services: Services, receiver: Receiver
) -> None:
    owner = await account(services)
    _, secret = await services.webhooks.create_endpoint(owner, receiver.url, None)
    await failed_clone(services, owner)
    # a worker takes the delivery and dies (no heartbeat, no end): its lease runs out
    taken = await services.queue.lease("dead-worker", 1.0, kinds={WEBHOOK_JOB})
    assert taken is not None
    await run_until(delivery_worker(services, lease=1.0), lambda: receiver.received)
    headers, body = receiver.received[0]
    assert verify(body, headers, secret)["event_type"] == "voice_clone.fail"
    assert len(receiver.received) == 1


async def test_an_endpoint_that_keeps_failing_is_disabled_until_enabled_again(
    services: Services, receiver: Receiver
) -> None:
    owner = await account(services)
    endpoint, _ = await services.webhooks.create_endpoint(owner, receiver.url, None)
    receiver.plan = [500] * 8
    await failed_clone(services, owner)
    await run_until(delivery_worker(services), lambda: len(receiver.received) == 6)
    page = await services.webhooks.list_events(owner, None, None, 10, None)
    [(_, [given_up])] = page.events
    assert (given_up.state, given_up.attempts) == ("failed", 6)  # max attempts
    await failed_clone(services, owner)  # two more failures: 8 in a row
    await run_until(delivery_worker(services), lambda: len(receiver.received) == 8)
    found = await services.webhooks.get_endpoint(owner, endpoint.endpoint_id)
    assert found.status == "disabled"
    enabled = await services.webhooks.update_endpoint(owner, endpoint.endpoint_id, status="enabled")
    assert (enabled.status, enabled.failures) == ("enabled", 0)


async def test_after_a_rotation_both_secrets_sign_for_the_grace_period(
    services: Services, receiver: Receiver
) -> None:
    owner = await account(services)
    endpoint, old = await services.webhooks.create_endpoint(owner, receiver.url, None)
    new = await services.webhooks.rotate_secret(owner, endpoint.endpoint_id)
    await failed_clone(services, owner)
    await run_until(delivery_worker(services), lambda: receiver.received)
    headers, body = receiver.received[0]
    assert headers["heygen-signature"].count(",") == 1
    assert verify(body, headers, new)["event_type"] == "voice_clone.fail"
    assert verify(body, headers, old)["event_type"] == "voice_clone.fail"
    rotated = await services.webhooks.get_endpoint(owner, endpoint.endpoint_id)
    expired = dataclasses.replace(rotated, previous_secret_until=1)
    await services.store.update_webhook_endpoint(expired)
    receiver.received.clear()
    await failed_clone(services, owner)
    await run_until(delivery_worker(services), lambda: receiver.received)
    headers, _ = receiver.received[0]
    assert "," not in headers["heygen-signature"]
