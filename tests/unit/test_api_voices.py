"""Get Voice and List Voices over HTTP, on the in-memory store."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import private_voice
from tests.unit.conftest import account_of, issue_key
from voxhub.ids import public_voice_id
from voxhub.services import Services

ALICE = public_voice_id("static", "en-1")
DETAIL_FIELDS = {
    "voice_id", "name", "language", "gender", "preview_audio_url", "status",
    "failure_message", "support_pause", "support_interactive_avatar", "created_at",
}  # fmt: skip


def add_clone(services: Services, key: str, **fields: object) -> str:
    voice = private_voice(account_of(services, key), **fields)
    asyncio.run(services.store.insert_voice(voice, updated_at=1))
    return voice.voice_id


def test_get_public_voice_has_every_field_with_public_nulls(
    client: TestClient, services: Services
) -> None:
    key = issue_key(services)
    response = client.get(f"/v3/voices/{ALICE}", headers={"x-api-key": key})
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == DETAIL_FIELDS
    assert data["voice_id"] == ALICE
    assert (data["name"], data["language"], data["gender"]) == ("Alice", "English", "female")
    assert data["status"] is None
    assert data["failure_message"] is None
    assert data["preview_audio_url"] is None
    assert data["support_pause"] is True
    assert data["support_interactive_avatar"] is False


def test_bearer_token_works_like_x_api_key(client: TestClient, services: Services) -> None:
    key = issue_key(services)
    response = client.get(f"/v3/voices/{ALICE}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": ""},
        {"x-api-key": "not-a-key"},
        {"x-api-key": "vxk_0123456789abcdef_wrongsecret"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ],
)
def test_missing_or_wrong_key_is_401_with_the_seed_message(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get(f"/v3/voices/{ALICE}", headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "authentication_failed",
            "message": "Invalid or expired API key. Verify your x-api-key header.",
            "param": None,
            "doc_url": None,
        }
    }


def test_a_real_key_id_with_a_wrong_secret_is_401(client: TestClient, services: Services) -> None:
    key = issue_key(services)
    forged = key[: key.rindex("_") + 1] + "x" * 43
    assert client.get(f"/v3/voices/{ALICE}", headers={"x-api-key": forged}).status_code == 401


def test_revoked_key_is_401(client: TestClient, services: Services) -> None:
    key = issue_key(services)
    assert asyncio.run(services.keys.revoke(key))
    assert client.get(f"/v3/voices/{ALICE}", headers={"x-api-key": key}).status_code == 401


@pytest.mark.parametrize(
    "voice_id",
    ["abc", "0" * 31, "0" * 33, "Z" * 32, ALICE.upper(), "%20" * 11, "-" * 32, "x" * 128],
)
def test_an_id_of_any_other_form_is_404_like_the_hosted_api(
    client: TestClient, services: Services, voice_id: str
) -> None:
    response = client.get(f"/v3/voices/{voice_id}", headers={"x-api-key": issue_key(services)})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "voice_not_found"


@pytest.mark.parametrize("voice_id", ["x" * 129, "%01abc", "a%7Fb"])
def test_what_cannot_be_an_id_at_all_is_400_naming_it(
    client: TestClient, services: Services, voice_id: str
) -> None:
    response = client.get(f"/v3/voices/{voice_id}", headers={"x-api-key": issue_key(services)})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"
    assert response.json()["error"]["param"] == "voice_id"


def test_unknown_voice_is_404_voice_not_found(client: TestClient, services: Services) -> None:
    response = client.get("/v3/voices/" + "0" * 32, headers={"x-api-key": issue_key(services)})
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "voice_not_found",
        "message": "Voice not found.",
        "param": None,
        "doc_url": None,
    }


def test_own_clone_shows_its_status_and_another_accounts_clone_is_404(
    client: TestClient, services: Services
) -> None:
    owner, stranger = issue_key(services, "owner"), issue_key(services, "stranger")
    clone = add_clone(services, owner, name="Narrator")
    mine = client.get(f"/v3/voices/{clone}", headers={"x-api-key": owner})
    assert mine.status_code == 200
    assert mine.json()["data"]["status"] == "processing"
    assert mine.json()["data"]["name"] == "Narrator"
    assert isinstance(mine.json()["data"]["created_at"], int)
    theirs = client.get(f"/v3/voices/{clone}", headers={"x-api-key": stranger})
    never = client.get("/v3/voices/" + "f" * 32, headers={"x-api-key": stranger})
    assert theirs.status_code == never.status_code == 404
    assert theirs.json() == never.json()


def test_failure_message_only_when_failed(client: TestClient, services: Services) -> None:
    key = issue_key(services)
    failed = add_clone(services, key, status="failed", failure_message="Only 2 s of speech.")
    done = add_clone(services, key, status="complete", failure_message="stale")
    assert (
        client.get(f"/v3/voices/{failed}", headers={"x-api-key": key}).json()["data"][
            "failure_message"
        ]
        == "Only 2 s of speech."
    )
    assert (
        client.get(f"/v3/voices/{done}", headers={"x-api-key": key}).json()["data"][
            "failure_message"
        ]
        is None
    )


def test_rate_limit_is_429_with_integer_retry_after(client: TestClient, services: Services) -> None:
    key = issue_key(services, rate_limit="3/minute")
    statuses = [
        client.get(f"/v3/voices/{ALICE}", headers={"x-api-key": key}).status_code for _ in range(3)
    ]
    limited = client.get(f"/v3/voices/{ALICE}", headers={"x-api-key": key})
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    other = issue_key(services, "other", rate_limit="3/minute")
    assert client.get(f"/v3/voices/{ALICE}", headers={"x-api-key": other}).status_code == 200


def test_request_id_is_echoed_or_made(client: TestClient, services: Services) -> None:
    key = issue_key(services)
    echoed = client.get(f"/v3/voices/{ALICE}", headers={"x-api-key": key, "X-Request-Id": "abc-1"})
    assert echoed.headers["x-request-id"] == "abc-1"
    made = client.get("/v3/voices/nope")
    assert len(made.headers["x-request-id"]) == 32
    unsafe = client.get("/healthz", headers={"X-Request-Id": "a b\tc"})
    assert unsafe.headers["x-request-id"] != "a b\tc"


def test_list_public_voices_pages_through_everything_in_name_order(
    client: TestClient, services: Services
) -> None:
    key = issue_key(services)
    names, token, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"token": token} if token else {})
        body = client.get("/v3/voices", params=params, headers={"x-api-key": key}).json()
        names += [item["name"] for item in body["data"]]
        assert all(item["type"] == "public" for item in body["data"])
        pages += 1
        token = body["next_token"]
        assert body["has_more"] is (token is not None)
        if not token:
            break
    assert names == ["Alice", "Bob", "Chloé", "Dieter", "Eve"]
    assert pages == 3


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"language": "english"}, ["Alice", "Bob", "Eve"]),
        ({"language": "English", "gender": "female"}, ["Alice", "Eve"]),
        ({"gender": "male"}, ["Bob", "Dieter"]),
        ({"engine": "starfish", "language": "French"}, ["Chloé"]),
        ({"engine": "static", "token": ""}, ["Alice", "Bob", "Chloé", "Dieter", "Eve"]),
        ({"unknown_param": "ignored", "language": "German"}, ["Dieter"]),
    ],
)
def test_list_filters(
    client: TestClient, services: Services, params: dict[str, str], expected: list[str]
) -> None:
    body = client.get("/v3/voices", params=params, headers={"x-api-key": issue_key(services)})
    assert body.status_code == 200
    assert [item["name"] for item in body.json()["data"]] == expected


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"type": "shared"}, "type"),
        ({"gender": "robot"}, "gender"),
        ({"gender": "MALE"}, "gender"),
        ({"engine": "nope"}, "engine"),
        ({"language": "Klingonese"}, "language"),
        ({"token": "garbage!"}, "token"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(
    client: TestClient, services: Services, params: dict[str, str], param: str
) -> None:
    response = client.get("/v3/voices", params=params, headers={"x-api-key": issue_key(services)})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"
    assert response.json()["error"]["param"] == param


def test_private_listing_shows_only_the_callers_clones_with_status(
    client: TestClient, services: Services
) -> None:
    owner, stranger = issue_key(services, "owner"), issue_key(services, "stranger")
    add_clone(services, owner, name="Mine", status="complete", gender="female")
    add_clone(services, stranger, name="Theirs")
    body = client.get("/v3/voices", params={"type": "private"}, headers={"x-api-key": owner})
    assert [(i["name"], i["type"], i["status"], i["gender"]) for i in body.json()["data"]] == [
        ("Mine", "private", "complete", "female")
    ]


def test_a_public_token_does_not_continue_a_private_listing(
    client: TestClient, services: Services
) -> None:
    key = issue_key(services)
    token = client.get("/v3/voices", params={"limit": 1}, headers={"x-api-key": key}).json()[
        "next_token"
    ]
    response = client.get(
        "/v3/voices", params={"type": "private", "token": token}, headers={"x-api-key": key}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "token"


def test_unknown_route_and_method_use_the_envelope(client: TestClient) -> None:
    missing = client.get("/v3/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "processing"},
        {"status": "failed", "failure_message": "Too noisy: SNR 3 dB."},
        {"status": "complete", "gender": "female", "name": 'Quote " and ünïcode'},
    ],
)
def test_hot_path_body_is_exactly_the_documented_model(fields: dict[str, object]) -> None:
    from voxhub.api.models import GetVoiceResponse, voice_detail, voice_detail_json

    voice = private_voice("a" * 32, **fields)
    fast = voice_detail_json(voice)
    documented = GetVoiceResponse(data=voice_detail(voice))
    assert GetVoiceResponse.model_validate_json(fast) == documented
    assert list(json.loads(fast)["data"]) == list(documented.model_dump()["data"])


def test_readiness_is_503_when_the_database_does_not_answer(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(services.store, "ping", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert client.get("/healthz").status_code == 200


def test_other_methods_on_a_voice_are_405_in_the_envelope(client: TestClient) -> None:
    response = client.put(f"/v3/voices/{ALICE}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]
