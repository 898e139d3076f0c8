"""Generate Speech over HTTP with real engines (eSpeak NG, Piper) run inline."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.audio_fixtures import decoded_seconds
from tests.conftest import private_voice
from tests.contract import hosted_speech_request_validator, hosted_speech_response_validator
from tests.unit.conftest import account_of, follow, issue_key, run_next_job, unit_services
from voxhub.api import create_app
from voxhub.engines import EspeakEngine, PiperEngine
from voxhub.ids import public_voice_id
from voxhub.services import Services
from voxhub.services.catalog import sync_catalog
from voxhub.services.previews import PreviewService
from voxhub.store import MemoryStore
from voxhub.workers.script import words_of

ESPEAK_EN = public_voice_id("espeak", "gmw/en-US")
JOE = public_voice_id("piper", "en_US-joe-medium")
TEXT = "Hello there. This is voxhub, reading 42 words aloud!"


@pytest.fixture(scope="module")
def speech_services() -> Services:
    store = MemoryStore()
    asyncio.run(sync_catalog(store, [PiperEngine(), EspeakEngine()], synced_at=1))
    return unit_services(store, ["piper", "espeak"])


@pytest.fixture(scope="module")
def speech_client(speech_services: Services) -> Iterator[TestClient]:
    @asynccontextmanager
    async def opened() -> Any:
        await speech_services.voices.load_catalog()
        yield speech_services

    with TestClient(create_app(opened), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def key(speech_services: Services) -> str:
    return issue_key(speech_services, "speaker")


def speak(client: TestClient, key: str, **body: Any) -> Any:
    return client.post("/v3/voices/speech", json=body, headers={"x-api-key": key})


@pytest.mark.parametrize("voice_id", [JOE, ESPEAK_EN], ids=["piper", "espeak"])
def test_speech_is_a_playable_file_with_duration_and_word_timestamps(
    speech_client: TestClient, key: str, voice_id: str
) -> None:
    body = {"text": TEXT, "voice_id": voice_id}
    hosted_speech_request_validator().validate(body)
    response = speak(speech_client, key, **body)
    assert response.status_code == 200, response.text
    hosted_speech_response_validator().validate(response.json())
    data = response.json()["data"]
    assert data["audio_url"].startswith("http://testserver/v3/files/speech/")
    assert len(data["request_id"]) == 32
    audio = follow(speech_client, data["audio_url"])
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/mpeg"
    assert decoded_seconds(audio.content) == pytest.approx(data["duration"], abs=0.06)
    assert 2.0 < data["duration"] < 8.0
    words = data["word_timestamps"]
    assert [w["word"] for w in words] == [w.text for w in words_of(TEXT)]
    assert all(0 <= w["start"] <= w["end"] <= data["duration"] for w in words)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)


def test_the_audio_link_needs_no_key_but_its_signature(speech_client: TestClient, key: str) -> None:
    url = speak(speech_client, key, text="Hi.", voice_id=ESPEAK_EN).json()["data"]["audio_url"]
    assert follow(speech_client, url).status_code == 200
    tampered = url.replace("signature=", "signature=x")
    response = follow(speech_client, tampered)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_speed_changes_the_duration(speech_client: TestClient, key: str) -> None:
    def duration(speed: float) -> float:
        body = {"text": TEXT, "voice_id": ESPEAK_EN, "speed": speed}
        return float(speak(speech_client, key, **body).json()["data"]["duration"])

    assert duration(2.0) < duration(1.0) < duration(0.5)


def test_ssml_breaks_lengthen_the_audio_by_their_time(speech_client: TestClient, key: str) -> None:
    def words(text: str) -> list[dict[str, Any]]:
        body = {"text": text, "voice_id": ESPEAK_EN, "input_type": "ssml"}
        result: list[dict[str, Any]] = speak(speech_client, key, **body).json()["data"][
            "word_timestamps"
        ]
        return result

    paused = words('<speak>Hello <break time="1500ms"/> world</speak>')
    assert paused[1]["start"] - paused[0]["end"] >= 1.5


@pytest.mark.parametrize(("fmt", "media_type"), [("wav", "audio/wav"), ("flac", "audio/flac")])
def test_other_formats_on_request(
    speech_client: TestClient, key: str, fmt: str, media_type: str
) -> None:
    body = {"text": "Hi there.", "voice_id": ESPEAK_EN, "output_format": fmt}
    data = speak(speech_client, key, **body).json()["data"]
    assert data["audio_url"].split("?")[0].endswith(f".{fmt}")
    assert follow(speech_client, data["audio_url"]).headers["content-type"] == media_type


BAD_BODIES = [
    ({"text": ""}, "text"),
    ({"text": "a" * 5001}, "text"),
    ({"text": "   "}, "text"),
    ({"text": "🎉🎉🎉"}, "text"),
    ({"text": "ding\x07dong"}, "text"),
    ({"text": "<speak>oops", "input_type": "ssml"}, "text"),
    (
        {
            "text": '<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><speak>&x;</speak>',
            "input_type": "ssml",
        },
        "text",
    ),
    ({"speed": 0.4}, "speed"),
    ({"speed": 2.01}, "speed"),
    ({"speed": "fast"}, "speed"),
    ({"input_type": "markdown"}, "input_type"),
    ({"locale": "fr-FR"}, "locale"),
    ({"locale": "not a tag!"}, "locale"),
    ({"language": "de"}, "language"),
    ({"output_format": "ogg"}, "output_format"),
    ({"voice_id": "x" * 129}, "voice_id"),
    ({"voice_id": None}, "voice_id"),
]


@pytest.mark.parametrize(("change", "param"), BAD_BODIES, ids=[str(c) for c, _ in BAD_BODIES])
def test_bad_input_is_a_400_naming_the_field(
    speech_client: TestClient, key: str, change: dict[str, Any], param: str
) -> None:
    body = {"text": "Hello.", "voice_id": ESPEAK_EN, **change}
    response = speak(speech_client, key, **body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_parameter", param)


def test_a_locale_of_the_voices_language_is_accepted(speech_client: TestClient, key: str) -> None:
    body = {"text": "Hello.", "voice_id": ESPEAK_EN, "locale": "en-GB", "language": "en"}
    assert speak(speech_client, key, **body).status_code == 200


def test_text_a_voice_cannot_read_is_a_400_not_an_empty_file(
    speech_client: TestClient, key: str
) -> None:
    """eSpeak NG's Cherokee voice reads its own syllabary but makes no sound for digits."""
    cherokee = public_voice_id("espeak", "iro/chr")
    response = speak(speech_client, key, text="1, 2, 3.", voice_id=cherokee)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "text"
    assert "no sound" in response.json()["error"]["message"]


