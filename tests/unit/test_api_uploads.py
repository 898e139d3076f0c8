"""The rest of the asset surface over HTTP: listing, search, direct uploads and their
completion, batches, statuses, videos; every answer checked against the hosted schemas."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.audio_fixtures import PNG_HEADER, encoded, tone, video
from tests.contract import hosted_validator
from tests.unit.conftest import account_of, follow, issue_key
from voxhub.services import Services
from voxhub.services.uploads import UPLOAD_KEPT_SECONDS, UPLOAD_URL_SECONDS


@pytest.fixture
def key(services: Services) -> str:
    return issue_key(services, "uploader")


def auth(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def upload(client: TestClient, key: str, data: bytes, name: str = "a.wav") -> dict[str, Any]:
    files = {"file": (name, data, "application/octet-stream")}
    response = client.post("/v3/assets", files=files, headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def begin(client: TestClient, key: str, data: bytes, **declared: Any) -> Any:
    body = {"filename": "take.wav", "content_type": "audio/wav", "size_bytes": len(data)}
    return client.post("/v3/assets/direct-uploads", json={**body, **declared}, headers=auth(key))


def put(client: TestClient, slot: dict[str, Any], data: bytes) -> Any:
    parts = urlsplit(slot["upload_url"])
    return client.put(f"{parts.path}?{parts.query}", content=data, headers=slot["upload_headers"])


# --- listing and search ---------------------------------------------------------------


def test_assets_are_listed_newest_first_in_pages(
    client: TestClient, key: str, services: Services
) -> None:
    made = [upload(client, key, encoded("wav"), f"take{i}.wav")["asset_id"] for i in range(3)]
    owner = account_of(services, key)
    seen: list[str] = []
    token = None
    while True:
        params = {"username": owner, "limit": 2, **({"token": token} if token else {})}
        response = client.get("/v3/assets", params=params, headers=auth(key))
        assert response.status_code == 200, response.text
        hosted_validator("GET /v3/assets").validate(response.json())
        seen += [item["id"] for item in response.json()["data"]]
        token = response.json()["next_token"]
        if not response.json()["has_more"]:
            break
    assert sorted(seen) == sorted(made)
    assert len(seen) == 3
    created = [client.get(f"/v3/assets/{i}", headers=auth(key)).json()["data"] for i in seen]
    assert [c["uploaded_at"] for c in created] == sorted(
        (c["uploaded_at"] for c in created), reverse=True
    )


def test_another_owner_or_a_folder_lists_nothing(
    client: TestClient, key: str, services: Services
) -> None:
    upload(client, key, encoded("wav"))
    owner = account_of(services, key)
    other = issue_key(services, "someone-else")
    theirs = client.get("/v3/assets", params={"username": owner}, headers=auth(other))
    assert theirs.status_code == 200
    assert theirs.json()["data"] == []
    in_folder = client.get(
        "/v3/assets", params={"username": owner, "folder_id": "f1"}, headers=auth(key)
    )
    assert in_folder.json()["data"] == []
    root = client.get("/v3/assets", params={"username": owner, "folder_id": ""}, headers=auth(key))
    assert len(root.json()["data"]) == 1


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "username"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"token": "@"}, "token"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(
    client: TestClient, key: str, services: Services, params: dict[str, Any], param: str
) -> None:
    owner = {} if param == "username" else {"username": account_of(services, key)}
    response = client.get("/v3/assets", params={**owner, **params}, headers=auth(key))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_search_is_a_valid_empty_page_and_checks_its_parameters(
    client: TestClient, key: str
) -> None:
    found = client.get(
        "/v3/assets/search", params={"query": "a red pizza", "type": "image"}, headers=auth(key)
    )
    assert found.status_code == 200, found.text
    hosted_validator("GET /v3/assets/search").validate(found.json())
    assert found.json() == {"data": [], "has_more": False, "next_token": None}
    wrong = client.get(
        "/v3/assets/search", params={"query": "x", "type": "video"}, headers=auth(key)
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["param"] == "type"


# --- direct uploads -------------------------------------------------------------------


def test_a_direct_upload_round_trips(client: TestClient, key: str) -> None:
    data = encoded("mp3")
    digest = hashlib.sha256(data).hexdigest()
    begun = begin(client, key, data, content_type="audio/mpeg", checksum_sha256=digest)
    assert begun.status_code == 200, begun.text
    hosted_validator("POST /v3/assets/direct-uploads").validate(begun.json())
    slot = begun.json()["data"]
    assert slot["status"] == "pending_upload"
    assert slot["max_bytes"] == len(data)
    assert 0 < slot["expires_in_seconds"] <= UPLOAD_URL_SECONDS

    pending = client.get(f"/v3/assets/{slot['asset_id']}", headers=auth(key))
    assert pending.status_code == 200
    assert pending.json()["data"]["url"] is None
    assert put(client, slot, data).status_code == 200

    done = client.post(f"/v3/assets/{slot['asset_id']}/complete", json={}, headers=auth(key))
    assert done.status_code == 200, done.text
    hosted_validator("POST /v3/assets/{asset_id}/complete").validate(done.json())
    completed = done.json()["data"]
    assert completed["mime_type"] == "audio/mpeg"
    assert completed["status"] == "completed"
    assert follow(client, completed["url"]).content == data
    again = client.post(f"/v3/assets/{slot['asset_id']}/complete", headers=auth(key))
    assert again.status_code == 200
    assert again.json()["data"]["asset_id"] == slot["asset_id"]


@pytest.mark.parametrize(
    ("declared", "param", "status"),
    [
        ({"content_type": "image/png"}, "file.content_type", 400),
        ({"content_type": "application/pdf"}, "file.content_type", 400),
        ({"size_bytes": 33 * 1024 * 1024}, "file.size_bytes", 413),
        ({"size_bytes": 0}, "file.size_bytes", 400),
        ({"checksum_sha256": "abc"}, "file.checksum_sha256", 400),
    ],
)
def test_what_voxhub_will_not_store_is_refused_when_asked(
    client: TestClient, key: str, declared: dict[str, Any], param: str, status: int
) -> None:
    response = begin(client, key, b"x" * 10, **declared)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param
    if "content_type" in declared:
        assert "audio and video only" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("uploaded", "declared", "param"),
    [
        (PNG_HEADER, {}, "file"),
        (encoded("wav")[:-10], {}, "size_bytes"),
        (encoded("wav"), {"checksum_sha256": "0" * 64}, "checksum_sha256"),
        (video("mp4", tone(1.0, 16000)), {"content_type": "audio/mp4"}, "content_type"),
    ],
)
def test_completion_checks_the_stored_bytes(
    client: TestClient, key: str, uploaded: bytes, declared: dict[str, Any], param: str
) -> None:
    size = len(encoded("wav")) if param == "size_bytes" else len(uploaded)
    slot = begin(client, key, uploaded, **{"size_bytes": size, **declared}).json()["data"]
    assert put(client, slot, uploaded).status_code == 200
    response = client.post(f"/v3/assets/{slot['asset_id']}/complete", headers=auth(key))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    if param == "file":
        assert "audio and video only" in response.json()["error"]["message"]


def test_completing_before_any_upload_says_to_upload_first(client: TestClient, key: str) -> None:
    slot = begin(client, key, encoded("wav")).json()["data"]
    response = client.post(f"/v3/assets/{slot['asset_id']}/complete", headers=auth(key))
    assert response.status_code == 400
    assert "PUT the file" in response.json()["error"]["message"]


def test_the_upload_url_takes_no_more_than_declared_and_only_as_signed(
    client: TestClient, key: str
) -> None:
    data = encoded("wav")
    slot = begin(client, key, data).json()["data"]
    assert put(client, slot, data + b"more").status_code == 413
    forged = {**slot, "upload_url": slot["upload_url"].replace("signature=", "signature=x")}
    assert put(client, forged, data).status_code == 404
    other = begin(client, key, data).json()["data"]
    swapped = {
        **slot,
        "upload_url": slot["upload_url"].replace(slot["asset_id"], other["asset_id"]),
    }
    assert put(client, swapped, data).status_code == 404


def test_another_account_cannot_see_or_complete_an_upload(
    client: TestClient, key: str, services: Services
) -> None:
    slot = begin(client, key, encoded("wav")).json()["data"]
    other = issue_key(services, "other")
    for response in (
        client.post(f"/v3/assets/{slot['asset_id']}/complete", headers=auth(other)),
        client.get(f"/v3/assets/{slot['asset_id']}", headers=auth(other)),
    ):
        assert response.status_code == 404
    statuses = client.get(
        "/v3/assets/statuses", params={"asset_ids": slot["asset_id"]}, headers=auth(other)
    )
    assert statuses.json()["data"][0]["status"] == "not_found"


def test_uploads_never_completed_are_removed_after_the_documented_time(
    client: TestClient, key: str, services: Services
) -> None:
    data = encoded("wav")
    slot = begin(client, key, data).json()["data"]
    put(client, slot, data)
    kept = begin(client, key, data).json()["data"]
    put(client, kept, data)
    client.post(f"/v3/assets/{kept['asset_id']}/complete", headers=auth(key))
    soon = time.time() + UPLOAD_URL_SECONDS + UPLOAD_KEPT_SECONDS - 60
    assert asyncio.run(services.uploads.purge_expired(now=soon)) == 0
    later = time.time() + UPLOAD_URL_SECONDS + UPLOAD_KEPT_SECONDS + 60
    assert asyncio.run(services.uploads.purge_expired(now=later)) == 1
    assert client.get(f"/v3/assets/{slot['asset_id']}", headers=auth(key)).status_code == 404
    assert client.get(f"/v3/assets/{kept['asset_id']}", headers=auth(key)).status_code == 200


# --- batches and statuses -------------------------------------------------------------


def test_a_batch_completes_each_item_on_its_own(client: TestClient, key: str) -> None:
    good, bad = encoded("flac"), PNG_HEADER
    files = [
        {"filename": "a.flac", "content_type": "audio/flac", "size_bytes": len(good)},
        {"filename": "b.wav", "content_type": "audio/wav", "size_bytes": len(bad)},
        {"filename": "c.wav", "content_type": "audio/wav", "size_bytes": 10},
    ]
    created = client.post(
        "/v3/assets/direct-uploads/batches", json={"files": files, "title": "t"}, headers=auth(key)
    )
    assert created.status_code == 200, created.text
    hosted_validator("POST /v3/assets/direct-uploads/batches").validate(created.json())
    batch_id, slots = created.json()["data"]["batch_id"], created.json()["data"]["items"]
    put(client, slots[0], good)
    put(client, slots[1], bad)

    done = client.post(
        "/v3/assets/complete/batches", json={"batch_id": batch_id}, headers=auth(key)
    )
    assert done.status_code == 202, done.text
    batch = client.get(f"/v3/assets/batches/{batch_id}", headers=auth(key))
    assert batch.status_code == 200
    hosted_validator("GET /v3/assets/batches/{batch_id}").validate(batch.json())
    data = batch.json()["data"]
    assert [i["status"] for i in data["items"]] == ["completed", "failed", "failed"]
    assert data["counts_by_status"] == {"completed": 1, "failed": 2}
    assert data["status"] == "completed"
    assert data["total_items"] == 3
    assert "audio and video only" in data["items"][1]["error"]["message"]

    paged = client.get(f"/v3/assets/batches/{batch_id}", params={"limit": 2}, headers=auth(key))
    assert paged.json()["data"]["has_more"] is True
    rest = client.get(
        f"/v3/assets/batches/{batch_id}",
        params={"limit": 2, "token": paged.json()["data"]["next_token"]},
        headers=auth(key),
    )
    assert [i["item_index"] for i in rest.json()["data"]["items"]] == [2]

    statuses = client.get(
        "/v3/assets/statuses",
        params={"asset_ids": f"{slots[0]['asset_id']},nope", "batch_ids": batch_id},
        headers=auth(key),
    )
    assert statuses.status_code == 200
    hosted_validator("GET /v3/assets/statuses").validate(statuses.json())
    entries = statuses.json()["data"]
    assert [e["status"] for e in entries] == [
        "completed",
        "not_found",
        "completed",
        "failed",
        "failed",
    ]
    assert entries[2]["batch_id"] == batch_id
    assert entries[2]["item_index"] == 0


def test_an_unknown_batch_is_404_and_statuses_need_ids(client: TestClient, key: str) -> None:
    assert client.get("/v3/assets/batches/" + "0" * 32, headers=auth(key)).status_code == 404
    assert client.get("/v3/assets/batches/whatever", headers=auth(key)).status_code == 404
    missing = client.post(
        "/v3/assets/complete/batches", json={"batch_id": "0" * 32}, headers=auth(key)
    )
    assert missing.status_code == 404
    assert client.get("/v3/assets/statuses", headers=auth(key)).status_code == 400


# --- videos and ids -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("mp4", "video/mp4"), ("mov", "video/quicktime"), ("webm", "video/webm")],
)
def test_videos_are_assets_of_type_video(
    client: TestClient, key: str, name: str, media_type: str
) -> None:
    uploaded = upload(client, key, video(name, tone(1.0, 16000)), f"clip.{name}")
    assert uploaded["mime_type"] == media_type
    detail = client.get(f"/v3/assets/{uploaded['asset_id']}", headers=auth(key)).json()["data"]
    assert detail["type"] == "video"


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (PNG_HEADER, "PNG image"),
        (b"%PDF-1.7\n" + bytes(64), "PDF"),
        (b"PK\x03\x04" + bytes(64), "zip"),
    ],
)
def test_images_documents_and_archives_are_refused_saying_why(
    client: TestClient, key: str, data: bytes, what: str
) -> None:
    files = {"file": ("x.wav", data, "audio/wav")}
    response = client.post("/v3/assets", files=files, headers=auth(key))
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert what in message
    assert "audio and video only" in message


@pytest.mark.parametrize(
    ("asset_id", "status"), [("not-an-id", 404), ("0" * 32, 404), ("x" * 129, 400)]
)
def test_asset_ids_of_any_form_are_404_and_impossible_ones_400(
    client: TestClient, key: str, asset_id: str, status: int
) -> None:
    for response in (
        client.get(f"/v3/assets/{asset_id}", headers=auth(key)),
        client.delete(f"/v3/assets/{asset_id}", headers=auth(key)),
        client.post(f"/v3/assets/{asset_id}/complete", headers=auth(key)),
    ):
        assert response.status_code == status, response.text
