"""``AsyncClient``: the asyncio/trio client, method for method ``Client`` awaited; I/O only."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

import anyio
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
    "AsyncAssetsAPI",
    "AsyncAudioStream",
    "AsyncClient",
    "AsyncClonesAPI",
    "AsyncSpeechAPI",
    "AsyncVoicesAPI",
    "AsyncWebhooksAPI",
]

_Item = TypeVar("_Item")


class AsyncClient(BaseClient):
    """The voxhub API, async. ``async with AsyncClient() as voxhub: await voxhub.voices.get(...)``.

    ``api_key`` and ``base_url`` default to ``VOXHUB_API_KEY`` and ``VOXHUB_URL`` (then
    ``http://127.0.0.1:8000``). ``transport`` plugs in any httpx2 transport, such as
    ``voxhub.client.testing.MockVoxhub().transport``; ``http_client`` a whole configured
    ``httpx2.AsyncClient`` (its base URL is ignored: calls carry absolute URLs).
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,  # per network operation; speech waits longer (SPEECH_READ_TIMEOUT)
        retries: RetryPolicy | None = None,
        wait_policy: WaitPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            retries=retries,
            wait_policy=wait_policy,
            timeout=timeout,
        )
        self._http = http_client or httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, transport=transport
        )
        self.voices = AsyncVoicesAPI(self)
        self.clones = AsyncClonesAPI(self)
        self.speech = AsyncSpeechAPI(self)
        self.assets = AsyncAssetsAPI(self)
        self.webhooks = AsyncWebhooksAPI(self)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    def _absolute(self, call: Call) -> dict[str, Any]:
        args = self._request_args(call)
        if args["url"].startswith("/"):
            args["url"] = self.base_url + args["url"]
        return args

    @contextlib.asynccontextmanager
    async def _open(self, call: Call) -> AsyncIterator[httpx.Response]:
        """Send with retries; the answer's body is not read yet (and is closed on exit)."""
        retries_done = 0
        while True:
            try:
                request = self._http.build_request(**self._absolute(call))
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise TransportError(f"{call.method} {call.path}: {exc}") from exc
            delay = self.retries.delay(response, retries_done)
            if delay is None:
                break
            await response.aclose()
            await self._sleep(delay)
            retries_done += 1
        try:
            if response.is_error:
                await response.aread()
                raise _base.api_error(response)
            yield response
        except httpx.TransportError as exc:
            raise TransportError(f"{call.method} {call.path}: {exc}") from exc
        finally:
            await response.aclose()

    async def _send(self, call: Call) -> Any:
        async with self._open(call) as response:
            try:
                await response.aread()
            except httpx.TransportError as exc:
                raise TransportError(f"{call.method} {call.path}: {exc}") from exc
            return self._data(response)

    async def _pages(self, call: Call, item: Callable[[Any], _Item]) -> AsyncIterator[_Item]:
        page: Call | None = call
        while page is not None:
            body = await self._send(page)
            for data in body["data"]:
                yield item(data)
            page = _base.next_page(page, body)


class AsyncVoicesAPI:
    """Get, list and design voices."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self, voice_id: str) -> Voice:
        """Get Voice: a public voice, or one of your clones with its ``status``."""
        body = await self._client._send(Call("GET", _base.voice_path(voice_id)))
        return Voice.from_data(body["data"])

    def list(
        self,
        *,
        type: str | None = None,
        engine: str | None = None,
        language: str | None = None,
        gender: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[VoiceSummary]:
        """List Voices, every page: iterate, and the next page is fetched when needed."""
        params = {"type": type, "engine": engine, "language": language, "gender": gender}
        call = Call("GET", "/v3/voices", params={**params, "limit": page_size})
        return self._client._pages(call, VoiceSummary.from_data)

    async def design(
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
        return DesignedVoices.from_data((await self._client._send(call))["data"])

    async def delete(self, voice_id: str) -> None:
        """Delete one of your clones (a public voice: ``PermissionDenied``)."""
        await self._client._send(Call("DELETE", _base.voice_path(voice_id)))


class AsyncClonesAPI:
    """Clone a voice and wait for it."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
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
        build = functools.partial(
            _base.clone_call,
            voice_name,
            sample=sample,
            url=url,
            asset_id=asset_id,
            media_type=media_type,
            language=language,
            remove_background_noise=remove_background_noise,
            idempotency_key=idempotency_key,
        )
        call = await anyio.to_thread.run_sync(build)  # reads the sample file
        return CloneCreated.from_data((await self._client._send(call))["data"])

    async def wait(
        self,
        voice_id: str,
        *,
        timeout: float = 900.0,  # noqa: ASYNC109 (as Client.wait; CloneTimeout keeps the voice)
        on_poll: Callable[[Voice], None] | None = None,
    ) -> Voice:
        """Poll Get Voice (with backoff) until the clone is complete, and return it.

        Raises ``CloneFailed`` (with ``failure_message``) when it failed and ``CloneTimeout``
        when still processing after ``timeout`` seconds. ``on_poll`` sees every answer.
        """
        deadline = time.monotonic() + timeout
        for delay in self._client.wait_policy.delays():
            voice = await self._client.voices.get(voice_id)
            if on_poll is not None:
                on_poll(voice)
            if voice.status == "failed":
                raise CloneFailed(voice)
            if voice.status != "processing":
                return voice
            left = deadline - time.monotonic()
            if left <= 0:
                raise CloneTimeout(voice, timeout)
            await self._client._sleep(min(delay, left))
        raise AssertionError("unreachable: the delays never end")


