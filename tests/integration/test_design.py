"""Design a Voice on real stores and a live server: traits stored per voice and account,
responses as the hosted API's schemas describe them, other accounts' clones never shown."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest

from tests.conftest import private_voice
from tests.contract import hosted_request_validator, hosted_validator
from tests.integration.conftest import LiveServer
from voxhub.domain import Account
from voxhub.engines import installed_engines
from voxhub.services.catalog import catalog_voices
from voxhub.store import Store

TRAITS = '{"version": 1, "pitch_hz": 100.0}'


@pytest.mark.anyio
async def test_traits_are_kept_per_voice_for_its_account_and_go_with_the_voice(
    store: Store,
) -> None:
    public = catalog_voices(installed_engines())[:2]
    await store.sync_public_voices(public, synced_at=1)
    mine = await store.get_or_create_account(Account("a" * 32, "a", 1))
    theirs = await store.get_or_create_account(Account("b" * 32, "b", 1))
    clone = private_voice(mine.account_id, status="complete")
    other = private_voice(theirs.account_id, status="complete")
    for voice in (clone, other):
        await store.insert_voice(voice, updated_at=1)
    for voice in (*public, clone, other):
        await store.set_voice_traits(voice.voice_id, TRAITS, 10)
    await store.set_voice_traits(public[0].voice_id, '{"version": 1, "pitch_hz": 90.0}', 11)

    assert await store.voice_traits(None) == {
        public[0].voice_id: '{"version": 1, "pitch_hz": 90.0}',
        public[1].voice_id: TRAITS,
    }
    assert await store.voice_traits(mine.account_id) == {clone.voice_id: TRAITS}
    await store.delete_private_voice(clone.voice_id, mine.account_id)
    assert await store.voice_traits(mine.account_id) == {}
    assert await store.voice_traits(theirs.account_id) == {other.voice_id: TRAITS}


def design(server: LiveServer, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"x-api-key": key or server.key}
    # The first request embeds every voice's description in the (one) worker.
    return httpx.post(server.base_url + "/v3/voices", json=body, headers=headers, timeout=300)


def test_answers_conform_to_the_hosted_schemas(live_server: LiveServer) -> None:
    request = {"prompt": "deep calm male narrator, British", "seed": 0}
    hosted_request_validator("POST /v3/voices").validate(request)
    response = design(live_server, request)
    assert response.status_code == 200
    hosted_validator("POST /v3/voices").validate(response.json())
    voices = response.json()["data"]["voices"]
    assert len(voices) == 3
    assert all(v["gender"] == "male" for v in voices)  # every British voice here is male

    filtered = design(live_server, {"prompt": "a voice", "gender": "female", "locale": "ja-JP"})
    hosted_validator("POST /v3/voices").validate(filtered.json())
    assert {v["gender"] for v in filtered.json()["data"]["voices"]} == {"female"}
    assert design(live_server, {"prompt": "a voice", "seed": 1}).json()["data"]["seed"] == 1

    bad = design(live_server, {"prompt": "a voice", "seed": -1})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "seed"


def test_another_accounts_clone_is_never_designed(live_server: LiveServer) -> None:
    owner = live_server.new_key("design-owner")
    clone = private_voice(
        owner.key.account_id, name="Zanzibar Whisperwind", status="complete", gender="female"
    )
    live_server.insert_voice(clone)
    prompt = "Zanzibar Whisperwind"

    def found(key: str) -> list[str]:
        names: list[str] = []
        for seed in range(3):
            body = design(live_server, {"prompt": prompt, "seed": seed}, key).json()
            names += [v["name"] for v in body["data"]["voices"]]
        return names

    assert "Zanzibar Whisperwind" in found(owner.plain)
    assert "Zanzibar Whisperwind" not in found(live_server.key)


@pytest.mark.parametrize("prompt", ["", "x" * 1001])
def test_a_prompt_out_of_bounds_is_400(live_server: LiveServer, prompt: str) -> None:
    response = design(live_server, {"prompt": prompt})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"
