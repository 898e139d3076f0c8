"""Nothing lost, nothing stuck: clones survive SIGKILLs of workers and of the whole server.

A seeded sequence of at least 20 kills at random moments of real clone jobs — a pool worker,
or the server and every process it started (a machine crash) — with restarts on the same data
directory. Afterwards every accepted clone is complete (with its preview file) or failed (with
a message), every job has ended, and no clone shows a state its files contradict.
"""

from __future__ import annotations

import base64
import os
import random
import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import httpx2 as httpx

from tests.audio_fixtures import other_speaker
from tests.e2e.conftest import Served, start_server
from tests.e2e.test_speech import worker_pids

SEED = 20261125
KILLS = 20
ENV = {
    "VOXHUB_SPEECH_WORKERS": "1",
    "VOXHUB_RENDER_PREVIEWS": "false",
    "VOXHUB_CLONE_LEASE_SECONDS": "2",
    "VOXHUB_CLONE_DEADLINE_SECONDS": "300",
    "VOXHUB_RATE_LIMIT": "100000/minute",
}


def sample() -> str:
    return base64.b64encode(other_speaker(12.0)).decode()


def submit(served: Served, key: str, data: str) -> str | None:
    body = {"audio": {"type": "base64", "media_type": "audio/wav", "data": data}, "voice_name": "c"}
    try:
        response = httpx.post(
            f"{served.base_url}/v3/voices/clone", json=body, headers={"x-api-key": key}, timeout=30
        )
    except httpx.TransportError:
        return None
    return response.json()["data"]["voice_clone_id"] if response.status_code == 200 else None


def crash(served: Served) -> None:
    """SIGKILL the server and every process it started, as a power cut would."""
    os.killpg(served.process.pid, signal.SIGKILL)
    served.process.wait(timeout=30)
    served.stop()


def test_clones_end_complete_or_failed_through_twenty_kills(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    data = sample()
    served = start_server("--data-dir", str(tmp_path), env=ENV, new_session=True)
    key = served.first_key
    assert key is not None
    accepted: list[str] = []
    try:
        for _ in range(KILLS):
            for _submission in range(rng.randint(0, 2)):
                voice_id = submit(served, key, data)
                if voice_id:
                    accepted.append(voice_id)
            time.sleep(rng.uniform(0.2, 3.0))
            workers = worker_pids(served.process.pid)
            if workers and rng.random() < 0.5:
                os.kill(rng.choice(workers), signal.SIGKILL)
            else:
                crash(served)
                served = start_server("--data-dir", str(tmp_path), env=ENV, new_session=True)
        assert len(accepted) >= 10
        # and those accepted whose answer a crash or a slow machine cut off (the client saw
        # no id, the server kept the clone): nothing accepted may be left processing either
        ids = sorted(set(accepted) | clone_ids(tmp_path))
        statuses = wait_until_settled(served, key, ids, tmp_path)
    finally:
        served.stop()

    assert set(statuses.values()) <= {"complete", "failed"}
    assert "complete" in statuses.values()
    check_database_and_files(tmp_path, accepted)


def wait_until_settled(served: Served, key: str, ids: list[str], data_dir: Path) -> dict[str, str]:
    """Wait while clones settle: it fails when none has changed for a long while (stuck), not
    after a fixed time (a busy machine is slow, not broken)."""
    stalled_after = 120.0  # 60 leases of 2 s, and long enough for one clone on a busy machine
    last: object = None
    changed = time.monotonic()
    while True:
        statuses = {}
        for voice_id in ids:
            response = httpx.get(
                f"{served.base_url}/v3/voices/{voice_id}", headers={"x-api-key": key}
            )
            assert response.status_code == 200, response.text
            data = response.json()["data"]
            statuses[voice_id] = data["status"]
            if data["status"] == "failed":
                assert data["failure_message"]
            if data["status"] == "complete":
                assert httpx.get(data["preview_audio_url"]).status_code == 200
        # a clone past its deadline reads as failed at once, while its record is settled
        # when its job is next leased: wait for the records too before the server stops
        stored = clone_statuses(data_dir), clone_job_states(data_dir)
        if "processing" not in statuses.values() and settled(*stored):
            return statuses
        if (statuses, stored) != last:
            last, changed = (statuses, stored), time.monotonic()
        assert time.monotonic() - changed < stalled_after, (statuses, served.stderr[-30:])
        time.sleep(1)


def clone_statuses(data_dir: Path) -> dict[str, str]:
    with closing(sqlite3.connect(data_dir / "voxhub.db")) as db:
        return dict(db.execute("SELECT voice_id, status FROM voices WHERE account_id IS NOT NULL"))


def clone_job_states(data_dir: Path) -> dict[str, str]:
    with closing(sqlite3.connect(data_dir / "voxhub.db")) as db:
        return dict(db.execute("SELECT subject_id, state FROM jobs WHERE kind = 'clone'"))


def settled(voices: dict[str, str], jobs: dict[str, str]) -> bool:
    return "processing" not in voices.values() and set(jobs.values()) <= {"done", "failed"}


def clone_ids(data_dir: Path) -> set[str]:
    return set(clone_statuses(data_dir))


def check_database_and_files(data_dir: Path, accepted: list[str]) -> None:
    voices, jobs = clone_statuses(data_dir), clone_job_states(data_dir)
    with closing(sqlite3.connect(data_dir / "voxhub.db")) as db:
        previews = dict(
            db.execute("SELECT voice_id, preview_key FROM voices WHERE status = 'complete'")
        )
    assert set(accepted) <= set(voices)
    assert set(jobs) == set(voices)  # every clone written with its job, no job without its clone
    for voice_id, status in voices.items():
        assert status in ("complete", "failed")
        assert jobs[voice_id] == ("done" if status == "complete" else "failed")
    for key in previews.values():
        assert (data_dir / "files" / key).is_file()
