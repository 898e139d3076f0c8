"""Assets over HTTP: upload, look up, fetch, delete; sniffing, limits, tenants, scopes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.audio_fixtures import PNG_HEADER, encoded
from tests.contract import hosted_validator
from tests.unit.conftest import follow, issue_key
from voxhub.services import Services
from voxhub.services.assets import MAX_ASSET_BYTES


def upload(client: TestClient, key: str, data: bytes, name: str = "sample.wav", **kw: Any) -> Any:
    files = {"file": (name, data, kw.pop("content_type", "audio/wav"))}
    headers = {"x-api-key": key, **kw.pop("headers", {})}
    return client.post("/v3/assets", files=files, headers=headers, **kw)


@pytest.fixture
def key(services: Services) -> str:
    return issue_key(services, "uploader")


@pytest.mark.parametrize("name", ["wav", "mp3", "flac", "ogg", "webm", "m4a", "aac"])
def test_an_audio_upload_round_trips(client: TestClient, key: str, name: str) -> None:
    data = encoded(name)
    response = upload(client, key, data, name=f"My sample.{name}")
    assert response.status_code == 200, response.text
    hosted_validator("POST /v3/assets").validate(response.json())
    uploaded = response.json()["data"]
    assert uploaded["size_bytes"] == len(data)
    assert follow(client, uploaded["url"]).content == data

    detail = client.get(f"/v3/assets/{uploaded['asset_id']}", headers={"x-api-key": key})
    assert detail.status_code == 200
    hosted_validator("GET /v3/assets/{asset_id}").validate(detail.json())
    assert detail.json()["data"]["name"] == f"My sample.{name}"
    assert detail.json()["data"]["type"] == "audio"


def test_the_type_comes_from_the_bytes_not_the_name_or_header(client: TestClient, key: str) -> None:
    mp3 = upload(client, key, encoded("mp3"), name="lies.wav", content_type="audio/wav")
    assert mp3.json()["data"]["mime_type"] == "audio/mpeg"
    png = upload(client, key, PNG_HEADER, name="voice.wav", content_type="audio/wav")
    assert png.status_code == 400
    assert png.json()["error"]["param"] == "file"
    assert "PNG image" in png.json()["error"]["message"]
    noise = upload(client, key, bytes(range(256)) * 4, name="voice.wav")
    assert noise.status_code == 400
    assert "bytes" in noise.json()["error"]["message"]


@pytest.mark.parametrize(
    ("request_kw", "status", "code"),
    [
        ({"files": {"file": ("empty.wav", b"", "audio/wav")}}, 400, "invalid_parameter"),
        ({"files": {"other": ("a.wav", b"RIFF", "audio/wav")}}, 400, "invalid_parameter"),
        ({"data": {"file": "not a file"}}, 400, "invalid_parameter"),
        ({"json": {"file": "UklGRg=="}}, 400, "invalid_parameter"),
        (
            {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data"}},
            400,
            "invalid_parameter",
        ),
    ],
    ids=["empty", "no-file-field", "text-field", "json", "malformed"],
)
def test_bad_uploads_are_400_naming_file(
    client: TestClient, key: str, request_kw: dict[str, Any], status: int, code: str
) -> None:
    headers = {"x-api-key": key, **request_kw.pop("headers", {})}
    response = client.post("/v3/assets", headers=headers, **request_kw)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["param"] == "file"


def test_a_declared_oversize_body_is_refused_before_reading(client: TestClient, key: str) -> None:
    headers = {
        "x-api-key": key,
        "content-type": "multipart/form-data; boundary=x",
        "content-length": str(MAX_ASSET_BYTES * 2),
    }
    response = client.post("/v3/assets", headers=headers, content=b"--x--\r\n")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_file_just_over_32_mb_is_413_and_one_at_the_limit_is_taken(
    client: TestClient, key: str
) -> None:
    header = encoded("wav")[:44]
    assert upload(client, key, header + bytes(MAX_ASSET_BYTES - 44)).status_code == 200
    too_big = upload(client, key, header + bytes(MAX_ASSET_BYTES - 43))
    assert too_big.status_code == 413


def test_delete_removes_the_record_and_the_file(client: TestClient, key: str) -> None:
    uploaded = upload(client, key, encoded("wav")).json()["data"]
    headers = {"x-api-key": key}
    deleted = client.delete(f"/v3/assets/{uploaded['asset_id']}", headers=headers)
    assert deleted.status_code == 200
    hosted_validator("DELETE /v3/assets/{asset_id}").validate(deleted.json())
    assert deleted.json() == {"data": {"id": uploaded["asset_id"]}}
    assert client.get(f"/v3/assets/{uploaded['asset_id']}", headers=headers).status_code == 404
    assert follow(client, uploaded["url"]).status_code == 404
    again = client.delete(f"/v3/assets/{uploaded['asset_id']}", headers=headers)
    assert again.status_code == 404


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_another_accounts_asset_is_404_like_an_unknown_one(
    client: TestClient, services: Services, key: str, method: str
) -> None:
    asset_id = upload(client, key, encoded("wav")).json()["data"]["asset_id"]
    stranger = issue_key(services, "stranger")
    theirs = client.request(method, f"/v3/assets/{asset_id}", headers={"x-api-key": stranger})
    unknown = client.request(method, f"/v3/assets/{'0' * 32}", headers={"x-api-key": stranger})
    malformed = client.request(method, "/v3/assets/nope", headers={"x-api-key": stranger})
    assert theirs.status_code == unknown.status_code == malformed.status_code == 404
    assert theirs.json() == unknown.json()
    assert client.get(f"/v3/assets/{asset_id}", headers={"x-api-key": key}).status_code == 200


def test_a_read_only_key_may_not_upload_or_delete(client: TestClient, services: Services) -> None:
    reader = issue_key(services, "reader", read_only=True)
    response = upload(client, reader, encoded("wav"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_api_key_scope"
    deleted = client.delete(f"/v3/assets/{'0' * 32}", headers={"x-api-key": reader})
    assert deleted.status_code == 403


def test_no_key_is_401(client: TestClient) -> None:
    assert client.post("/v3/assets", files={"file": ("a.wav", b"RIFF")}).status_code == 401


def test_a_repeat_with_the_same_idempotency_key_replays_the_first_answer(
    client: TestClient, services: Services, key: str
) -> None:
    headers = {"Idempotency-Key": "upload-1"}
    first = upload(client, key, encoded("wav"), headers={"x-api-key": key, **headers})
    again = upload(client, key, encoded("mp3"), headers={"x-api-key": key, **headers})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = upload(client, key, encoded("wav"), headers={"x-api-key": key, "Idempotency-Key": "2"})
    assert other.json()["data"]["asset_id"] != first.json()["data"]["asset_id"]
    stranger = issue_key(services, "stranger")
    theirs = upload(client, stranger, encoded("wav"), headers={"x-api-key": stranger, **headers})
    assert theirs.json()["data"]["asset_id"] != first.json()["data"]["asset_id"]
    assert len(services.store.assets) == 3  # type: ignore[attr-defined]


def test_a_failed_request_frees_its_idempotency_key(client: TestClient, key: str) -> None:
    headers = {"x-api-key": key, "Idempotency-Key": "retry-me"}
    assert upload(client, key, PNG_HEADER, headers=headers).status_code == 400
    assert upload(client, key, encoded("wav"), headers=headers).status_code == 200


def test_a_repeat_while_the_first_runs_is_409(
    client: TestClient, services: Services, key: str
) -> None:
    account = asyncio.run(services.keys.authenticate(key)).account_id
    asyncio.run(services.idempotency.begin(account, "POST /v3/assets", "busy"))
    response = upload(
        client, key, encoded("wav"), headers={"x-api-key": key, "Idempotency-Key": "busy"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "request_in_progress"


@pytest.mark.parametrize("bad", ["", "has space", "é".encode(), "x" * 256])
def test_a_malformed_idempotency_key_is_400(client: TestClient, key: str, bad: str | bytes) -> None:
    headers = {"x-api-key": key, "Idempotency-Key": bad}
    response = upload(client, key, encoded("wav"), headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "Idempotency-Key"
