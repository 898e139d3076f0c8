"""``MockVoxhub``: an in-memory voxhub for your tests, so your code runs without a server.

It answers the API's paths in the API's shapes (errors in the error envelope included) from
plain dictionaries, through an httpx2 ``MockTransport``::

    from voxhub.client import CloneFailed
    from voxhub.client.testing import MockVoxhub

    def test_my_narrator() -> None:
        mock = MockVoxhub()
        ava = mock.add_voice("Ava", language="English", gender="female")
        with mock.client() as voxhub:           # a Client on the mock; or transport=mock.transport
            assert voxhub.voices.get(ava).name == "Ava"
            clone = voxhub.clones.create("Me", b"RIFF....")
            assert voxhub.clones.wait(clone.voice_id).status == "complete"
        assert mock.requests[-1].url.path == f"/v3/voices/{clone.voice_id}"

A clone is ``processing`` for ``polls_to_finish`` Get Voice polls, then ``complete`` — or
``failed`` with ``clone_failure`` as its ``failure_message`` when that is set. Speech is a
short silent WAV whatever the format asked (no audio is made here). ``rate_limit(times,
retry_after)`` answers the next requests 429, to test a caller's patience. Design a Voice ranks
voices by the words a prompt shares with their name, language and gender.
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx

from voxhub.client._async import AsyncClient
from voxhub.client._base import WaitPolicy
from voxhub.client._sync import Client

__all__ = ["MOCK_URL", "NO_WAITING", "MockVoxhub", "silent_wav"]

MOCK_URL = "http://voxhub.mock"
NO_WAITING = WaitPolicy(first=0.0, factor=1.0, most=0.0)
_Handler = Callable[[httpx.Request, "re.Match[str]"], httpx.Response]


def silent_wav(seconds: float = 0.5, rate: int = 16000) -> bytes:
    """A mono 16-bit WAV of silence: the mock's speech audio."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _error(status: int, code: str, message: str, param: str | None = None) -> httpx.Response:
    envelope = {"code": code, "message": message, "param": param, "doc_url": None}
    return _answer(status, {"error": envelope})


def _page(items: list[dict[str, Any]], request: httpx.Request) -> httpx.Response:
    limit = int(request.url.params.get("limit", "20"))
    start = int(request.url.params.get("token") or 0)
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    next_token = str(start + limit) if more else None
    return _answer(200, {"data": chunk, "has_more": more, "next_token": next_token})


def _file_part(request: httpx.Request) -> tuple[str, bytes]:
    """The multipart field ``file``: its filename and bytes."""
    boundary = request.headers["content-type"].partition("boundary=")[2].encode()
    for part in request.read().split(b"--" + boundary):
        head, _, body = part.partition(b"\r\n\r\n")
        named = re.search(rb'name="file"; filename="([^"]*)"', head)
        if named:
            return named[1].decode(), body.removesuffix(b"\r\n")
    return "upload", b""


