"""The SDK against a live voxhub over real HTTP: the calls that exist on the server today."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.audio_fixtures import decoded_seconds, wav_bytes
from tests.conftest import private_voice
from tests.integration.conftest import LIVE_ENVIRONMENT, LiveServer, run_live_server
from voxhub.client import (
    AsyncClient,
    AuthenticationFailed,
    BadRequest,
    Client,
    CloneFailed,
    CloneTimeout,
    NotFound,
    RetryPolicy,
    verify,
)
from voxhub.ids import public_voice_id
from voxhub.settings import load_settings
from voxhub.webhooks import signature_header

ESPEAK_EN = public_voice_id("espeak", "gmw/en-US")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server for the module; loopback allowed so a webhook endpoint can be made."""
    environ = {
        **LIVE_ENVIRONMENT,
        "VOXHUB_DATA_DIR": str(tmp_path_factory.mktemp("sdk-data")),
        "VOXHUB_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
    }
    yield from run_live_server(load_settings(environ=environ))


@pytest.fixture
def client(server: LiveServer) -> Iterator[Client]:
    with Client(server.key, server.base_url) as made:
        yield made


def test_voices_page_through_the_whole_catalog(client: Client) -> None:
    at_once = [v.voice_id for v in client.voices.list(language="English", page_size=100)]
    paged = [v.voice_id for v in client.voices.list(language="English", page_size=7)]
    assert len(at_once) > 7
    assert paged == at_once
    voice = client.voices.get(ESPEAK_EN)
    assert (voice.name, voice.status, voice.support_pause) == ("English (America)", None, True)
    with pytest.raises(NotFound) as raised:
        client.voices.get("0" * 32)
    assert raised.value.code == "voice_not_found"
    assert raised.value.request_id


def test_a_wrong_key_is_authentication_failed(server: LiveServer) -> None:
    with (
        Client("vxk_0000000000000000_nope", server.base_url) as client,
        pytest.raises(AuthenticationFailed),
    ):
        client.voices.get(ESPEAK_EN)


def test_speech_to_a_file(client: Client, tmp_path: Path) -> None:
    out = tmp_path / "hello.mp3"
    speech = client.speech.to_file(out, "Hello from the SDK.", ESPEAK_EN)
    assert abs(decoded_seconds(out.read_bytes()) - speech.duration) < 0.06
    assert [w.word for w in speech.word_timestamps or []] == ["Hello", "from", "the", "SDK"]
    wav = client.speech.to_bytes("Again.", ESPEAK_EN, output_format="wav")
    assert wav.startswith(b"RIFF")
    with pytest.raises(BadRequest) as raised:
        client.speech.create("Hi", ESPEAK_EN, speed=9.0)
    assert raised.value.param == "speed"


def test_upload_then_clone_from_the_asset_once_per_idempotency_key(
    client: Client, server: LiveServer
) -> None:
    sample = wav_bytes(np.zeros(16000, np.float32), 16000)
    asset = client.assets.upload(sample, filename="me.wav")
    assert client.assets.get(asset.asset_id).name == "me.wav"
    first = client.clones.create("Me", asset_id=asset.asset_id, idempotency_key="sdk-clone-1")
    again = client.clones.create("Me", asset_id=asset.asset_id, idempotency_key="sdk-clone-1")
    assert again.voice_id == first.voice_id
    assert client.voices.get(first.voice_id).status == "processing"
    with pytest.raises(CloneTimeout):  # this server runs no job worker: it stays processing
        client.clones.wait(first.voice_id, timeout=0)


def test_wait_returns_a_complete_clone_and_raises_a_failed_ones_message(
    server: LiveServer,
) -> None:
    issued = server.new_key("sdk-waits")
    account = issued.key.account_id
    done = private_voice(account, status="complete")
    failed = private_voice(account, status="failed", failure_message="Only 1 s of speech.")
    server.insert_voice(done)
    server.insert_voice(failed)
    with Client(issued.plain, server.base_url) as client:
        assert client.clones.wait(done.voice_id).status == "complete"
        with pytest.raises(CloneFailed) as raised:
            client.clones.wait(failed.voice_id)
    assert raised.value.failure_message == "Only 1 s of speech."


def test_a_rate_limited_key_is_retried_after_retry_after(server: LiveServer) -> None:
    key = server.new_key("sdk-limited", rate_limit="2/second").plain
    slept: list[float] = []
    with Client(key, server.base_url, retries=RetryPolicy(max_retries=5)) as client:
        original = client._sleep

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            original(seconds)

        client._sleep = sleep  # type: ignore[method-assign]
        names = [client.voices.get(ESPEAK_EN).name for _ in range(4)]
    assert names == ["English (America)"] * 4
    assert slept  # at least one 429 was waited out, as long as the server said
    assert all(0 < seconds <= 1 for seconds in slept)


def test_webhook_endpoints_and_the_re_exported_verifier(client: Client) -> None:
    endpoint = client.webhooks.create_endpoint(
        "http://127.0.0.1:9/hook", ["voice_clone.success", "voice_clone.fail"]
    )
    assert endpoint.secret is not None
    assert endpoint.endpoint_id in [e.endpoint_id for e in client.webhooks.list_endpoints()]
    updated = client.webhooks.update_endpoint(endpoint.endpoint_id, events=["voice_clone.fail"])
    assert updated.events == ["voice_clone.fail"]
    rotated = client.webhooks.rotate_secret(endpoint.endpoint_id)
    assert rotated.secret != endpoint.secret
    assert "voice_clone.fail" in [t.event_type for t in client.webhooks.event_types()]
    client.webhooks.delete_endpoint(endpoint.endpoint_id)
    with pytest.raises(NotFound):
        client.webhooks.delete_endpoint(endpoint.endpoint_id)
    body = b'{"event_type": "voice_clone.fail", "event_data": {}}'
    headers = {"Heygen-Signature": signature_header(body, [rotated.secret]),
               "Heygen-Timestamp": "1000"}  # fmt: skip
    assert verify(body, headers, rotated.secret, now=1000)["event_type"] == "voice_clone.fail"


@pytest.mark.anyio
async def test_the_async_client_against_the_server(server: LiveServer) -> None:
    async with AsyncClient(server.key, server.base_url) as client:
        voice = await client.voices.get(ESPEAK_EN)
        listed = [v.voice_id async for v in client.voices.list(language="English", page_size=50)]
        speech = await client.speech.create("Async hello.", ESPEAK_EN)
        audio = await client.speech.download(speech)
    assert voice.voice_id in listed
    assert abs(decoded_seconds(audio) - speech.duration) < 0.06
