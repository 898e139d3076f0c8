"""Stream Speech and the OpenAI-compatible speech route, through a live server whose one
speech worker renders in a real process; the OpenAI routes are called with the official
``openai`` client."""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import openai
import pytest

from tests.audio_fixtures import decoded_seconds
from tests.conftest import private_voice
from tests.integration.conftest import LIVE_ENVIRONMENT, LiveServer, run_live_server
from tests.integration.test_speech_http import ESPEAK_EN, JOE, long_text
from voxhub.settings import load_settings
from voxhub.workers.script import words_of

pytestmark = pytest.mark.slow

TEXT = "Streaming starts at once. The rest follows, a sentence at a time."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One speech worker and no queue: a second job while one runs is refused."""
    data_dir: Path = tmp_path_factory.mktemp("voxhub-stream")
    environ = {**LIVE_ENVIRONMENT, "VOXHUB_DATA_DIR": str(data_dir), "VOXHUB_SPEECH_QUEUE": "0"}
    yield from run_live_server(load_settings(environ=environ))


def _post(server: LiveServer, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"x-api-key": server.key, **kwargs.pop("headers", {})}
    return httpx.post(f"{server.base_url}{path}", headers=headers, timeout=120, **kwargs)


def _file_answer(server: LiveServer, **body: Any) -> tuple[dict[str, Any], bytes]:
    response = _post(server, "/v3/voices/speech", json=body)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return data, httpx.get(data["audio_url"], timeout=30).content


def _wav_data(wav: bytes) -> bytes:
    """The samples of a WAV file (FFmpeg writes a LIST chunk before them)."""
    return wav[wav.index(b"data") + 8 :]


def _wait_until_idle(server: LiveServer, stopped_before: int) -> None:
    """Until the worker is free again after a stream stopped (progress, generous bound)."""
    deadline = time.monotonic() + 120
    speech = server.services.speech
    while server.services.runner.in_flight or speech.streams.stopped == stopped_before:
        assert time.monotonic() < deadline, "the worker was not freed"
        time.sleep(0.05)


def test_a_pcm_stream_plays_as_long_as_the_file_answer(server: LiveServer) -> None:
    data, wav = _file_answer(server, text=TEXT, voice_id=ESPEAK_EN, output_format="wav")
    body = {"text": TEXT, "voice_id": ESPEAK_EN, "output_format": "pcm"}
    with httpx.stream(
        "POST",
        f"{server.base_url}/v3/voices/speech/stream",
        json=body,
        headers={"x-api-key": server.key},
        timeout=60,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "audio/pcm"
        rate = int(response.headers["x-sample-rate"])
        pcm = b"".join(response.iter_bytes())
    file_samples = _wav_data(wav)[::2]
    assert rate == 22050
    # eSpeak NG's timing varies by a few samples between renders (the same samples encode to
    # the same PCM: tests/unit/test_stream_encoding.py)
    assert abs(len(pcm) / 2 - len(file_samples)) < 0.01 * rate
    assert abs(len(pcm) / 2 / rate - data["duration"]) < 0.01


def test_an_mp3_stream_of_a_neural_voice_plays_as_long_as_the_file(server: LiveServer) -> None:
    data, _ = _file_answer(server, text=TEXT, voice_id=JOE)
    response = _post(server, "/v3/voices/speech/stream", json={"text": TEXT, "voice_id": JOE})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    # Piper samples its durations (two renders differ by a few percent); the stream's MP3
    # also carries the encoder's delay, which a file's header tells players to skip.
    assert abs(decoded_seconds(response.content) - data["duration"]) < 0.1 * data["duration"]


def test_the_event_stream_carries_the_audio_and_each_words_timing(server: LiveServer) -> None:
    data, wav = _file_answer(server, text=TEXT, voice_id=ESPEAK_EN, output_format="wav")
    response = _post(
        server,
        "/v3/voices/speech/stream",
        json={"text": TEXT, "voice_id": ESPEAK_EN, "output_format": "wav"},
        headers={"accept": "text/event-stream"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [
        (block.split("\n")[0].removeprefix("event: "), json.loads(block.split("data: ", 1)[1]))
        for block in response.text.strip().split("\n\n")
    ]
    audio = b"".join(base64.b64decode(e["audio"]) for name, e in events if name == "audio")
    words = [w for name, e in events if name == "words" for w in e["words"]]
    assert events[-1][0] == "done"
    assert events[-1][1]["request_id"] == response.headers["x-request-id"]
    assert abs(len(_wav_data(audio)) - len(_wav_data(wav))) < 0.02 * 22050
    assert abs(events[-1][1]["duration"] - data["duration"]) < 0.01
    assert [w["word"] for w in words] == [w.text for w in words_of(TEXT)]
    assert [w["word"] for w in words] == [w["word"] for w in data["word_timestamps"]]
    assert all(a["start"] <= b["start"] for a, b in itertools.pairwise(words))
    assert 0 < words[-1]["end"] <= events[-1][1]["duration"]


def test_a_client_that_goes_away_frees_the_worker(server: LiveServer) -> None:
    stopped = server.services.speech.streams.stopped
    body = {"text": long_text(3000), "voice_id": JOE, "output_format": "pcm"}
    with httpx.stream(
        "POST",
        f"{server.base_url}/v3/voices/speech/stream",
        json=body,
        headers={"x-api-key": server.key},
        timeout=60,
    ) as response:
        assert response.status_code == 200
        assert next(response.iter_bytes())
    _wait_until_idle(server, stopped)
    assert server.services.speech.streams.stopped == stopped + 1
    # and the worker takes the next request
    assert _post(
        server, "/v3/voices/speech/stream", json={"text": "Next.", "voice_id": JOE}
    ).content


def test_a_full_pool_is_refused_before_any_byte(server: LiveServer) -> None:
    stopped = server.services.speech.streams.stopped
    body = {"text": long_text(3000), "voice_id": JOE, "output_format": "pcm"}
    with httpx.stream(
        "POST",
        f"{server.base_url}/v3/voices/speech/stream",
        json=body,
        headers={"x-api-key": server.key},
        timeout=60,
    ) as holding:
        assert next(holding.iter_bytes())  # the one worker is rendering
        refused = _post(server, "/v3/voices/speech/stream", json=body)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/json"
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert int(refused.headers["retry-after"]) >= 1
    _wait_until_idle(server, stopped)


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=f"{server.base_url}/v1", api_key=server.key, max_retries=0
    ) as opened:
        yield opened


def test_the_openai_client_speaks_every_format(server: LiveServer, client: openai.OpenAI) -> None:
    text = "Hello from the compatible route."
    data, _ = _file_answer(server, text=text, voice_id=ESPEAK_EN)
    mp3 = client.audio.speech.create(model="tts-1", voice=ESPEAK_EN, input=text)
    wav = client.audio.speech.create(
        model="tts-1", voice="English (America)", input=text, response_format="wav"
    )
    pcm = client.audio.speech.create(
        model="tts-1", voice=ESPEAK_EN, input=text, response_format="pcm"
    )
    assert abs(decoded_seconds(mp3.content) - data["duration"]) < 0.1
    assert abs(decoded_seconds(wav.content) - data["duration"]) < 0.002
    assert abs(len(pcm.content) / 2 / 24000 - data["duration"]) < 0.01  # OpenAI's 24 kHz
    assert "tts-1" in [model.id for model in client.models.list()]


def test_the_openai_client_streams_audio_and_events_of_a_clone(
    server: LiveServer, client: openai.OpenAI
) -> None:
    owner = server.new_key("narrator")
    clone = private_voice(owner.key.account_id, name="Studio Narrator", status="complete")
    server.insert_voice(clone)
    text = "A cloned voice streams too. Every sentence arrives as it is spoken."
    with pytest.raises(openai.NotFoundError):  # another account's clone
        client.audio.speech.create(model="tts-1", voice=clone.voice_id, input=text)
    client = client.with_options(api_key=owner.plain)
    response = _post(server, "/v3/voices/speech", json={"text": text, "voice_id": clone.voice_id},
                      headers={"x-api-key": owner.plain})  # fmt: skip
    data = response.json()["data"]
    speech = client.audio.speech.with_streaming_response
    with speech.create(model="tts-1", voice="studio narrator", input=text) as response:
        audio = b"".join(response.iter_bytes())
    assert abs(decoded_seconds(audio) - data["duration"]) < 0.1
    with speech.create(
        model="gpt-4o-mini-tts", voice=clone.voice_id, input=text, stream_format="sse"
    ) as response:
        events = [json.loads(line[6:]) for line in response.iter_lines() if line]
    assert [e["type"] for e in events[-2:]] == ["speech.audio.delta", "speech.audio.done"]
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert abs(decoded_seconds(audio) - data["duration"]) < 0.1


def test_openai_errors_take_openais_shape(server: LiveServer, client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi.")
    error = unknown.value.response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["type"], error["param"]) == ("invalid_request_error", "voice")
    assert "alloy" in error["message"]

    with pytest.raises(openai.BadRequestError) as bad:
        client.audio.speech.create(model="tts-1", voice=JOE, input="Hi.", speed=3.0)
    assert bad.value.response.json()["error"]["param"] == "speed"

    stranger = openai.OpenAI(base_url=client.base_url, api_key="vx_wrong", max_retries=0)
    with stranger, pytest.raises(openai.AuthenticationError) as refused:
        stranger.audio.speech.create(model="tts-1", voice=JOE, input="Hi.")
    assert refused.value.response.json()["error"]["type"] == "authentication_error"
