"""``Client``: the blocking client. Only the I/O path is written here; the rest is in ``_base``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

import httpx2 as httpx

from voxhub.client import _base
from voxhub.client._base import BaseClient, Call, RetryPolicy, Sample, WaitPolicy
from voxhub.client.errors import CloneFailed, CloneTimeout, TransportError
from voxhub.client.models import (
    Asset,
    CloneCreated,
    DesignedVoices,
    EventType,
    Speech,
    UploadedAsset,
    Voice,
    VoiceSummary,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecret,
)

__all__ = [
    "AssetsAPI",
    "AudioStream",
    "Client",
    "ClonesAPI",
    "SpeechAPI",
    "VoicesAPI",
    "WebhooksAPI",
]

_Item = TypeVar("_Item")


class Client(BaseClient):
    """The voxhub API, blocking. ``with Client() as voxhub: voxhub.voices.get(...)``.

    ``api_key`` and ``base_url`` default to ``VOXHUB_API_KEY`` and ``VOXHUB_URL`` (then
    ``http://127.0.0.1:8000``). ``transport`` plugs in any httpx2 transport, such as
    ``voxhub.client.testing.MockVoxhub().transport``; ``http_client`` a whole configured
    ``httpx2.Client`` (its base URL is ignored: calls carry absolute URLs).
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,  # per network operation; speech waits longer (SPEECH_READ_TIMEOUT)
        retries: RetryPolicy | None = None,
        wait_policy: WaitPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            retries=retries,
            wait_policy=wait_policy,
            timeout=timeout,
        )
        self._http = http_client or httpx.Client(
            base_url=self.base_url, timeout=timeout, transport=transport
        )
        self.voices = VoicesAPI(self)
        self.clones = ClonesAPI(self)
        self.speech = SpeechAPI(self)
        self.assets = AssetsAPI(self)
        self.webhooks = WebhooksAPI(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _absolute(self, call: Call) -> dict[str, Any]:
        args = self._request_args(call)
        if args["url"].startswith("/"):
            args["url"] = self.base_url + args["url"]
        return args

    @contextlib.contextmanager
    def _open(self, call: Call) -> Iterator[httpx.Response]:
        """Send with retries; the answer's body is not read yet (and is closed on exit)."""
        retries_done = 0
        while True:
            try:
                request = self._http.build_request(**self._absolute(call))
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise TransportError(f"{call.method} {call.path}: {exc}") from exc
            delay = self.retries.delay(response, retries_done)
            if delay is None:
                break
            response.close()
            self._sleep(delay)
            retries_done += 1
        try:
            if response.is_error:
                response.read()
                raise _base.api_error(response)
            yield response
        except httpx.TransportError as exc:
            raise TransportError(f"{call.method} {call.path}: {exc}") from exc
        finally:
            response.close()

    def _send(self, call: Call) -> Any:
        with self._open(call) as response:
            try:
                response.read()
            except httpx.TransportError as exc:
                raise TransportError(f"{call.method} {call.path}: {exc}") from exc
            return self._data(response)

    def _pages(self, call: Call, item: Callable[[Any], _Item]) -> Iterator[_Item]:
        page: Call | None = call
        while page is not None:
            body = self._send(page)
            yield from (item(data) for data in body["data"])
            page = _base.next_page(page, body)


class VoicesAPI:
    """Get, list and design voices."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, voice_id: str) -> Voice:
        """Get Voice: a public voice, or one of your clones with its ``status``."""
        return Voice.from_data(self._client._send(Call("GET", _base.voice_path(voice_id)))["data"])

    def list(
        self,
        *,
        type: str | None = None,
        engine: str | None = None,
        language: str | None = None,
        gender: str | None = None,
        page_size: int = 100,
    ) -> Iterator[VoiceSummary]:
        """List Voices, every page: iterate, and the next page is fetched when needed."""
        params = {"type": type, "engine": engine, "language": language, "gender": gender}
        call = Call("GET", "/v3/voices", params={**params, "limit": page_size})
        return self._client._pages(call, VoiceSummary.from_data)

    def design(
        self,
        prompt: str,
        *,
        gender: str | None = None,
        locale: str | None = None,
        seed: int | None = None,
    ) -> DesignedVoices:
        """Design a Voice: up to three voices matching a description; ``seed`` for others."""
        body = {"prompt": prompt, "gender": gender, "locale": locale, "seed": seed}
        call = Call("POST", "/v3/voices", json={k: v for k, v in body.items() if v is not None})
        return DesignedVoices.from_data(self._client._send(call)["data"])

    def delete(self, voice_id: str) -> None:
        """Delete one of your clones (a public voice: ``PermissionDenied``)."""
        self._client._send(Call("DELETE", _base.voice_path(voice_id)))


class ClonesAPI:
    """Clone a voice and wait for it."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        voice_name: str,
        sample: Sample | None = None,
        *,
        url: str | None = None,
        asset_id: str | None = None,
        media_type: str | None = None,
        language: str | None = None,
        remove_background_noise: bool = True,
        idempotency_key: str | None = None,
    ) -> CloneCreated:
        """Clone a Voice from one of: ``sample`` (a path or bytes), ``url``, ``asset_id``.

        Answers at once; the clone is ``processing`` until ``wait()`` says otherwise. An
        ``Idempotency-Key`` is sent (a fresh one unless given), so a retry never clones twice.
        """
        call = _base.clone_call(
            voice_name,
            sample=sample,
            url=url,
            asset_id=asset_id,
            media_type=media_type,
            language=language,
            remove_background_noise=remove_background_noise,
            idempotency_key=idempotency_key,
        )
        return CloneCreated.from_data(self._client._send(call)["data"])

    def wait(
        self,
        voice_id: str,
        *,
        timeout: float = 900.0,
        on_poll: Callable[[Voice], None] | None = None,
    ) -> Voice:
        """Poll Get Voice (with backoff) until the clone is complete, and return it.

        Raises ``CloneFailed`` (with ``failure_message``) when it failed and ``CloneTimeout``
        when still processing after ``timeout`` seconds. ``on_poll`` sees every answer.
        """
        deadline = time.monotonic() + timeout
        for delay in self._client.wait_policy.delays():
            voice = self._client.voices.get(voice_id)
            if on_poll is not None:
                on_poll(voice)
            if voice.status == "failed":
                raise CloneFailed(voice)
            if voice.status != "processing":
                return voice
            left = deadline - time.monotonic()
            if left <= 0:
                raise CloneTimeout(voice, timeout)
            self._client._sleep(min(delay, left))
        raise AssertionError("unreachable: the delays never end")


