"""Scale-out as an operator runs it: two API processes and two job workers, each a separate
process tree with its own data directory (as if on its own host), sharing PostgreSQL, Redis
and an S3 server. Clones posted to either API process are run by either worker and shown by
both; a worker killed mid-job and an API process killed are restarted and nothing is lost."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx2 as httpx
import psycopg
import pytest

from tests import s3server
from tests.audio_fixtures import other_speaker
from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import VOXHUB, Served, start_server

s3_server = s3server.s3_server
pytestmark = pytest.mark.slow

CLONES = 20
LEASE_SECONDS = 3


@pytest.fixture
def cluster_environment(
    s3_server: s3server.S3Server, redis_url: str, tmp_path: Path
) -> Iterator[dict[str, str]]:
    with fresh_postgres_database() as database:
        yield {
            **s3_server.environment,
            "VOXHUB_DATABASE_URL": database,
            "VOXHUB_QUEUE_URL": os.environ.get("VOXHUB_TEST_QUEUE_URL", database),
            "VOXHUB_STORAGE_URL": f"s3://{s3_server.new_bucket()}/voxhub",
            "VOXHUB_RATE_LIMIT_STORAGE_URL": redis_url,
            "VOXHUB_RATE_LIMIT": "100000/minute",
            "VOXHUB_FILE_SECRET": "one-secret-for-every-api-process",
            "VOXHUB_RENDER_PREVIEWS": "false",
            "VOXHUB_MEASURE_BASE_VOICES": "false",
            "VOXHUB_CLONE_LEASE_SECONDS": str(LEASE_SECONDS),
            "VOXHUB_SPEECH_WORKERS": "1",
            "VOXHUB_JOB_WORKERS": "1",
        }


def start_api(environment: dict[str, str], data_dir: Path) -> Served:
    env = {**environment, "VOXHUB_DATA_DIR": str(data_dir)}
    return start_server("--role", "api", env=env, new_session=True)


def start_worker(environment: dict[str, str], data_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **environment, "VOXHUB_DATA_DIR": str(data_dir)}
    with (data_dir / "worker.log").open("ab") as log:
        return subprocess.Popen(
            [VOXHUB, "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )


def kill_tree(pid: int) -> None:
    """SIGKILL a process and everything it started (a host lost)."""
    os.killpg(pid, signal.SIGKILL)


def create_key(environment: dict[str, str], data_dir: Path) -> str:
    env = {**os.environ, **environment, "VOXHUB_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [VOXHUB, "keys", "create", "--account", "scale"],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def busy_clone_jobs(database: str) -> int:
    with closing(psycopg.connect(database)) as db:
        row = db.execute(
            "SELECT COUNT(*) FROM procrastinate_jobs WHERE status = 'doing'"
            if _procrastinate(database)
            else "SELECT COUNT(*) FROM jobs WHERE state = 'running'"
        ).fetchone()
    return int(row[0]) if row else 0


def _procrastinate(database: str) -> bool:
    with closing(psycopg.connect(database)) as db:
        row = db.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
    return bool(row and row[0])


def test_clones_survive_killed_workers_and_api_processes_across_hosts(
    cluster_environment: dict[str, str], tmp_path: Path
) -> None:
    environment = cluster_environment
    hosts = [tmp_path / f"host-{n}" for n in range(4)]
    for host in hosts:
        host.mkdir()
    subprocess.run(
        [VOXHUB, "migrate"], env={**os.environ, **environment, "VOXHUB_DATA_DIR": str(hosts[0])},
        check=True, timeout=120,
    )  # fmt: skip
    key = create_key(environment, hosts[0])
    apis = [start_api(environment, hosts[0]), start_api(environment, hosts[1])]
    workers = [start_worker(environment, hosts[2]), start_worker(environment, hosts[3])]
    headers = {"x-api-key": key}
    sample = base64.b64encode(other_speaker(10.0)).decode()
    accepted: list[str] = []
    try:
        for n in range(CLONES):
            body = {
                "voice_name": f"clone {n}",
                "audio": {"type": "base64", "media_type": "audio/wav", "data": sample},
            }
            api = apis[n % 2]
            response = httpx.post(
                f"{api.base_url}/v3/voices/clone", json=body, headers=headers, timeout=60
            )
            assert response.status_code == 200, response.text
            accepted.append(response.json()["data"]["voice_clone_id"])

        wait_for(lambda: busy_clone_jobs(environment["VOXHUB_DATABASE_URL"]) > 0, 120)
        kill_tree(workers[0].pid)  # a worker host lost mid-job
        workers[0].wait(timeout=30)
        kill_tree(apis[0].process.pid)  # and an API host
        apis[0].stop()
        workers[0] = start_worker(environment, hosts[2])  # they come back and resume
        apis[0] = start_api(environment, hosts[0])

        statuses = wait_until_settled(apis, headers, accepted)
        assert set(statuses.values()) <= {"complete", "failed"}
        assert list(statuses.values()).count("complete") >= CLONES - 2, statuses
        for api in apis:  # every API process shows every clone as it ended
            for voice_id, status in statuses.items():
                shown = httpx.get(f"{api.base_url}/v3/voices/{voice_id}", headers=headers)
                assert shown.json()["data"]["status"] == status
        check_rows_and_objects(environment, accepted)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=60)
        for api in apis:
            api.stop()
    logs = "".join((host / "worker.log").read_text() for host in hosts[2:])
    assert "settled already" not in logs  # no clone job ran twice to its end


def wait_for(condition: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.2)


def wait_until_settled(
    apis: list[Served], headers: dict[str, str], ids: list[str]
) -> dict[str, str]:
    """Poll (alternating API processes) until no clone is processing; fail only when nothing
    changed for 60 leases (stuck), never on a wall-clock figure alone."""
    stalled_after = 60 * LEASE_SECONDS
    last: dict[str, str] = {}
    changed = time.monotonic()
    round_ = 0
    while True:
        api = apis[round_ % 2]
        round_ += 1
        statuses = {}
        for voice_id in ids:
            response = httpx.get(f"{api.base_url}/v3/voices/{voice_id}", headers=headers)
            assert response.status_code == 200, response.text
            data = response.json()["data"]
            statuses[voice_id] = data["status"]
            if data["status"] == "failed":
                assert data["failure_message"]
        if "processing" not in statuses.values():
            return statuses
        if statuses != last:
            last, changed = statuses, time.monotonic()
        assert time.monotonic() - changed < stalled_after, statuses
        time.sleep(1)


def check_rows_and_objects(environment: dict[str, str], accepted: list[str]) -> None:
    import boto3

    database = environment["VOXHUB_DATABASE_URL"]
    with closing(psycopg.connect(database)) as db:
        voices = dict(
            db.execute("SELECT voice_id, status FROM voices WHERE account_id IS NOT NULL")
        )
        jobs = dict(db.execute("SELECT subject_id, state FROM jobs WHERE kind = 'clone'"))
        previews = [
            r[0] for r in db.execute("SELECT preview_key FROM voices WHERE status = 'complete'")
        ]
    assert set(voices) == set(accepted)
    assert set(jobs) == set(voices)  # every clone written with its job
    for voice_id, status in voices.items():
        assert jobs[voice_id] == ("done" if status == "complete" else "failed"), voice_id
    bucket, _, prefix = environment["VOXHUB_STORAGE_URL"].removeprefix("s3://").partition("/")
    client = boto3.session.Session().client(
        "s3", endpoint_url=environment["AWS_ENDPOINT_URL"], region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    stored = {
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    }
    for key in previews:
        assert f"{prefix}/{key}" in stored
    for voice_id in accepted:  # every sample kept with its clone
        assert any(k.startswith(f"{prefix}/clones/{voice_id}/sample.") for k in stored)
