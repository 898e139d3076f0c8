"""A webhook as a user sets one up, with the job worker SIGKILLed while the delivery is in
flight: `voxhub serve` starts the worker again and the event still arrives, same id, signed."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.audio_fixtures import wav_bytes
from tests.e2e.conftest import Served, start_server
from tests.e2e.test_speech import _processes
from voxhub.webhooks import verify

pytestmark = pytest.mark.slow


class HangingOnce:
    """Holds the first delivery (until the test ends); answers the others 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.release = threading.Event()

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        self.received.append((dict(request.headers), body))
        if len(self.received) == 1:
            await asyncio.to_thread(self.release.wait, 300)
        return Response("ok")


@pytest.fixture
def receiver() -> Iterator[tuple[HangingOnce, str]]:
    made = HangingOnce()
    app = Starlette(routes=[Route("/hook", made.hook, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield made, f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    made.release.set()
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def job_worker(served: Served) -> int:
    """The `voxhub worker` process `voxhub serve` started."""
    for pid, (parent, cmdline) in _processes().items():
        if parent == served.process.pid and b"voxhub\x00worker" in cmdline:
            return pid
    raise AssertionError("no job worker process")


def kill_with_children(pid: int) -> None:
    below = [p for p, (parent, _) in _processes().items() if parent == pid]
    for victim in [pid, *below]:
        os.kill(victim, signal.SIGKILL)


def wait_for(condition: object, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_delivery_in_flight_when_the_worker_is_killed_still_arrives(
    tmp_path: Path, receiver: tuple[HangingOnce, str]
) -> None:
    hook, url = receiver
    env = {
        "VOXHUB_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
        "VOXHUB_RENDER_PREVIEWS": "false",
        "VOXHUB_MEASURE_BASE_VOICES": "false",
        "VOXHUB_CLONE_LEASE_SECONDS": "2",
        "VOXHUB_WEBHOOK_TIMEOUT_SECONDS": "60",
    }
    served = start_server("--data-dir", str(tmp_path), env=env)
    try:
        headers = {"x-api-key": served.first_key or ""}
        base = served.base_url
        created = httpx.post(
            f"{base}/v3/webhooks/endpoints",
            json={"url": url, "events": ["voice_clone.fail"]},
            headers=headers,
        )
        assert created.status_code == 200, created.text
        secret = created.json()["data"]["secret"]
        silence = base64.b64encode(wav_bytes(np.zeros(16000 * 4, np.float32), 16000)).decode()
        body = {"voice_name": "quiet", "audio": {"type": "base64", "media_type": "audio/wav",
                                                  "data": silence}}  # fmt: skip
        voice_id = httpx.post(f"{base}/v3/voices/clone", json=body, headers=headers).json()["data"][
            "voice_clone_id"
        ]
        wait_for(lambda: hook.received)  # the delivery is in flight, held by the receiver
        first_worker = job_worker(served)
        kill_with_children(first_worker)
        wait_for(lambda: len(hook.received) == 2)  # a new worker, after the lease
        assert job_worker(served) != first_worker
        (first_headers, first_body), (again_headers, again_body) = hook.received
        assert first_headers["heygen-event-id"] == again_headers["heygen-event-id"]
        assert first_body == again_body
        event = verify(again_body, again_headers, secret)
        assert (event["event_type"], event["event_data"]["voice_id"]) == (
            "voice_clone.fail", voice_id,
        )  # fmt: skip

        def delivered() -> bool:
            events = httpx.get(f"{base}/v3/webhooks/events", headers=headers).json()["data"]
            return bool(events) and events[0]["deliveries"][0]["state"] == "delivered"

        wait_for(delivered, 30)
        events = httpx.get(f"{base}/v3/webhooks/events", headers=headers).json()["data"]
        assert events[0]["deliveries"][0]["attempts"] == 2
    finally:
        hook.release.set()
        served.stop()
