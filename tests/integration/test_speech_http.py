"""Generate Speech through a live server whose synthesis runs in real worker processes."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx2 as httpx

from tests.audio_fixtures import decoded_seconds
from tests.contract import hosted_speech_response_validator
from tests.integration.conftest import LiveServer
from voxhub.ids import public_voice_id
from voxhub.workers.script import words_of

ESPEAK_EN = public_voice_id("espeak", "gmw/en-US")
JOE = public_voice_id("piper", "en_US-joe-medium")
SENTENCES = [
    "The committee met on Tuesday to discuss the budget for next year.",
    "Several members asked for more detail about the cost of repairs.",
    "After a long debate, they agreed to publish a revised plan in March!",
    "Would the city council accept it, or ask for yet another review?",
]


def long_text(limit: int = 5000) -> str:
    text = ""
    index = 0
    while len(text) + len(SENTENCES[index % 4]) + 1 <= limit:
        text += SENTENCES[index % 4] + " "
        index += 1
    return text.strip()


def speak(server: LiveServer, timeout: float = 120, **body: Any) -> httpx.Response:
    headers = {"x-api-key": server.key}
    return httpx.post(
        f"{server.base_url}/v3/voices/speech", json=body, headers=headers, timeout=timeout
    )


def test_piper_speech_conforms_and_plays(live_server: LiveServer) -> None:
    text = "Good morning. The neural voice reads this sentence, and 42 more!"
    response = speak(live_server, text=text, voice_id=JOE)
    assert response.status_code == 200, response.text
    hosted_speech_response_validator().validate(response.json())
    data = response.json()["data"]
    audio = httpx.get(data["audio_url"], timeout=10)
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/mpeg"
    assert abs(decoded_seconds(audio.content) - data["duration"]) < 0.06
    assert [w["word"] for w in data["word_timestamps"]] == [w.text for w in words_of(text)]


def test_a_5000_character_text_is_spoken_whole_while_get_voice_keeps_answering(
    live_server: LiveServer,
) -> None:
    text = long_text()
    assert len(text) > 4900
    result: dict[str, Any] = {}

    def long_request() -> None:
        result["response"] = speak(live_server, text=text, voice_id=ESPEAK_EN)
        result["done_at"] = time.monotonic()

    worker = threading.Thread(target=long_request)
    worker.start()
    deadline = time.monotonic() + 30
    while live_server.services.runner.in_flight == 0 and worker.is_alive():
        assert time.monotonic() < deadline
        time.sleep(0.005)
    polled_at = []
    headers = {"x-api-key": live_server.key}
    for _ in range(5):
        poll = httpx.get(f"{live_server.base_url}/v3/voices/{ESPEAK_EN}", headers=headers)
        assert poll.status_code == 200
        polled_at.append(time.monotonic())
    worker.join(timeout=120)

    response = result["response"]
    assert response.status_code == 200, response.text
    assert max(polled_at) < result["done_at"]  # answered while the synthesis ran
    data = response.json()["data"]
    assert [w["word"] for w in data["word_timestamps"]] == [w.text for w in words_of(text)]
    assert data["word_timestamps"][-1]["end"] <= data["duration"]
    assert data["duration"] > 200  # about 800 words
    audio = httpx.get(data["audio_url"], timeout=30).content
    assert abs(decoded_seconds(audio) - data["duration"]) < 0.1
