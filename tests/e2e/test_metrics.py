"""GET /metrics through ``voxhub serve`` with several API processes: whichever process answers
the scrape, it counts every process's requests and workers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import VOXHUB, Served, free_port
from voxhub.domain import Job
from voxhub.ids import public_voice_id
from voxhub.store import open_store

pytestmark = pytest.mark.slow

ESPEAK_EN = public_voice_id("espeak", "gmw/en-US")
Serve = Callable[..., Served]


def scrape(base_url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = httpx.get(base_url + "/metrics", timeout=30)  # a new connection each time
    assert answer.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_counts_aggregate_across_api_processes_and_the_job_worker(
    serve: Serve, tmp_path: Path
) -> None:
    served = serve(
        "--data-dir", str(tmp_path),
        env={"VOXHUB_API_PROCESSES": "2", "VOXHUB_SPEECH_WORKERS": "1",
             "VOXHUB_RENDER_PREVIEWS": "false", "VOXHUB_MEASURE_BASE_VOICES": "false"},
    )  # fmt: skip
    headers = {"x-api-key": served.first_key or ""}
    # Each request on a new connection, until both API processes have answered some (a made
    # request id starts with its process's own prefix).
    processes: set[str] = set()
    sent = 0
    while len(processes) < 2 and sent < 400:
        answer = httpx.get(f"{served.base_url}/v3/voices/{ESPEAK_EN}", headers=headers)
        assert answer.status_code == 200
        processes.add(answer.headers["x-request-id"][:16])
        sent += 1
    assert len(processes) == 2, f"one API process answered all {sent} requests"

    get_voice = frozenset(
        {("route", "/v3/voices/{voice_id}"), ("method", "GET"), ("status", "200")}
    )
    count = ("voxhub_http_request_duration_seconds_count", get_voice)
    jobs_pool = ("voxhub_workers", frozenset({("pool", "jobs")}))
    deadline = time.monotonic() + 120
    while True:  # each process writes its requests out within a second; the job worker starts
        scraped = scrape(served.base_url)
        if scraped.get(count) == sent and jobs_pool in scraped:
            break
        assert time.monotonic() < deadline, f"never counted {sent}: {scraped.get(count)}"
        time.sleep(0.5)
    speech_pool = ("voxhub_workers", frozenset({("pool", "speech")}))
    for _ in range(4):  # whichever process answers
        scraped = scrape(served.base_url)
        assert scraped[count] == sent
        assert scraped[speech_pool] == 2
        assert scraped[jobs_pool] == 1

    # An API process dies; uvicorn starts another. The dead one's pool no longer counts.
    (folder,) = (tmp_path / "metrics").iterdir()
    before = live_gauge_writers(folder)
    killed = api_processes(served.process.pid)[0]
    assert killed in before
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while not live_gauge_writers(folder) - before:  # until its successor wrote its pool's size
        assert time.monotonic() < deadline, "no API process replaced the killed one"
        time.sleep(0.5)
    for _ in range(4):
        scraped = scrape(served.base_url)
        assert scraped[speech_pool] == 2
        assert scraped[count] == sent  # its requests still count


def live_gauge_writers(folder: Path) -> set[int]:
    """The processes that wrote live gauges (gauge_livesum_<pid>.db) to the metrics folder."""
    return {int(f.name[len("gauge_livesum_") : -3]) for f in folder.glob("gauge_livesum_*.db")}


def api_processes(server: int) -> list[int]:
    """The API processes uvicorn's supervisor (``voxhub serve``) started."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == server and b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(int(entry.name))
    assert len(found) == 2, found
    return found


def test_a_metrics_port_of_their_own(serve: Serve, tmp_path: Path) -> None:
    port = free_port()
    served = serve(
        "--data-dir", str(tmp_path),
        env={"VOXHUB_METRICS_PORT": str(port), "VOXHUB_RENDER_PREVIEWS": "false",
             "VOXHUB_MEASURE_BASE_VOICES": "false"},
    )  # fmt: skip
    headers = {"x-api-key": served.first_key or ""}
    for _ in range(3):
        answer = httpx.get(f"{served.base_url}/v3/voices/{ESPEAK_EN}", headers=headers)
        assert answer.status_code == 200
    assert httpx.get(served.base_url + "/metrics").status_code == 404  # not on the API port
    get_voice = frozenset(
        {("route", "/v3/voices/{voice_id}"), ("method", "GET"), ("status", "200")}
    )
    count = ("voxhub_http_request_duration_seconds_count", get_voice)
    deadline = time.monotonic() + 60
    while (scraped := scrape(f"http://127.0.0.1:{port}")).get(count) != 3:
        assert time.monotonic() < deadline, f"never counted 3: {scraped.get(count)}"
        time.sleep(0.5)
    asyncio.run(record_job(f"sqlite:///{tmp_path / 'voxhub.db'}"))  # a kind no worker leases
    queued = ("voxhub_jobs", frozenset({("kind", "probe"), ("state", "queued")}))
    assert scrape(f"http://127.0.0.1:{port}")[queued] == 1  # the store's, read at the scrape


async def record_job(database_url: str) -> None:
    store = open_store(database_url)
    await store.open()
    try:
        assert await store.insert_job(Job("f" * 32, "probe", None, None, "{}", 1))
    finally:
        await store.close()


def test_a_standalone_worker_answers_on_its_metrics_port(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "VOXHUB_DATA_DIR": str(tmp_path), "VOXHUB_METRICS_PORT": str(port),
           "VOXHUB_RENDER_PREVIEWS": "false", "VOXHUB_MEASURE_BASE_VOICES": "false"}  # fmt: skip
    worker = subprocess.Popen([VOXHUB, "worker"], env=env, stderr=subprocess.DEVNULL)
    try:
        jobs_pool = ("voxhub_workers", frozenset({("pool", "jobs")}))
        deadline = time.monotonic() + 60
        while True:
            assert worker.poll() is None, "voxhub worker exited"
            try:
                if scrape(f"http://127.0.0.1:{port}").get(jobs_pool) == 1:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the worker never answered on its port"
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