def test_voices_whose_dictionary_does_not_ship_are_not_listed(
    speech_client: TestClient, key: str
) -> None:
    faroese = public_voice_id("espeak", "gmq/fo")  # language file without fo_dict in the wheel
    response = speech_client.get(f"/v3/voices/{faroese}", headers={"x-api-key": key})
    assert response.status_code == 404


def test_unknown_and_other_accounts_voices_are_404(
    speech_client: TestClient, speech_services: Services, key: str
) -> None:
    other = issue_key(speech_services, "someone-else")
    clone = private_voice(account_of(speech_services, other), status="complete")
    asyncio.run(speech_services.store.insert_voice(clone, updated_at=1))
    for voice_id in ("0" * 32, "nope", clone.voice_id):
        response = speak(speech_client, key, text="Hello.", voice_id=voice_id)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "voice_not_found"
    assert speak(speech_client, other, text="Hello.", voice_id=clone.voice_id).status_code == 200


@pytest.mark.parametrize("status", ["processing", "failed"])
def test_a_clone_that_is_not_complete_cannot_speak(
    speech_client: TestClient, speech_services: Services, key: str, status: str
) -> None:
    clone = private_voice(account_of(speech_services, key), status=status)
    asyncio.run(speech_services.store.insert_voice(clone, updated_at=1))
    response = speak(speech_client, key, text="Hello.", voice_id=clone.voice_id)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "voice_id"
    assert status in error["message"]


def test_a_read_only_key_may_not_generate(
    speech_client: TestClient, speech_services: Services
) -> None:
    reader = issue_key(speech_services, "reader", read_only=True)
    response = speak(speech_client, reader, text="Hello.", voice_id=ESPEAK_EN)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_api_key_scope"


def test_no_key_is_401(speech_client: TestClient) -> None:
    response = speech_client.post("/v3/voices/speech", json={"text": "Hi", "voice_id": ESPEAK_EN})
    assert response.status_code == 401


def test_get_on_the_speech_path_is_405_allowing_post(speech_client: TestClient, key: str) -> None:
    response = speech_client.get("/v3/voices/speech", headers={"x-api-key": key})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_previews_are_rendered_once_and_shown_by_get_and_list(
    speech_client: TestClient, speech_services: Services, key: str
) -> None:
    headers = {"x-api-key": key}
    before = speech_client.get(f"/v3/voices/{JOE}", headers=headers).json()["data"]
    assert before["preview_audio_url"] is None
    voices = len(speech_services.voices.public_voices)
    queue = speech_services.queue
    assert asyncio.run(speech_services.previews.enqueue_missing(queue)) == voices
    assert asyncio.run(speech_services.previews.enqueue_missing(queue)) == 0  # asked twice
    ran = 0
    while run_next_job(speech_services):
        ran += 1
    assert ran == voices
    mute = {"Cherokee", "Chuvash", "Sindarin"}  # eSpeak NG reads no digits in these
    jobs = speech_services.store.jobs.values()  # type: ignore[attr-defined]
    failed = {j.subject_id for j in jobs if j.state == "failed"}
    assert {speech_services.voices.public_voice(v).name for v in failed} == mute  # type: ignore[union-attr]

    detail = speech_client.get(f"/v3/voices/{JOE}", headers=headers).json()["data"]
    preview = follow(speech_client, detail["preview_audio_url"])
    assert preview.status_code == 200
    assert 2.0 < decoded_seconds(preview.content) < 10.0
    listed = speech_client.get("/v3/voices?engine=espeak&limit=100", headers=headers).json()
    without = {v["name"] for v in listed["data"] if not v["preview_audio_url"]}
    assert without == mute & {v["name"] for v in listed["data"]}

    # a restart with the same storage finds them all and renders none
    restarted = unit_services(speech_services.store, ["piper", "espeak"])  # type: ignore[arg-type]
    restarted_previews = PreviewService(
        restarted.voices, restarted.runner, speech_services.files.storage
    )
    asyncio.run(restarted.voices.load_catalog())
    assert asyncio.run(restarted_previews.find_existing()) == voices - len(mute)
    # the voices that cannot have one are remembered: nothing is asked again
    assert asyncio.run(restarted_previews.enqueue_missing(restarted.queue)) == 0
    assert all(bool(v.preview_key) != (v.name in mute) for v in restarted.voices.public_voices)