@dataclass
class MockVoxhub:
    """An in-memory voxhub: voices, clones, assets and webhook endpoints in dictionaries."""

    api_key: str = "vxk_mock"
    polls_to_finish: int = 1
    clone_failure: str | None = None
    base_url: str = MOCK_URL
    voices: dict[str, dict[str, Any]] = field(default_factory=dict)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    _polls: dict[str, int] = field(default_factory=dict)
    _limited: list[int] = field(default_factory=list)

    def add_voice(
        self,
        name: str,
        *,
        language: str = "English",
        gender: str = "female",
        voice_id: str | None = None,
        status: str | None = None,
        failure_message: str | None = None,
    ) -> str:
        """A voice in the catalog (or, with a ``status``, one of the caller's clones)."""
        voice_id = voice_id or uuid.uuid4().hex
        self.voices[voice_id] = {
            "voice_id": voice_id,
            "name": name,
            "language": language,
            "gender": gender,
            "preview_audio_url": None,
            "support_pause": True,
            "support_locale": False,
            "support_interactive_avatar": False,
            "type": "public" if status is None else "private",
            "status": status,
            "failure_message": failure_message,
            "created_at": None if status is None else int(time.time()),
        }
        return voice_id

    def rate_limit(self, times: int = 1, retry_after: int = 0) -> None:
        """Answer the next ``times`` requests 429 with ``Retry-After: retry_after``."""
        self._limited.extend([retry_after] * times)

    @property
    def transport(self) -> httpx.MockTransport:
        """For ``Client(transport=...)``, ``AsyncClient(transport=...)`` or any httpx2 client."""
        return httpx.MockTransport(self.handle)

    def client(self, **options: Any) -> Client:
        """A ``Client`` on the mock; ``wait()`` polls without sleeping unless told otherwise."""
        options.setdefault("wait_policy", NO_WAITING)
        return Client(self.api_key, self.base_url, transport=self.transport, **options)

    def async_client(self, **options: Any) -> AsyncClient:
        """An ``AsyncClient`` on the mock, as ``client()``."""
        options.setdefault("wait_policy", NO_WAITING)
        return AsyncClient(self.api_key, self.base_url, transport=self.transport, **options)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as voxhub would."""
        self.requests.append(request)
        if self._limited:
            wait = self._limited.pop(0)
            response = _error(429, "rate_limit_exceeded", "Rate limit exceeded.")
            response.headers["Retry-After"] = str(wait)
            return response
        path = request.url.path
        if not path.startswith("/v3/files/") and request.headers.get("x-api-key") != self.api_key:
            return _error(401, "authentication_failed", "Invalid or expired API key.")
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                return handler(request, match)
        return _error(404, "not_found", f"No route {request.method} {path}.")

    def _routes(self) -> list[tuple[str, str, _Handler]]:
        return [
            ("GET", r"/v3/voices", self._list_voices),
            ("POST", r"/v3/voices", self._design),
            ("POST", r"/v3/voices/clone", self._clone),
            ("POST", r"/v3/voices/speech", self._speech),
            ("POST", r"/v3/voices/speech/stream", self._stream),
            ("GET", r"/v3/voices/([^/]+)", self._get_voice),
            ("DELETE", r"/v3/voices/([^/]+)", self._delete_voice),
            ("GET", r"/v3/files/(.+)", self._file),
            ("POST", r"/v3/assets", self._upload),
            ("GET", r"/v3/assets", self._list_assets),
            ("GET", r"/v3/assets/([^/]+)", self._get_asset),
            ("POST", r"/v3/webhooks/endpoints", self._create_endpoint),
            ("GET", r"/v3/webhooks/endpoints", self._list_endpoints),
            ("DELETE", r"/v3/webhooks/endpoints/([^/]+)", self._delete_endpoint),
            ("GET", r"/v3/webhooks/events", lambda request, _: _page([], request)),
        ]

    # Voices

    def _list_item(self, voice: dict[str, Any]) -> dict[str, Any]:
        keys = ("voice_id", "name", "language", "gender", "preview_audio_url", "support_pause")
        item = {key: voice[key] for key in keys}
        item.update(support_locale=False, type=voice["type"])
        if voice["type"] == "private":
            item["status"] = voice["status"]
        return item

    def _list_voices(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        query = request.url.params
        kind = query.get("type", "public")
        found = [
            self._list_item(voice)
            for voice in sorted(self.voices.values(), key=lambda v: v["name"])
            if voice["type"] == kind
            and query.get("language", voice["language"]).lower() == voice["language"].lower()
            and query.get("gender", voice["gender"]) == voice["gender"]
        ]
        return _page(found, request)

    def _get_voice(self, _: httpx.Request, match: re.Match[str]) -> httpx.Response:
        voice = self.voices.get(match[1])
        if voice is None:
            return _error(404, "voice_not_found", "Voice not found.")
        if voice["status"] == "processing":
            self._advance(voice)
        keys = (*self._list_item(voice).keys(), "failure_message", "created_at")
        detail = {key: voice.get(key) for key in keys if key not in ("type", "support_locale")}
        detail["support_interactive_avatar"] = False
        return _answer(200, {"data": detail})

    def _advance(self, voice: dict[str, Any]) -> None:
        polls = self._polls.get(voice["voice_id"], 0) + 1
        self._polls[voice["voice_id"]] = polls
        if polls >= self.polls_to_finish:
            failed = self.clone_failure is not None
            voice["status"] = "failed" if failed else "complete"
            voice["failure_message"] = self.clone_failure

    def _delete_voice(self, _: httpx.Request, match: re.Match[str]) -> httpx.Response:
        voice = self.voices.get(match[1])
        if voice is None:
            return _error(404, "voice_not_found", "Voice not found.")
        if voice["type"] == "public":
            return _error(403, "forbidden", "Public voices cannot be deleted.")
        del self.voices[match[1]]
        return _answer(200, {"data": {"voice_id": match[1]}})

    def _design(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        body = json.loads(request.content)
        prompt = str(body.get("prompt") or "").strip()
        if not prompt:
            return _error(400, "invalid_parameter", "prompt must not be empty.", "prompt")
        words = set(re.findall(r"\w+", prompt.lower()))
        candidates = [
            v
            for v in self.voices.values()
            if v["type"] == "public" and body.get("gender") in (None, v["gender"])
        ]

        def score(voice: dict[str, Any]) -> int:
            described = f"{voice['name']} {voice['language']} {voice['gender']}".lower()
            return len(words & set(re.findall(r"\w+", described)))

        ranked = sorted(candidates, key=lambda v: (-score(v), v["name"]))
        seed = int(body.get("seed") or 0)
        chosen = [self._list_item(v) for v in ranked[seed * 3 : seed * 3 + 3]]
        return _answer(200, {"data": {"voices": chosen, "seed": seed}})

    def _clone(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        body = json.loads(request.content)
        name = body.get("voice_name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            return _error(400, "invalid_parameter", "voice_name is required.", "voice_name")
        audio = body.get("audio") or {}
        if audio.get("type") == "asset_id" and audio.get("asset_id") not in self.assets:
            return _error(400, "invalid_parameter", "Asset not found.", "audio.asset_id")
        voice_id = self.add_voice(name, gender="unknown", status="processing")
        return _answer(200, {"data": {"voice_clone_id": voice_id}})

    # Speech and files

    def _speech(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        body = json.loads(request.content)
        problem = self._speech_problem(body)
        if problem is not None:
            return problem
        words = str(body["text"]).split()
        step = 0.5 / max(len(words), 1)
        timings = [
            {
                "word": word.strip(".,!?;:"),
                "start": round(i * step, 3),
                "end": round((i + 1) * step, 3),
            }
            for i, word in enumerate(words)
        ]
        request_id = uuid.uuid4().hex
        data = {
            "audio_url": f"{self.base_url}/v3/files/speech/{request_id}.wav",
            "duration": 0.5,
            "request_id": request_id,
            "word_timestamps": timings,
        }
        return _answer(200, {"data": data})

    def _speech_problem(self, body: dict[str, Any]) -> httpx.Response | None:
        if not str(body.get("text") or "").strip():
            return _error(400, "invalid_parameter", "text must not be empty.", "text")
        voice = self.voices.get(str(body.get("voice_id")))
        if voice is None:
            return _error(404, "voice_not_found", "Voice not found.")
        if voice["status"] not in (None, "complete"):
            message = f"The voice is {voice['status']}, not complete."
            return _error(400, "invalid_parameter", message, "voice_id")
        return None

    def _stream(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        problem = self._speech_problem(json.loads(request.content))
        if problem is not None:
            return problem
        headers = {"content-type": "audio/wav", "x-sample-rate": "16000"}
        return httpx.Response(200, content=silent_wav(), headers=headers)

    def _file(self, _: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if match[1].startswith("speech/"):
            return httpx.Response(200, content=silent_wav(), headers={"content-type": "audio/wav"})
        asset = self.assets.get(match[1])
        if asset is None:
            return _error(404, "not_found", "File not found.")
        return httpx.Response(200, content=asset["content"])

    # Assets

    def _upload(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        name, content = _file_part(request)
        asset_id = uuid.uuid4().hex
        self.assets[asset_id] = {
            "id": asset_id,
            "name": name,
            "type": "audio",
            "owner": "mock",
            "space_id": "mock",
            "uploaded_at": int(time.time()),
            "url": f"{self.base_url}/v3/files/{asset_id}",
            "folder_id": None,
            "content": content,
        }
        data = {
            "asset_id": asset_id,
            "url": self.assets[asset_id]["url"],
            "mime_type": "audio/wav",
            "size_bytes": len(content),
        }
        return _answer(200, {"data": data})

    def _asset_view(self, asset: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in asset.items() if key != "content"}

    def _list_assets(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        newest = sorted(self.assets.values(), key=lambda a: -a["uploaded_at"])
        return _page([self._asset_view(a) for a in newest], request)

    def _get_asset(self, _: httpx.Request, match: re.Match[str]) -> httpx.Response:
        asset = self.assets.get(match[1])
        if asset is None:
            return _error(404, "not_found", "Asset not found.")
        return _answer(200, {"data": self._asset_view(asset)})

    # Webhooks

    def _create_endpoint(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        body = json.loads(request.content)
        endpoint_id = uuid.uuid4().hex
        self.endpoints[endpoint_id] = {
            "endpoint_id": endpoint_id,
            "url": body["url"],
            "events": body.get("events"),
            "status": "enabled",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "secret": None,
        }
        secret = "whsec_" + uuid.uuid4().hex
        return _answer(200, {"data": {**self.endpoints[endpoint_id], "secret": secret}})

    def _list_endpoints(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return _page(list(self.endpoints.values()), request)

    def _delete_endpoint(self, _: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if self.endpoints.pop(match[1], None) is None:
            return _error(404, "not_found", "Webhook endpoint not found.")
        return _answer(200, {"data": {"endpoint_id": match[1]}})
