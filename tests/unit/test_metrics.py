"""GET /metrics after known requests: names, labels and counts an operator's scraper sees."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.unit.conftest import issue_key, unit_services
from voxhub.api import create_app
from voxhub.domain import Job
from voxhub.engines import EspeakEngine
from voxhub.ids import new_voice_id, public_voice_id
from voxhub.jobs import JobWorker
from voxhub.metrics import PrometheusMetrics
from voxhub.services import Services
from voxhub.services.catalog import sync_catalog
from voxhub.store import MemoryStore

ESPEAK_EN = public_voice_id("espeak", "gmw/en-US")
GET_VOICE = "/v3/voices/{voice_id}"


def client_for(services: Services) -> TestClient:
    @asynccontextmanager
    async def opened() -> Any:
        await services.voices.load_catalog()
        yield services

    return TestClient(create_app(opened), raise_server_exceptions=False)


@pytest.fixture
def measured() -> Services:
    store = MemoryStore()
    asyncio.run(sync_catalog(store, [EspeakEngine()], synced_at=1))
    return unit_services(store, ["espeak"], metrics=PrometheusMetrics())


@pytest.fixture
def client(measured: Services) -> Iterator[TestClient]:
    with client_for(measured) as test_client:
        yield test_client


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(
    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def test_requests_by_route_template_and_status_refusals_and_speech(
    client: TestClient, measured: Services
) -> None:
    key = issue_key(measured, "acme")
    headers = {"x-api-key": key}
    for _ in range(2):
        assert client.get(f"/v3/voices/{ESPEAK_EN}", headers=headers).status_code == 200
    assert client.get(f"/v3/voices/{new_voice_id()}", headers=headers).status_code == 404
    assert client.get("/no/such/path").status_code == 404
    slow = {"x-api-key": issue_key(measured, "slow", rate_limit="1/minute")}
    statuses = [client.get("/v3/voices", headers=slow).status_code for _ in range(3)]
    assert statuses == [200, 429, 429]
    spoken = client.post(
        "/v3/voices/speech", json={"text": "Hello there.", "voice_id": ESPEAK_EN}, headers=headers
    )
    assert spoken.status_code == 200, spoken.text

    scraped = scrape(client)
    requests = "voxhub_http_request_duration_seconds_count"
    assert value(scraped, requests, route=GET_VOICE, method="GET", status="200") == 2
    assert value(scraped, requests, route=GET_VOICE, method="GET", status="404") == 1
    assert value(scraped, requests, route="unmatched", method="GET", status="404") == 1
    assert value(scraped, requests, route="/v3/voices", method="GET", status="429") == 2
    assert value(scraped, requests, route="/v3/voices/speech", method="POST", status="200") == 1
    # latency buckets: every Get Voice answered within the largest bucket
    assert value(scraped, "voxhub_http_request_duration_seconds_bucket",
                 route=GET_VOICE, method="GET", status="200", le="+Inf") == 2  # fmt: skip
    assert not any(voice_id in str(labels) for (_, labels) in scraped for voice_id in [ESPEAK_EN])
    assert value(scraped, "voxhub_rate_limit_refusals_total") == 2
    assert value(scraped, "voxhub_speech_real_time_factor_count", engine="espeak") == 1
    assert value(scraped, "voxhub_speech_audio_seconds_total", engine="espeak") == pytest.approx(
        spoken.json()["data"]["duration"], abs=0.01
    )


class Outcome:
    max_attempts = 3

    async def run(self, job: Job) -> str | None:
        return None if job.payload == '"ok"' else "it failed"

    async def abandon(self, job: Job, reason: str) -> None:
        pass


def test_jobs_by_kind_and_state_and_their_runs(client: TestClient, measured: Services) -> None:
    def enqueue(number: int, payload: str) -> None:
        job = Job(f"{number:032d}", "work", None, None, payload, 1)
        assert asyncio.run(measured.queue.enqueue(job))

    enqueue(1, '"ok"')
    enqueue(2, '"ok"')
    enqueue(3, '"bad"')
    worker = JobWorker(measured.queue, {"work": Outcome()}, owner="t", metrics=measured.metrics)
    assert asyncio.run(worker.run_once())  # one done; two stay queued
    scraped = scrape(client)
    assert value(scraped, "voxhub_jobs", kind="work", state="done") == 1
    assert value(scraped, "voxhub_jobs", kind="work", state="queued") == 2
    assert value(scraped, "voxhub_job_duration_seconds_count", kind="work", outcome="done") == 1
    while asyncio.run(worker.run_once()):
        pass
    scraped = scrape(client)
    assert value(scraped, "voxhub_jobs", kind="work", state="done") == 2
    assert value(scraped, "voxhub_jobs", kind="work", state="failed") == 1
    assert value(scraped, "voxhub_job_duration_seconds_count", kind="work", outcome="failed") == 1


def test_metrics_off_records_nothing_and_answers_404(store: MemoryStore) -> None:
    with client_for(unit_services(store, ["static"])) as off:
        answer = off.get("/metrics")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_a_scrape_answers_while_the_database_is_away(
    client: TestClient, measured: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def away() -> list[tuple[str, str, int]]:
        raise ConnectionError("database down")

    monkeypatch.setattr(measured.store, "count_jobs", away)
    client.get("/healthz")
    scraped = scrape(client)
    labels = frozenset({("route", "/healthz"), ("method", "GET"), ("status", "200")})
    assert scraped[("voxhub_http_request_duration_seconds_count", labels)] == 1
    assert not any(name == "voxhub_jobs" for name, _ in scraped)