class AsyncAudioStream:
    """Audio arriving as it is made: ``async for`` over it for chunks of bytes."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.content_type = response.headers.get("content-type", "application/octet-stream")
        rate = response.headers.get("x-sample-rate")
        # The rate of "pcm" audio (16-bit little-endian mono), which has no header of its own.
        self.sample_rate = int(rate) if rate and rate.isdigit() else None

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.TransportError as exc:
            raise TransportError(f"the audio stream broke: {exc}") from exc

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.aiter_bytes()


class AsyncSpeechAPI:
    """Generate speech: the answer, its audio as bytes or a file, or a stream."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
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
        answer = await self._client._send(
            Call("POST", "/v3/voices/speech", json=body, read_timeout=_base.SPEECH_READ_TIMEOUT)
        )
        return Speech.from_data(answer["data"])

    async def download(self, speech: Speech | str, to: IO[bytes] | None = None) -> bytes:
        """The audio behind ``speech.audio_url``: returned, or written to ``to`` (returns b"")."""
        url = speech.audio_url if isinstance(speech, Speech) else speech
        async with self._client._open(Call("GET", url)) as response:
            if to is None:
                return await response.aread()
            async for chunk in response.aiter_bytes():
                to.write(chunk)
            return b""

    async def to_bytes(self, text: str, voice_id: str, **options: Any) -> bytes:
        """Speak ``text`` and return the audio file's bytes (options as ``create``)."""
        return await self.download(await self.create(text, voice_id, **options))

    async def to_file(self, path: str | Path, text: str, voice_id: str, **options: Any) -> Speech:
        """Speak ``text`` into the file at ``path``; returns the answer (duration, words)."""
        speech = await self.create(text, voice_id, **options)
        download = self._client._open(Call("GET", speech.audio_url))
        async with download as response, await anyio.open_file(path, "wb") as out:
            async for chunk in response.aiter_bytes():
                await out.write(chunk)
        return speech

    @contextlib.asynccontextmanager
    async def stream(
        self,
        text: str,
        voice_id: str,
        *,
        output_format: str = "mp3",
        input_type: str | None = None,
        speed: float | None = None,
        language: str | None = None,
        locale: str | None = None,
    ) -> AsyncIterator[AsyncAudioStream]:
        """voxhub only: ``async with speech.stream(...) as audio: async for chunk in audio``.

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
        call = Call(
            "POST", "/v3/voices/speech/stream", json=body, read_timeout=_base.SPEECH_READ_TIMEOUT
        )
        async with self._client._open(call) as response:
            yield AsyncAudioStream(response)


class AsyncAssetsAPI:
    """Upload audio to clone from; look uploads up."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def upload(
        self,
        file: Sample | IO[bytes],
        *,
        filename: str | None = None,
        idempotency_key: str | None = None,
    ) -> UploadedAsset:
        """Upload Asset from a path, bytes or an open binary file (at most 32 MB)."""
        build = functools.partial(_base.upload_file, file, filename, idempotency_key)
        call = await anyio.to_thread.run_sync(build)  # reads the file
        return UploadedAsset.from_data((await self._client._send(call))["data"])

    async def get(self, asset_id: str) -> Asset:
        call = Call("GET", _base.asset_path(asset_id))
        return Asset.from_data((await self._client._send(call))["data"])

    def list(
        self, *, username: str | None = None, folder_id: str | None = None, page_size: int = 100
    ) -> AsyncIterator[Asset]:
        """List Assets, newest first, every page (the hosted API requires ``username``)."""
        params = {"username": username, "folder_id": folder_id, "limit": page_size}
        return self._client._pages(Call("GET", "/v3/assets", params=params), Asset.from_data)

    async def delete(self, asset_id: str) -> None:
        await self._client._send(Call("DELETE", _base.asset_path(asset_id)))


class AsyncWebhooksAPI:
    """Webhook endpoints and event history; verify deliveries with ``voxhub.client.verify``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create_endpoint(
        self, url: str, events: list[str] | None = None, *, idempotency_key: str | None = None
    ) -> WebhookEndpoint:
        """Register ``url``; the answer's ``secret`` is shown this once: keep it."""
        call = Call(
            "POST",
            _base.ENDPOINTS,
            json={"url": url, "events": events},
            idempotency_key=_base.idempotency(idempotency_key),
        )
        return WebhookEndpoint.from_data((await self._client._send(call))["data"])

    def list_endpoints(self, *, page_size: int = 100) -> AsyncIterator[WebhookEndpoint]:
        call = Call("GET", _base.ENDPOINTS, params={"limit": page_size})
        return self._client._pages(call, WebhookEndpoint.from_data)

    async def update_endpoint(
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
        return WebhookEndpoint.from_data((await self._client._send(call))["data"])

    async def delete_endpoint(self, endpoint_id: str) -> None:
        await self._client._send(Call("DELETE", _base.endpoint_path(endpoint_id)))

    async def rotate_secret(self, endpoint_id: str) -> WebhookSecret:
        call = Call("POST", _base.endpoint_path(endpoint_id) + "/rotate-secret")
        return WebhookSecret.from_data((await self._client._send(call))["data"])

    async def event_types(self) -> list[EventType]:
        body = await self._client._send(Call("GET", "/v3/webhooks/event-types"))
        return [EventType.from_data(item) for item in body["data"]]

    def events(
        self,
        *,
        event_type: str | None = None,
        entity_id: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[WebhookEvent]:
        """Event history, newest first, every page; voxhub adds each event's deliveries."""
        params = {"event_type": event_type, "entity_id": entity_id, "limit": page_size}
        call = Call("GET", "/v3/webhooks/events", params=params)
        return self._client._pages(call, WebhookEvent.from_data)
