"""Cloning over HTTP, end to end on the in-memory store with real audio work (run inline)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.audio_fixtures import PNG_HEADER, other_speaker, video, wav_bytes
from tests.contract import hosted_validator, seed_response_validator
from tests.unit.conftest import account_of, follow, issue_key, run_next_job, unit_services
from voxhub.api import create_app
from voxhub.audio.analysis import decode_sample
from voxhub.engines import EspeakEngine, PiperEngine
from voxhub.ids import public_voice_id
from voxhub.services import Services
from voxhub.services import clones as clones_service
from voxhub.services.catalog import sync_catalog
from voxhub.services.previews import preview_sentence
from voxhub.store import MemoryStore
from voxhub.workers.cloning import CloneJob, CloneOutcome, process_clone

JOE = public_voice_id("piper", "en_US-joe-medium")


@pytest.fixture(scope="module")
def reference_wav() -> bytes:
    """About 25 s of another speaker at 16 kHz."""
    return other_speaker(25.0)


@pytest.fixture
def clone_services() -> Services:
    store = MemoryStore()
    asyncio.run(sync_catalog(store, [PiperEngine(), EspeakEngine()], synced_at=1))
    return unit_services(store, ["piper", "espeak"], VOXHUB_CLONES_PER_ACCOUNT="3")


@pytest.fixture
def clone_client(clone_services: Services) -> Iterator[TestClient]:
    @asynccontextmanager
    async def opened() -> Any:
        await clone_services.voices.load_catalog()
        yield clone_services

    with TestClient(create_app(opened), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def key(clone_services: Services) -> str:
    return issue_key(clone_services, "cloner")


def clone(client: TestClient, key: str, audio: dict[str, Any], **body: Any) -> Any:
    payload = {"audio": audio, "voice_name": "My voice", **body}
    return client.post("/v3/voices/clone", json=payload, headers={"x-api-key": key})


def b64(data: bytes, media_type: str = "audio/wav") -> dict[str, str]:
    return {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode()}


def get_voice(client: TestClient, key: str, voice_id: str) -> Any:
    return client.get(f"/v3/voices/{voice_id}", headers={"x-api-key": key})


def test_a_clone_is_accepted_at_once_then_completes_and_speaks(
    clone_client: TestClient, clone_services: Services, key: str, reference_wav: bytes
) -> None:
    accepted = clone(clone_client, key, b64(reference_wav), language="en")
    assert accepted.status_code == 200, accepted.text
    hosted_validator("POST /v3/voices/clone").validate(accepted.json())
    voice_id = accepted.json()["data"]["voice_clone_id"]
    processing = get_voice(clone_client, key, voice_id).json()["data"]
    assert processing["status"] == "processing"
    assert processing["preview_audio_url"] is None

    assert run_next_job(clone_services) is True
    response = get_voice(clone_client, key, voice_id)
    seed_response_validator(200).validate(response.json())
    done = response.json()["data"]
    assert done["status"] == "complete", done
    assert (done["name"], done["language"], done["gender"]) == ("My voice", "English", "male")
    assert follow(clone_client, done["preview_audio_url"]).status_code == 200
    owner = account_of(clone_services, key)
    stored = asyncio.run(clone_services.store.get_private_voice(voice_id, owner))
    assert stored is not None
    assert stored.profile is not None
    profile = json.loads(stored.profile)
    assert len(profile["speaker_embedding"]) == 256  # the reference's, kept with the profile
    # the conversion's strength was searched: never further from the speaker than the base
    assert profile["similarity"] >= profile["base_similarity"]
    if profile["transform"] is not None:
        assert profile["transform"] == "world"
        assert profile["parameters"]["strength"] in (0.5, 1.0)
        assert profile["parameters"]["band_hz"] == 8000  # decoded at 16 kHz: nothing above
    # Design a Voice measured the complete clone from its preview.
    measured = asyncio.run(clone_services.store.voice_traits(owner))
    assert 60 < json.loads(measured[voice_id])["pitch_hz"] < 500

    listed = clone_client.get("/v3/voices?type=private", headers={"x-api-key": key}).json()
    assert [(v["voice_id"], v["status"]) for v in listed["data"]] == [(voice_id, "complete")]
    spoken = clone_client.post(
        "/v3/voices/speech",
        json={"text": "Hello from my cloned voice.", "voice_id": voice_id},
        headers={"x-api-key": key},
    )
    assert spoken.status_code == 200, spoken.text
    assert [w["word"] for w in spoken.json()["data"]["word_timestamps"]][:2] == ["Hello", "from"]


def test_an_unusable_sample_fails_with_a_message(
    clone_client: TestClient, clone_services: Services, key: str
) -> None:
    silence = wav_bytes(np.zeros(16000 * 8, np.float32), 16000)
    voice_id = clone(clone_client, key, b64(silence)).json()["data"]["voice_clone_id"]
    run_next_job(clone_services)
    data = get_voice(clone_client, key, voice_id).json()["data"]
    assert data["status"] == "failed"
    assert "silent" in data["failure_message"]
    spoken = clone_client.post(
        "/v3/voices/speech", json={"text": "Hi.", "voice_id": voice_id}, headers={"x-api-key": key}
    )
    assert spoken.status_code == 400
    assert spoken.json()["error"]["param"] == "voice_id"


def test_a_clone_takes_its_sample_from_a_videos_sound(
    clone_client: TestClient, clone_services: Services, key: str
) -> None:
    film = video("webm", decode_sample(other_speaker(20.0)))
    accepted = clone(clone_client, key, b64(film, "video/webm"), language="en")
    assert accepted.status_code == 200, accepted.text
    assert run_next_job(clone_services) is True
    data = get_voice(clone_client, key, accepted.json()["data"]["voice_clone_id"]).json()["data"]
    assert data["status"] == "complete", data


def test_a_video_without_sound_fails_saying_so(
    clone_client: TestClient, clone_services: Services, key: str
) -> None:
    silent_film = video("mp4")
    accepted = clone(clone_client, key, b64(silent_film, "video/mp4"), language="en")
    assert accepted.status_code == 200, accepted.text
    run_next_job(clone_services)
    data = get_voice(clone_client, key, accepted.json()["data"]["voice_clone_id"]).json()["data"]
    assert data["status"] == "failed"
    assert "video has no sound" in data["failure_message"]


def test_a_clone_waits_for_a_direct_upload_to_be_completed(
    clone_client: TestClient, key: str
) -> None:
    declared = {"filename": "a.wav", "content_type": "audio/wav", "size_bytes": 100}
    slot = clone_client.post(
        "/v3/assets/direct-uploads", json=declared, headers={"x-api-key": key}
    ).json()["data"]
    response = clone(clone_client, key, {"type": "asset_id", "asset_id": slot["asset_id"]})
    assert response.status_code == 400
    assert "not complete" in response.json()["error"]["message"]


def test_a_sample_from_an_asset_and_isolation_of_assets(
    clone_client: TestClient, clone_services: Services, key: str, reference_wav: bytes
) -> None:
    files = {"file": ("me.wav", reference_wav, "audio/wav")}
    asset = clone_client.post("/v3/assets", files=files, headers={"x-api-key": key}).json()
    asset_id = asset["data"]["asset_id"]
    assert clone(clone_client, key, {"type": "asset_id", "asset_id": asset_id}).status_code == 200
    stranger = issue_key(clone_services, "stranger")
    theirs = clone(clone_client, stranger, {"type": "asset_id", "asset_id": asset_id})
    assert theirs.status_code == 400
    assert theirs.json()["error"]["param"] == "audio.asset_id"


PNG_B64 = base64.b64encode(PNG_HEADER).decode()
BAD = [
    ({"audio": None}, "audio"),
    ({"audio": {"type": "ftp", "url": "x"}}, "audio"),
    ({"audio": {"type": "url"}}, "audio.url"),
    ({"audio": {"type": "asset_id", "asset_id": "a", "extra": 1}}, "audio.extra"),
    ({"audio": {"type": "base64", "media_type": "audio/wav", "data": "@@nope@@"}}, "audio.data"),
    ({"audio": {"type": "base64", "media_type": "audio/wav", "data": PNG_B64}}, "audio"),
    ({"audio": {"type": "url", "url": "http://127.0.0.1/a.wav"}}, "audio.url"),
    ({"audio": {"type": "url", "url": "file:///etc/passwd"}}, "audio.url"),
    ({"voice_name": ""}, "voice_name"),
    ({"voice_name": "x" * 101}, "voice_name"),
    ({"language": "tlh"}, "language"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "param"), BAD, ids=[p for _, p in BAD])
def test_bad_bodies_are_400_and_create_nothing(
    clone_client: TestClient, clone_services: Services, key: str, change: dict[str, Any], param: str
) -> None:
    body = {"audio": b64(b"RIFF"), "voice_name": "v", **change}
    response = clone_client.post("/v3/voices/clone", json=body, headers={"x-api-key": key})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert clone_services.store.voices == {} or all(  # type: ignore[attr-defined]
        v.account_id is None
        for v in clone_services.store.voices.values()  # type: ignore[attr-defined]
    )


def test_the_clone_limit_is_400_until_one_is_deleted(
    clone_client: TestClient, key: str, reference_wav: bytes
) -> None:
    ids = [
        clone(clone_client, key, b64(reference_wav)).json()["data"]["voice_clone_id"]
        for _ in range(3)
    ]
    over = clone(clone_client, key, b64(reference_wav))
    assert over.status_code == 400
    assert over.json()["error"]["code"] == "resource_limit_exceeded"
    deleted = clone_client.delete(f"/v3/voices/{ids[0]}", headers={"x-api-key": key})
    assert deleted.json() == {"data": {"voice_id": ids[0]}}
    assert clone(clone_client, key, b64(reference_wav)).status_code == 200


def test_delete_is_404_for_others_and_unknown_and_403_for_public_voices(
    clone_client: TestClient, clone_services: Services, key: str, reference_wav: bytes
) -> None:
    voice_id = clone(clone_client, key, b64(reference_wav)).json()["data"]["voice_clone_id"]
    stranger = issue_key(clone_services, "stranger")
    assert (
        clone_client.delete(f"/v3/voices/{voice_id}", headers={"x-api-key": stranger}).status_code
        == 404
    )
    assert (
        clone_client.delete(f"/v3/voices/{'0' * 32}", headers={"x-api-key": key}).status_code == 404
    )
    public = clone_client.delete(f"/v3/voices/{JOE}", headers={"x-api-key": key})
    assert public.status_code == 403
    assert (
        clone_client.delete(f"/v3/voices/{voice_id}", headers={"x-api-key": key}).status_code == 200
    )
    assert get_voice(clone_client, key, voice_id).status_code == 404
    assert run_next_job(clone_services) is False  # its job went with it


def test_a_clone_past_its_deadline_is_never_shown_processing(
    clone_client: TestClient, clone_services: Services, key: str, reference_wav: bytes
) -> None:
    voice_id = clone(clone_client, key, b64(reference_wav)).json()["data"]["voice_clone_id"]
    store = clone_services.store
    stuck = store.voices[voice_id]  # type: ignore[attr-defined]
    store.voices[voice_id] = dataclasses.replace(stuck, created_at=stuck.created_at - 601)  # type: ignore[attr-defined]
    shown = get_voice(clone_client, key, voice_id).json()["data"]
    assert shown["status"] == "failed"
    assert "could not process" in shown["failure_message"]
    assert run_next_job(clone_services) is True
    stored = store.voices[voice_id]  # type: ignore[attr-defined]
    assert (stored.status, stored.failure_message) == ("failed", shown["failure_message"])


def test_another_accounts_clone_and_asset_are_404_in_every_endpoint(
    clone_client: TestClient, clone_services: Services, key: str, reference_wav: bytes
) -> None:
    voice_id = clone(clone_client, key, b64(reference_wav)).json()["data"]["voice_clone_id"]
    run_next_job(clone_services)
    files = {"file": ("me.wav", reference_wav, "audio/wav")}
    asset_id = clone_client.post("/v3/assets", files=files, headers={"x-api-key": key}).json()[
        "data"
    ]["asset_id"]
    stranger = {"x-api-key": issue_key(clone_services, "stranger")}
    calls = {
        "get voice": lambda: clone_client.get(f"/v3/voices/{voice_id}", headers=stranger),
        "speech": lambda: clone_client.post(
            "/v3/voices/speech", json={"text": "Hi.", "voice_id": voice_id}, headers=stranger
        ),
        "delete voice": lambda: clone_client.delete(f"/v3/voices/{voice_id}", headers=stranger),
        "get asset": lambda: clone_client.get(f"/v3/assets/{asset_id}", headers=stranger),
        "delete asset": lambda: clone_client.delete(f"/v3/assets/{asset_id}", headers=stranger),
        "complete asset": lambda: clone_client.post(
            f"/v3/assets/{asset_id}/complete", headers=stranger
        ),
        "clone from asset": lambda: clone_client.post(
            "/v3/voices/clone",
            json={"voice_name": "x", "audio": {"type": "asset_id", "asset_id": asset_id}},
            headers=stranger,
        ),
    }
    for name, call in calls.items():
        assert call().status_code == (400 if name == "clone from asset" else 404), name
    listed = clone_client.get("/v3/voices?type=private", headers=stranger).json()
    assert listed["data"] == []
    owner = account_of(clone_services, key)
    their_assets = clone_client.get("/v3/assets", params={"username": owner}, headers=stranger)
    assert their_assets.json()["data"] == []
    statuses = clone_client.get(
        "/v3/assets/statuses", params={"asset_ids": asset_id}, headers=stranger
    ).json()["data"]
    assert [entry["status"] for entry in statuses] == ["not_found"]
    # and the owner still has both
    assert get_voice(clone_client, key, voice_id).json()["data"]["status"] == "complete"
    assert clone_client.get(f"/v3/assets/{asset_id}", headers={"x-api-key": key}).status_code == 200


def test_a_49_mb_sample_is_accepted_and_a_51_mb_one_refused(
    clone_client: TestClient, clone_services: Services, key: str, reference_wav: bytes
) -> None:
    mb = 1024 * 1024
    big = reference_wav + bytes(49 * mb - len(reference_wav))
    accepted = clone(clone_client, key, b64(big))
    assert accepted.status_code == 200
    too_big = clone(clone_client, key, b64(reference_wav + bytes(51 * mb - len(reference_wav))))
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
    assert run_next_job(clone_services) is True
    voice_id = accepted.json()["data"]["voice_clone_id"]
    assert get_voice(clone_client, key, voice_id).json()["data"]["status"] in ("complete", "failed")


def test_a_blending_clone_keeps_its_frames_beside_its_record_and_speaks_without_them(
    clone_client: TestClient,
    clone_services: Services,
    key: str,
    reference_wav: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    voice_id = clone(clone_client, key, b64(reference_wav), language="en").json()["data"][
        "voice_clone_id"
    ]
    assert run_next_job(clone_services) is True
    owner = account_of(clone_services, key)
    stored = asyncio.run(clone_services.store.get_private_voice(voice_id, owner))
    assert stored is not None
    assert stored.profile is not None
    assert len(stored.profile) < 20_000  # what Get Voice reads: no frames
    parameters = json.loads(stored.profile)["parameters"]
    assert parameters["blend"] > 0  # eSpeak's reference is far from Joe: the search blends
    frames_key = parameters["stored"]["frames"]
    assert frames_key == f"clones/{voice_id}/frames.json"
    assert json.loads(clone_services.files.storage.read(frames_key) or b"{}")["count"] > 100

    def speak() -> Any:
        return clone_client.post(
            "/v3/voices/speech",
            json={"text": "Hello from my cloned voice.", "voice_id": voice_id},
            headers={"x-api-key": key},
        )

    assert speak().status_code == 200
    clone_services.files.storage.delete(frames_key)
    with caplog.at_level("ERROR", logger="voxhub.services.speech"):
        assert speak().status_code == 200  # the voice, without its blending
    assert "a clone's file is missing" in caplog.text


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_clones_preview_says_its_languages_sentence(
    clone_client: TestClient,
    clone_services: Services,
    key: str,
    reference_wav: bytes,
    language: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plans: list[CloneJob] = []

    def recording(plan: CloneJob) -> CloneOutcome:
        plans.append(plan)
        return process_clone(plan)

    monkeypatch.setattr(clones_service, "process_clone", recording)
    accepted = clone(clone_client, key, b64(reference_wav), language=language)
    assert accepted.status_code == 200, accepted.text
    assert run_next_job(clone_services) is True
    assert [plan.preview_text for plan in plans] == [preview_sentence(language)]
    assert preview_sentence(language) != preview_sentence("xx")  # not the numbers
