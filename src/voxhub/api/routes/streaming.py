"""Stream Speech: the audio of Generate Speech as it renders, or as server-sent events.

One route, two answers. By default the body is the audio itself, sent chunk by chunk
(``Transfer-Encoding: chunked``). With ``Accept: text/event-stream`` it is a stream of events
that carries the same audio (base64) and, between the chunks, each piece's word timestamps.
Errors found before the first byte (a full pool: 429) are ordinary error answers; a failure
after it ends an audio stream unfinished and an event stream with an ``error`` event.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from voxhub.api.auth import SECURITY, authenticated_writer, services
from voxhub.api.models import StreamSpeechRequest
from voxhub.api.routes.voices import error_responses
from voxhub.domain import Principal
from voxhub.errors import VoxhubError
from voxhub.services import SpeechRequest
from voxhub.services.streaming import AudioChunk, SpeechStream, StreamDone, WordsSpoken

__all__ = ["PATH", "SpeechResponse", "audio_body", "router", "stream_media_type"]

PATH = "/v3/voices/speech/stream"
SAMPLE_RATE_HEADER = "X-Sample-Rate"
_MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "pcm": "audio/pcm",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
}

log = logging.getLogger(__name__)
router = APIRouter(tags=["Voices"])
Writer = Annotated[Principal, Depends(authenticated_writer)]


class SpeechResponse(StreamingResponse):
    """A streamed answer that closes its speech stream however the response ends, even when
    the client left before its body began (so the worker is never left rendering)."""

    def __init__(self, stream: SpeechStream, body: AsyncIterator[bytes], **options: Any) -> None:
        super().__init__(body, **options)
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._stream.close()


def stream_media_type(output_format: str) -> str:
    return _MEDIA_TYPES[output_format]


async def audio_body(stream: SpeechStream) -> AsyncIterator[bytes]:
    """The audio chunks alone; a failure mid-stream ends the response unfinished."""
    async for event in stream.events():
        if isinstance(event, AudioChunk):
            yield event.data


def _event(name: str, data: object) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _event_body(stream: SpeechStream, request_id: str) -> AsyncIterator[bytes]:
    try:
        async for event in stream.events():
            if isinstance(event, AudioChunk):
                yield _event("audio", {"audio": base64.b64encode(event.data).decode()})
            elif isinstance(event, WordsSpoken):
                words = [{"word": w.word, "start": w.start, "end": w.end} for w in event.words]
                yield _event("words", {"words": words})
            elif isinstance(event, StreamDone):
                yield _event("done", {"duration": event.duration, "request_id": request_id})
    except VoxhubError as exc:
        log.warning("a speech stream failed after it began: %s", exc.message)
        yield _event("error", {"error": {"code": exc.code, "message": exc.message}})


def _wants_events(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


@router.post(
    PATH,
    operation_id="streamSpeech",
    summary="Stream Speech",
    description="voxhub extension: Generate Speech's body (plus output_format mp3, pcm, opus, "
    "aac, flac or wav); the audio is sent as it renders, a sentence at a time. PCM is 16-bit "
    "little-endian mono at the rate in the X-Sample-Rate header. With "
    "'Accept: text/event-stream' the answer is server-sent events instead: 'audio' "
    '({"audio": base64}), \'words\' ({"words": [{word, start, end}]}, after the audio they '
    "time), 'done' ({duration, request_id}) and, on a failure after the start, 'error'. "
    "A full worker pool is a 429 before any byte.",
    responses={
        200: {
            "description": "The audio, chunked; or server-sent events.",
            "content": {
                **{media: {} for media in _MEDIA_TYPES.values()},
                "text/event-stream": {},
            },
        },
        **error_responses(400, 401, 403, 404, 429, 500),
    },
    response_class=Response,
    openapi_extra={"security": SECURITY},
)
async def stream_speech(request: Request, caller: Writer, body: StreamSpeechRequest) -> Response:
    stream = await services(request).speech.stream(
        caller.account_id,
        SpeechRequest(
            text=body.text,
            voice_id=body.voice_id,
            input_type=body.input_type,
            speed=body.speed,
            language=body.language or None,
            locale=body.locale or None,
            output_format=body.output_format,
        ),
    )
    headers = {SAMPLE_RATE_HEADER: str(stream.sample_rate), "Cache-Control": "no-store"}
    if _wants_events(request):
        request_id = str(request.scope.get("state", {}).get("request_id", ""))
        return SpeechResponse(
            stream, _event_body(stream, request_id), media_type="text/event-stream", headers=headers
        )
    return SpeechResponse(
        stream,
        audio_body(stream),
        media_type=stream_media_type(body.output_format),
        headers=headers,
    )
