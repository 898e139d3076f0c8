"""Design a Voice over the in-memory store: ranking by meaning, filters, batches, isolation."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import private_voice
from tests.unit.conftest import StaticEngine, account_of, issue_key, unit_services
from voxhub.audio.voicetraits import measure_traits
from voxhub.domain import USER_PRIORITY, Job, Voice
from voxhub.engines import KokoroEngine
from voxhub.services import Services
from voxhub.services.catalog import sync_catalog
from voxhub.services.clones import CLONE_JOB
from voxhub.services.design import TRAITS_VERSION, DesignRequest, describe, scores
from voxhub.services.previews import PREVIEW_JOB
from voxhub.store import MemoryStore
from voxhub.workers import state
from voxhub.workers.embedding import embed_texts
from voxhub.workers.pool import InlineRunner

LOW_MALE = {"pitch_hz": 92.0, "pitch_range_semitones": 4.0, "syllables_per_second": 3.2,
            "spectral_centroid_hz": 400.0, "high_low_balance_db": -12.0}  # fmt: skip
HIGH_FEMALE = {"pitch_hz": 310.0, "pitch_range_semitones": 10.0, "syllables_per_second": 5.0,
               "spectral_centroid_hz": 800.0, "high_low_balance_db": -5.0}  # fmt: skip


def voice_named(services: Services, name: str) -> Voice:
    return next(v for v in services.voices.public_voices if v.name == name)


def set_traits(store: MemoryStore, voice_id: str, traits: dict[str, float]) -> None:
    stored = json.dumps({"version": TRAITS_VERSION, **traits})
    asyncio.run(store.set_voice_traits(voice_id, stored, 1))


def design(services: Services, account: str, prompt: str, **options: Any) -> list[str]:
    assert services.design is not None
    result = asyncio.run(services.design.design(account, DesignRequest(prompt, **options)))
    return [v.name for v in result.voices]


@pytest.fixture
def measured(services: Services, store: MemoryStore) -> Services:
    asyncio.run(services.voices.load_catalog())
    set_traits(store, voice_named(services, "Bob").voice_id, LOW_MALE)
    set_traits(store, voice_named(services, "Alice").voice_id, HIGH_FEMALE)
    return services


def test_the_model_gives_sentence_transformers_own_embedding() -> None:
    # sentence-transformers' documented output for this sentence with all-MiniLM-L6-v2.
    vector = embed_texts(("This is an example sentence",))[0]
    expected = [0.0676569, 0.0634959, 0.0487131, 0.0793050, 0.0374480]
    assert np.allclose(vector[:5], expected, atol=1e-5)
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)


def test_a_description_says_what_was_measured(measured: Services) -> None:
    bob = voice_named(measured, "Bob")
    text = describe(bob, LOW_MALE, neural=False, locale="en-GB")
    for words in ("deep", "monotone", "slow", "warm", "British accent", "formant", "Bob"):
        assert words in text
    unmeasured = describe(bob, None, neural=True, locale=None)
    for words in ("deep", "monotone", "slow", "warm"):
        assert words not in unmeasured
    assert "a male voice" in unmeasured
    assert "neural" in unmeasured


def test_a_deep_male_prompt_finds_the_measured_low_male_voice(measured: Services) -> None:
    names = design(measured, "acme", "deep, low male voice, calm and slow")
    assert names[0] == "Bob"
    high = design(measured, "acme", "a bright, high-pitched, lively female voice")
    assert high[0] == "Alice"


def test_the_same_prompt_and_seed_give_the_same_voices_and_seeds_page(measured: Services) -> None:
    first = design(measured, "acme", "warm narrator")
    assert design(measured, "acme", "warm narrator") == first
    second = design(measured, "acme", "warm narrator", seed=1)
    assert len(first) == 3
    assert len(second) == 2
    assert set(first) | set(second) == {"Alice", "Bob", "Chloé", "Dieter", "Eve"}
    assert design(measured, "acme", "warm narrator", seed=2) == []


def test_filters_apply_before_ranking(measured: Services) -> None:
    # Nothing female is deep and male, yet the closest female voices are answered.
    assert set(design(measured, "acme", "deep male voice", gender="female")) == {
        "Alice", "Chloé", "Eve",
    }  # fmt: skip
    assert "Bob" not in design(measured, "acme", "deep male voice", gender="female")
    assert design(measured, "acme", "anything", locale="pt-BR") == []  # no voice speaks it


def test_only_the_callers_own_complete_clones_take_part(
    measured: Services, store: MemoryStore
) -> None:
    mine = private_voice("acct-a", name="My baritone", status="complete", gender="male")
    theirs = private_voice("acct-b", name="Their baritone", status="complete", gender="male")
    pending = private_voice("acct-a", name="Pending baritone", status="processing")
    for voice in (mine, theirs, pending):
        asyncio.run(store.insert_voice(voice, 1))
        set_traits(store, voice.voice_id, LOW_MALE)
    prompt = "My baritone Their baritone Pending baritone: very deep bass male voice"
    everything_a = design(measured, "acct-a", prompt) + design(measured, "acct-a", prompt, seed=1)
    everything_a += design(measured, "acct-a", prompt, seed=2)
    assert "My baritone" in everything_a
    assert "Their baritone" not in everything_a
    assert "Pending baritone" not in everything_a
    everything_b = design(measured, "acct-b", prompt) + design(measured, "acct-b", prompt, seed=1)
    everything_b += design(measured, "acct-b", prompt, seed=2)
    assert "Their baritone" in everything_b
    assert "My baritone" not in everything_b


def test_a_rendered_preview_is_measured_and_stored(
    services: Services, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The in-thread runner's "worker" speaks with the fake engine.
    monkeypatch.setattr(state, "_state", state.WorkerState(None, {"static": StaticEngine()}))
    asyncio.run(services.voices.load_catalog())
    alice = voice_named(services, "Alice")
    job = Job("p" * 32, PREVIEW_JOB, alice.voice_id, None, "{}", 1)
    asyncio.run(services.previews.run(job))
    stored = json.loads(store.traits[alice.voice_id])
    assert stored["pitch_hz"] == pytest.approx(440, rel=0.05)  # the fake engine's tone


def test_pitch_pace_and_range_are_measured_from_audio() -> None:
    rate, seconds = 16000, 4.0
    t = np.arange(int(rate * seconds)) / rate
    glide = 120 * 2 ** (np.sin(2 * np.pi * 0.5 * t) * 6 / 12)  # ±6 semitones around 120 Hz
    phase = 2 * np.pi * np.cumsum(glide) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * 2.0 * t), 0, None)  # 4 loudness peaks a second
    traits = measure_traits((0.2 * voice * syllables).astype(np.float32))
    assert 100 < traits.pitch_hz < 145
    assert 8 < traits.pitch_range_semitones < 13
    assert 3.0 < traits.syllables_per_second < 6.0


def test_bad_requests_are_400_in_the_error_envelope(client: TestClient, services: Services) -> None:
    key = issue_key(services)
    bodies = [
        {},
        {"prompt": ""},
        {"prompt": "   "},
        {"prompt": "x" * 1001},
        {"prompt": "warm", "seed": -1},
        {"prompt": "warm", "seed": "first"},
        {"prompt": "warm", "seed": True},
        {"prompt": "warm", "gender": "robot"},
        {"prompt": "warm", "locale": "not a locale!"},
    ]
    for body in bodies:
        response = client.post("/v3/voices", json=body, headers={"x-api-key": key})
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid_parameter", body


def test_the_route_answers_voices_and_the_seed(client: TestClient, services: Services) -> None:
    key = issue_key(services)
    account_of(services, key)
    response = client.post(
        "/v3/voices", json={"prompt": "a French woman", "seed": 0}, headers={"x-api-key": key}
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["seed"] == 0
    assert 1 <= len(data["voices"]) <= 3
    assert all(v["type"] == "public" for v in data["voices"])
    assert client.get("/v3/voices", headers={"x-api-key": key}).status_code == 200  # still List


def test_an_unmeasured_voice_is_neither_favoured_nor_pushed_down_by_fewer_phrases() -> None:
    # Rows: per voice, the prompt's similarity to each aspect's phrase (None: not measured).
    unmeasured, low, high = scores([[0.5, None], [0.5, 0.1], [0.5, 0.3]])
    assert unmeasured == pytest.approx(0.35)  # the measured aspect's mean stands in for it
    assert low < unmeasured < high


def test_the_warm_up_waits_while_a_clone_is_unfinished(
    measured: Services, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The descriptions' embedding at start is background work in the speech workers, which
    are less nice than the job workers: it must not take the CPU from a clone."""
    monkeypatch.setattr("voxhub.services.design._YIELD_POLL_SECONDS", 0.01)
    runner = measured.runner
    assert isinstance(runner, InlineRunner)
    assert measured.design is not None
    clone = Job("c" * 32, CLONE_JOB, None, None, "{}", 1, USER_PRIORITY)

    async def scenario() -> tuple[int, int]:
        await store.insert_job(clone)
        assert measured.design is not None
        warming = asyncio.create_task(measured.design.keep_warm())
        await asyncio.sleep(0.3)
        while_queued = runner.jobs
        store.jobs[clone.job_id] = replace(store.jobs[clone.job_id], state="done")
        for _ in range(500):
            if runner.jobs:
                break
            await asyncio.sleep(0.01)
        warming.cancel()
        await asyncio.gather(warming, return_exceptions=True)
        return while_queued, runner.jobs

    while_queued, after = asyncio.run(scenario())
    assert while_queued == 0
    assert after > 0


def test_a_clone_on_a_mixed_base_speaks_with_its_languages_locale() -> None:
    """A clone may start from two voices mixed (``Engine.mixes``), which is not listed: asked
    for its base voice's locale, it has its engine's in its language."""
    store = MemoryStore()
    asyncio.run(sync_catalog(store, [KokoroEngine()], synced_at=1))
    services = unit_services(store, ["kokoro"])
    asyncio.run(services.voices.load_catalog())
    mixed = private_voice("acct-a", name="Mixed", status="complete", gender="male", locale=None,
                          engine="kokoro", engine_voice="jf_alpha+jm_kumo.en")  # fmt: skip
    single = replace(mixed, voice_id="b" * 32, name="Single", engine_voice="jm_kumo.en")
    for voice in (mixed, single):
        asyncio.run(store.insert_voice(voice, 1))
        set_traits(store, voice.voice_id, LOW_MALE)
    for locale in ("en-US", "ja-JP"):
        named = design(services, "acct-a", "deep voice", gender="male", locale=locale)
        expected = {"Mixed", "Single"} if locale == "en-US" else set()
        assert {"Mixed", "Single"} & set(named) == expected
