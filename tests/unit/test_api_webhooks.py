"""Webhook endpoints and events over HTTP: shapes, validation, secrets, tenants, scopes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.contract import hosted_validator
from tests.unit.conftest import account_of, issue_key, unit_services
from voxhub.api import create_app
from voxhub.services import Services
from voxhub.store import MemoryStore

HOOK = "http://127.0.0.1:9/hook"  # loopback, allowed for these tests only


@pytest.fixture
def hook_services(store: MemoryStore) -> Services:
    return unit_services(store, ["static"], VOXHUB_FETCH_ALLOW_NETWORKS="127.0.0.0/8")


@pytest.fixture
def hooks(hook_services: Services) -> Iterator[TestClient]:
    @asynccontextmanager
    async def opened() -> Any:
        await hook_services.voices.load_catalog()
        yield hook_services

    with TestClient(create_app(opened), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def key(hook_services: Services) -> str:
    return issue_key(hook_services, "hooker")


def create(client: TestClient, key: str, **body: Any) -> Any:
    return client.post(
        "/v3/webhooks/endpoints", json={"url": HOOK, **body}, headers={"x-api-key": key}
    )


def test_an_endpoint_is_created_with_its_secret_shown_once(hooks: TestClient, key: str) -> None:
    created = create(hooks, key, events=["voice_clone.success"])
    assert created.status_code == 200, created.text
    hosted_validator("POST /v3/webhooks/endpoints").validate(created.json())
    data = created.json()["data"]
    assert data["url"] == HOOK
    assert data["events"] == ["voice_clone.success"]
    assert data["status"] == "enabled"
    assert data["secret"].startswith("whsec_")
    assert data["created_at"].endswith("Z")
    listed = hooks.get("/v3/webhooks/endpoints", headers={"x-api-key": key})
    hosted_validator("GET /v3/webhooks/endpoints").validate(listed.json())
    assert [e["endpoint_id"] for e in listed.json()["data"]] == [data["endpoint_id"]]
    assert listed.json()["data"][0]["secret"] is None  # never again


def test_the_secret_is_stored_sealed(hooks: TestClient, key: str, hook_services: Services) -> None:
    secret = create(hooks, key).json()["data"]["secret"]
    stored = hook_services.store.webhook_endpoints  # type: ignore[attr-defined]
    assert all(secret not in repr(endpoint) for endpoint in stored.values())


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"url": "http://10.0.0.5/hook"}, "url"),
        ({"url": "http://169.254.169.254/latest"}, "url"),
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"url": ""}, "url"),
        ({"events": ["voice_clone.sucess"]}, "events"),
        ({"events": "voice_clone.success"}, "events"),
    ],
)
def test_bad_endpoints_are_refused_naming_the_field(
    hooks: TestClient, key: str, body: dict[str, Any], param: str
) -> None:
    response = create(hooks, key, **body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_patch_replaces_events_changes_status_and_rotation_shows_a_new_secret(
    hooks: TestClient, key: str
) -> None:
    headers = {"x-api-key": key}
    created = create(hooks, key, events=["voice_clone.success"]).json()["data"]
    path = f"/v3/webhooks/endpoints/{created['endpoint_id']}"
    patched = hooks.patch(path, json={"events": ["voice_clone.fail"]}, headers=headers)
    assert patched.status_code == 200, patched.text
    hosted_validator("PATCH /v3/webhooks/endpoints/{endpoint_id}").validate(patched.json())
    assert patched.json()["data"]["events"] == ["voice_clone.fail"]
    everything = hooks.patch(path, json={"events": None}, headers=headers).json()["data"]
    assert everything["events"] is None  # null: every event
    disabled = hooks.patch(path, json={"status": "disabled"}, headers=headers).json()["data"]
    assert (disabled["status"], disabled["events"]) == ("disabled", None)
    rotated = hooks.post(path + "/rotate-secret", headers=headers)
    hosted_validator("POST /v3/webhooks/endpoints/{endpoint_id}/rotate-secret").validate(
        rotated.json()
    )
    assert rotated.json()["data"]["secret"] not in (None, created["secret"])
    deleted = hooks.delete(path, headers=headers)
    hosted_validator("DELETE /v3/webhooks/endpoints/{endpoint_id}").validate(deleted.json())
    assert hooks.delete(path, headers=headers).status_code == 404


def test_event_types_list_voxhubs_and_the_hosted_apis(hooks: TestClient, key: str) -> None:
    response = hooks.get("/v3/webhooks/event-types", headers={"x-api-key": key})
    hosted_validator("GET /v3/webhooks/event-types").validate(response.json())
    types = {t["event_type"]: t["description"] for t in response.json()["data"]}
    assert {"voice_clone.success", "voice_clone.fail", "avatar_video.success"} <= set(types)
    assert "never sends" in types["avatar_video.success"]
    accepted = create(hooks, key, events=["avatar_video.success", "batch.finished"])
    assert accepted.status_code == 200  # a hosted client's set-up call succeeds


def test_endpoints_page_with_next_token(hooks: TestClient, key: str) -> None:
    made = [create(hooks, key).json()["data"]["endpoint_id"] for _ in range(3)]
    headers = {"x-api-key": key}
    first = hooks.get("/v3/webhooks/endpoints?limit=2", headers=headers).json()
    assert first["has_more"] is True
    rest = hooks.get(
        f"/v3/webhooks/endpoints?limit=2&token={first['next_token']}", headers=headers
    ).json()
    paged = [e["endpoint_id"] for e in first["data"] + rest["data"]]
    assert sorted(paged) == sorted(made)  # each once (the same second: ordered by id)
    assert rest["has_more"] is False


def test_another_accounts_endpoint_is_404_everywhere(
    hooks: TestClient, key: str, hook_services: Services
) -> None:
    endpoint_id = create(hooks, key).json()["data"]["endpoint_id"]
    path = f"/v3/webhooks/endpoints/{endpoint_id}"
    stranger = {"x-api-key": issue_key(hook_services, "stranger")}
    calls = {
        "patch": lambda: hooks.patch(path, json={"status": "disabled"}, headers=stranger),
        "delete": lambda: hooks.delete(path, headers=stranger),
        "rotate": lambda: hooks.post(path + "/rotate-secret", headers=stranger),
        "unknown": lambda: hooks.delete("/v3/webhooks/endpoints/" + "0" * 32, headers=stranger),
    }
    for name, call in calls.items():
        assert call().status_code == 404, name
    assert hooks.get("/v3/webhooks/endpoints", headers=stranger).json()["data"] == []
    owner = account_of(hook_services, key)
    mine = asyncio.run(hook_services.store.list_webhook_endpoints(owner, None, 10))
    assert [(e.endpoint_id, e.status) for e in mine] == [(endpoint_id, "enabled")]


def test_read_only_keys_cannot_change_endpoints(hooks: TestClient, hook_services: Services) -> None:
    reader = issue_key(hook_services, "reader", read_only=True)
    assert create(hooks, reader).status_code == 403
    listed = hooks.get("/v3/webhooks/endpoints", headers={"x-api-key": reader})
    assert listed.status_code == 200