class AudioStream:
    """Audio arriving as it is made: iterate over it for chunks of bytes."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.content_type = response.headers.get("content-type", "application/octet-stream")
        rate = response.headers.get("x-sample-rate")
        # The rate of "pcm" audio (16-bit little-endian mono), which has no header of its own.
        self.sample_rate = int(rate) if rate and rate.isdigit() else None

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        try:
            yield from self._response.iter_bytes(chunk_size)
        except httpx.TransportError as exc:
            raise TransportError(f"the audio stream broke: {exc}") from exc

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_bytes()


class SpeechAPI:
    """Generate speech: the answer, its audio as bytes or a file, or a stream."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        text: str,
        voice_id: str,
        *,
        input_type: str | None = None,
        speed: float | None = None,
        language: str | None = None,
        locale: str | None = None,
        output_format: str | None = None,
    ) -> Speech:
        """Generate Speech: ``audio_url`` (signed, expiring), ``duration``, ``word_timestamps``."""
        body = _base.speech_body(
            text,
            voice_id,
            input_type=input_type,
            speed=speed,
            language=language,
            locale=locale,
            output_format=output_format,
        )
        return Speech.from_data(
            self._client._send(
                Call("POST", "/v3/voices/speech", json=body, read_timeout=_base.SPEECH_READ_TIMEOUT)
            )["data"]
        )

    def download(self, speech: Speech | str, to: IO[bytes] | None = None) -> bytes:
        """The audio behind ``speech.audio_url``: returned, or written to ``to`` (returns b"")."""
        url = speech.audio_url if isinstance(speech, Speech) else speech
        with self._client._open(Call("GET", url)) as response:
            if to is None:
                return response.read()
            for chunk in response.iter_bytes():
                to.write(chunk)
            return b""

    def to_bytes(self, text: str, voice_id: str, **options: Any) -> bytes:
        """Speak ``text`` and return the audio file's bytes (options as ``create``)."""
        return self.download(self.create(text, voice_id, **options))

    def to_file(self, path: str | Path, text: str, voice_id: str, **options: Any) -> Speech:
        """Speak ``text`` into the file at ``path``; returns the answer (duration, words)."""
        speech = self.create(text, voice_id, **options)
        with Path(path).open("wb") as out:
            self.download(speech, to=out)
        return speech

    @contextlib.contextmanager
    def stream(
        self,
        text: str,
        voice_id: str,
        *,
        output_format: str = "mp3",
        input_type: str | None = None,
        speed: float | None = None,
        language: str | None = None,
        locale: str | None = None,
    ) -> Iterator[AudioStream]:
        """voxhub only: ``with speech.stream(...) as audio: for chunk in audio: ...``.

        Audio arrives a sentence at a time, as it renders. ``output_format``: ``mp3``, ``wav``,
        ``flac``, ``opus``, ``aac`` or ``pcm`` (raw 16-bit mono at ``audio.sample_rate``). A
        failure after the first chunk ends the stream early: ``TransportError``.
        """
        body = _base.speech_body(
            text,
            voice_id,
            input_type=input_type,
            speed=speed,
            language=language,
            locale=locale,
            output_format=output_format,
        )
        with self._client._open(
            Call(
                "POST",
                "/v3/voices/speech/stream",
                json=body,
                read_timeout=_base.SPEECH_READ_TIMEOUT,
            )
        ) as response:
            yield AudioStream(response)


