"""Real responses from a live server, validated against the user's specification."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest

from tests.conftest import private_voice
from tests.contract import (
    hosted_list_response_validator,
    hosted_speech_request_validator,
    hosted_speech_response_validator,
    seed_document,
    seed_response_validator,
)
from tests.integration.conftest import LiveServer


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
def server(request: pytest.FixtureRequest) -> LiveServer:
    fixture = "live_server" if request.param == "sqlite" else "live_postgres_server"
    result: LiveServer = request.getfixturevalue(fixture)
    return result


def get(server: LiveServer, path: str, key: str | None = None, **params: Any) -> httpx.Response:
    headers = {"x-api-key": key or server.key}
    return httpx.get(server.base_url + path, headers=headers, params=params, timeout=10)


def assert_conforms(response: httpx.Response) -> None:
    seed_response_validator(response.status_code).validate(response.json())


def first_public_voice(server: LiveServer) -> str:
    voice_id: str = get(server, "/v3/voices", limit=1).json()["data"][0]["voice_id"]
    return voice_id


def test_public_voice_conforms(server: LiveServer) -> None:
    response = get(server, f"/v3/voices/{first_public_voice(server)}")
    assert response.status_code == 200
    assert_conforms(response)


@pytest.mark.parametrize(
    ("status", "fields"),
    [
        ("processing", {}),
        ("complete", {"gender": "female"}),
        ("failed", {"failure_message": "Only 2.1 s of speech was found; record at least 5 s."}),
    ],
)
def test_clone_in_each_status_conforms(
    server: LiveServer, status: str, fields: dict[str, Any]
) -> None:
    owner = server.new_key("cloner")
    voice = private_voice(owner.key.account_id, status=status, **fields)
    server.insert_voice(voice)
    response = get(server, f"/v3/voices/{voice.voice_id}", key=owner.plain)
    assert response.status_code == 200
    assert response.json()["data"]["status"] == status
    assert_conforms(response)
    stranger = server.new_key("stranger").plain
    hidden = get(server, f"/v3/voices/{voice.voice_id}", key=stranger)
    assert hidden.status_code == 404
    assert_conforms(hidden)


@pytest.mark.parametrize(
    ("path", "key", "status"),
    [
        ("/v3/voices/" + "x" * 129, None, 400),
        ("/v3/voices/not-hex", None, 404),
        ("/v3/voices/" + "0" * 32, None, 404),
        ("/v3/voices/" + "0" * 32, "vxk_0000000000000000_nope", 401),
    ],
)
def test_errors_conform(server: LiveServer, path: str, key: str | None, status: int) -> None:
    response = get(server, path, key=key)
    assert response.status_code == status
    assert_conforms(response)
    assert response.json()["error"]["message"]


def test_rate_limited_response_conforms(server: LiveServer) -> None:
    slow = server.new_key("slow", rate_limit="1/minute").plain
    get(server, "/v3/voices/" + "0" * 32, key=slow)
    response = get(server, "/v3/voices/" + "0" * 32, key=slow)
    assert response.status_code == 429
    assert_conforms(response)
    assert response.headers["Retry-After"].isdigit()


def test_list_responses_conform_to_the_hosted_schema(server: LiveServer) -> None:
    validator = hosted_list_response_validator()
    for params in ({}, {"type": "private"}, {"language": "English", "limit": 100}):
        response = get(server, "/v3/voices", **params)
        assert response.status_code == 200
        validator.validate(response.json())


def test_openapi_uses_the_seed_schema_names_and_shapes(server: LiveServer) -> None:
    ours = httpx.get(server.base_url + "/openapi.json").json()
    seed = seed_document()["components"]["schemas"]
    schemas = ours["components"]["schemas"]
    assert {"VoiceDetailV3", "StandardAPIError"} <= set(schemas)
    mine, theirs = schemas["VoiceDetailV3"], seed["VoiceDetailV3"]
    assert list(mine["properties"]) == list(theirs["properties"])
    assert set(mine["required"]) == set(theirs["required"])
    for name, spec in theirs["properties"].items():
        for keyword in ("type", "anyOf", "default", "title", "description"):
            assert mine["properties"][name].get(keyword) == spec.get(keyword), (name, keyword)
    operation = ours["paths"]["/v3/voices/{voice_id}"]["get"]
    assert operation["operationId"] == "getVoice"
    assert set(operation["responses"]) == {"200", "400", "401", "404", "429"}
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert set(ours["components"]["securitySchemes"]) == {"ApiKeyAuth", "BearerAuth"}


def test_speech_in_a_complete_clone_conforms_to_the_hosted_schema(server: LiveServer) -> None:
    owner = server.new_key("speaker")
    clone = private_voice(owner.key.account_id, status="complete")
    server.insert_voice(clone)
    body = {"text": "Hello from a clone.", "voice_id": clone.voice_id}
    hosted_speech_request_validator().validate(body)
    response = httpx.post(
        server.base_url + "/v3/voices/speech",
        json=body,
        headers={"x-api-key": owner.plain},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    hosted_speech_response_validator().validate(response.json())
    assert httpx.get(response.json()["data"]["audio_url"]).status_code == 200
    other = httpx.post(
        server.base_url + "/v3/voices/speech",
        json=body,
        headers={"x-api-key": server.key},
        timeout=60,
    )
    assert other.status_code == 404
    assert_conforms(other)
