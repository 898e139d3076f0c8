"""The service as a user runs it: ``voxhub serve`` and ``voxhub keys`` in subprocesses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.e2e.conftest import Served, run_cli

Serve = Callable[..., Served]


def get(served: Served, path: str, key: str, **headers: str) -> httpx.Response:
    return httpx.get(served.base_url + path, headers={"x-api-key": key, **headers}, timeout=10)


def test_first_start_prints_a_working_key_and_curl_line_once(serve: Serve, tmp_path: Path) -> None:
    served = serve("--data-dir", str(tmp_path))
    key = served.first_key
    assert key is not None
    assert any(line.strip().startswith("curl -H 'x-api-key: vxk_") for line in served.stdout)
    listing = get(served, "/v3/voices?language=English&limit=100", key)
    assert listing.status_code == 200
    voices = listing.json()["data"]
    assert any(v["name"] == "English (America)" for v in voices)
    detail = get(served, f"/v3/voices/{voices[0]['voice_id']}", key)
    assert detail.status_code == 200
    assert detail.json()["data"]["status"] is None
    served.stop()

    again = serve("--data-dir", str(tmp_path))
    assert again.first_key is None  # keys exist: nothing new printed
    assert get(again, f"/v3/voices/{voices[0]['voice_id']}", key).status_code == 200
    assert (tmp_path / "voxhub.db").exists()


def test_keys_create_and_revoke(serve: Serve, tmp_path: Path) -> None:
    served = serve("--data-dir", str(tmp_path))
    created = run_cli("keys", "create", "--account", "studio", "--data-dir", str(tmp_path))
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("vxk_")
    assert get(served, "/v3/voices?limit=1", key).status_code == 200

    listed = run_cli("keys", "list", "--data-dir", str(tmp_path))
    assert key.split("_")[1] in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout  # never the secret

    revoked = run_cli("keys", "revoke", key, "--data-dir", str(tmp_path))
    assert revoked.returncode == 0
    assert get(served, "/v3/voices?limit=1", key).status_code == 401
    assert run_cli("keys", "revoke", key, "--data-dir", str(tmp_path)).returncode == 1


def test_logs_are_json_lines_with_request_ids_and_never_the_key(
    serve: Serve, tmp_path: Path
) -> None:
    served = serve("--data-dir", str(tmp_path))
    key = served.first_key or ""
    response = get(served, "/v3/voices/" + "0" * 32, key, **{"X-Request-Id": "e2e-trace-1"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "e2e-trace-1"
    served.stop()
    records = [json.loads(line) for line in served.stderr if line.startswith("{")]
    assert records, served.stderr
    access = [r for r in records if r.get("request_id") == "e2e-trace-1"]
    assert len(access) == 1
    assert access[0]["status"] == 404
    assert access[0]["path"] == "/v3/voices/" + "0" * 32
    assert access[0]["latency_ms"] >= 0
    secret = key.split("_", 2)[2]
    assert not any(secret in line for line in served.stderr)


def test_serve_on_postgresql(serve: Serve, postgres_database: str, tmp_path: Path) -> None:
    served = serve("--database-url", postgres_database, "--data-dir", str(tmp_path))
    key = run_cli(
        "keys", "create", "--account", "pg", "--database-url", postgres_database,
        "--data-dir", str(tmp_path),
    )  # fmt: skip
    assert key.returncode == 0, key.stderr
    plain = key.stdout.strip().splitlines()[-1]
    listing = get(served, "/v3/voices?limit=5&engine=espeak", plain)
    assert listing.status_code == 200
    assert len(listing.json()["data"]) == 5


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"VOXHUB_PORT": "eighty"}, "VOXHUB_PORT"), ({"VOXHUB_RATE_LIMIT": "x"}, "VOXHUB_RATE_LIMIT")],
)
def test_a_bad_setting_stops_with_a_message(env: dict[str, str], variable: str) -> None:
    result = run_cli("serve", env=env)
    assert result.returncode == 2
    assert variable in result.stderr