class AssetsAPI:
    """Upload audio to clone from; look uploads up."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def upload(
        self,
        file: Sample | IO[bytes],
        *,
        filename: str | None = None,
        idempotency_key: str | None = None,
    ) -> UploadedAsset:
        """Upload Asset from a path, bytes or an open binary file (at most 32 MB)."""
        call = _base.upload_file(file, filename, idempotency_key)
        return UploadedAsset.from_data(self._client._send(call)["data"])

    def get(self, asset_id: str) -> Asset:
        call = Call("GET", _base.asset_path(asset_id))
        return Asset.from_data(self._client._send(call)["data"])

    def list(
        self, *, username: str | None = None, folder_id: str | None = None, page_size: int = 100
    ) -> Iterator[Asset]:
        """List Assets, newest first, every page (the hosted API requires ``username``)."""
        params = {"username": username, "folder_id": folder_id, "limit": page_size}
        return self._client._pages(Call("GET", "/v3/assets", params=params), Asset.from_data)

    def delete(self, asset_id: str) -> None:
        self._client._send(Call("DELETE", _base.asset_path(asset_id)))


class WebhooksAPI:
    """Webhook endpoints and event history; verify deliveries with ``voxhub.client.verify``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create_endpoint(
        self, url: str, events: list[str] | None = None, *, idempotency_key: str | None = None
    ) -> WebhookEndpoint:
        """Register ``url``; the answer's ``secret`` is shown this once: keep it."""
        call = Call(
            "POST",
            _base.ENDPOINTS,
            json={"url": url, "events": events},
            idempotency_key=_base.idempotency(idempotency_key),
        )
        return WebhookEndpoint.from_data(self._client._send(call)["data"])

    def list_endpoints(self, *, page_size: int = 100) -> Iterator[WebhookEndpoint]:
        call = Call("GET", _base.ENDPOINTS, params={"limit": page_size})
        return self._client._pages(call, WebhookEndpoint.from_data)

    def update_endpoint(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: list[str] | None = None,
        status: str | None = None,
    ) -> WebhookEndpoint:
        """Change the URL, replace the events, or (voxhub) set ``status`` to ``enabled``."""
        body = {"url": url, "events": events, "status": status}
        call = Call(
            "PATCH",
            _base.endpoint_path(endpoint_id),
            json={k: v for k, v in body.items() if v is not None},
        )
        return WebhookEndpoint.from_data(self._client._send(call)["data"])

    def delete_endpoint(self, endpoint_id: str) -> None:
        self._client._send(Call("DELETE", _base.endpoint_path(endpoint_id)))

    def rotate_secret(self, endpoint_id: str) -> WebhookSecret:
        call = Call("POST", _base.endpoint_path(endpoint_id) + "/rotate-secret")
        return WebhookSecret.from_data(self._client._send(call)["data"])

    def event_types(self) -> list[EventType]:
        body = self._client._send(Call("GET", "/v3/webhooks/event-types"))
        return [EventType.from_data(item) for item in body["data"]]

    def events(
        self,
        *,
        event_type: str | None = None,
        entity_id: str | None = None,
        page_size: int = 100,
    ) -> Iterator[WebhookEvent]:
        """Event history, newest first, every page; voxhub adds each event's deliveries."""
        params = {"event_type": event_type, "entity_id": entity_id, "limit": page_size}
        call = Call("GET", "/v3/webhooks/events", params=params)
        return self._client._pages(call, WebhookEvent.from_data)
