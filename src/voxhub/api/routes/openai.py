"""OpenAI-compatible speech: ``POST /v1/audio/speech`` and ``GET /v1/models``.

Tools written for OpenAI's speech API (Open WebUI, the ``openai`` SDKs) work by pointing their
base URL at ``<voxhub>/v1`` with a voxhub key. ``voice`` is a voxhub voice id or a voice's
name; ``model`` is accepted whatever it names (the voice decides the engine). The audio is
streamed as it renders, like Stream Speech; ``pcm`` is 24 kHz as OpenAI defines it. Errors on
these routes alone take OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``,
which its clients turn into their own exceptions.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response

from voxhub.api.auth import SECURITY, authenticated, authenticated_writer, services
from voxhub.api.errors import status_of
from voxhub.api.routes.streaming import SpeechResponse, audio_body, stream_media_type
from voxhub.domain import Principal
from voxhub.errors import RateLimited, VoxhubError
from voxhub.services import SpeechRequest
from voxhub.services.streaming import AudioChunk, SpeechStream

__all__ = [
    "MODELS",
    "OPENAI_PCM_RATE",
    "ModelList",
    "OpenAIErrorResponse",
    "SpeechBody",
    "router",
]

log = logging.getLogger(__name__)

OPENAI_PCM_RATE = 24_000
MODELS = ("voxhub", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")
_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}


def openai_error(
    status: int,
    message: str,
    code: str | None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def _validation_error(exc: RequestValidationError) -> Response:
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ())[1:]]
    param = ".".join(location) or None
    reason = str(first.get("msg", "is invalid"))
    message = f"Invalid value for {param}: {reason}." if param else f"Invalid request: {reason}."
    return openai_error(400, message, "invalid_value", param)


class OpenAIRoute(APIRoute):
    """A route whose errors, its key's and its body's included, are in OpenAI's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return _validation_error(exc)
            except HTTPException as exc:  # a body that is not JSON
                return openai_error(exc.status_code, str(exc.detail), "invalid_request")
            except VoxhubError as exc:
                headers = (
                    {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
                )
                return openai_error(status_of(exc), exc.message, exc.code, exc.param, headers)

        return route


router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], route_class=OpenAIRoute)
Reader = Annotated[Principal, Depends(authenticated)]
Writer = Annotated[Principal, Depends(authenticated_writer)]


class VoiceObject(BaseModel):
    id: str


class SpeechBody(BaseModel):
    """OpenAI's speech request, as voxhub reads it."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, description="Any model name (listed: GET /v1/models).")
    input: str = Field(min_length=1, max_length=5000, description="The text (1-5000 characters).")
    voice: str | VoiceObject = Field(description="A voxhub voice id or a voice's name.")
    instructions: str | None = Field(default=None, description="Ignored: no engine takes it.")
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.5, le=2.0, description="0.5-2.0 (OpenAI: 0.25-4).")
    stream_format: Literal["audio", "sse"] = "audio"


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorResponse(BaseModel):
    """An error as OpenAI's API answers it."""

    error: OpenAIErrorDetail


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


def _error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {
        status: {"model": OpenAIErrorResponse, "description": "An error in OpenAI's shape"}
        for status in statuses
    }
    if 429 in statuses:
        retry = {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
        responses[429]["headers"] = {"Retry-After": retry}
    return responses


def _voice_name(voice: str | VoiceObject) -> str:
    return voice.id if isinstance(voice, VoiceObject) else voice


async def _sse_body(stream: SpeechStream) -> AsyncIterator[bytes]:
    """OpenAI's speech events: ``speech.audio.delta`` chunks, then ``speech.audio.done``."""
    try:
        async for event in stream.events():
            if isinstance(event, AudioChunk):
                delta = {"type": "speech.audio.delta", "audio": base64.b64encode(event.data)}
                yield b"data: " + orjson.dumps(delta, default=bytes.decode) + b"\n\n"
    except VoxhubError as exc:
        log.warning("an OpenAI speech stream failed after it began: %s", exc.message)
        error = {"type": "error", "error": {"message": exc.message, "code": exc.code}}
        yield b"data: " + orjson.dumps(error) + b"\n\n"
        return
    usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    yield b"data: " + orjson.dumps({"type": "speech.audio.done", "usage": usage}) + b"\n\n"


@router.post(
    "/audio/speech",
    operation_id="createSpeech",
    summary="Create speech (OpenAI-compatible)",
    description="OpenAI's POST /v1/audio/speech. The audio is streamed as it renders; "
    "stream_format 'sse' sends speech.audio.delta events and a speech.audio.done.",
    response_class=Response,
    responses={
        200: {
            "description": "The audio, chunked; or server-sent events (stream_format 'sse').",
            "content": {
                **{stream_media_type(f): {} for f in ("mp3", "opus", "aac", "flac", "wav", "pcm")},
                "text/event-stream": {},
            },
        },
        **_error_responses(400, 401, 403, 404, 429, 500),
    },
    openapi_extra={"security": SECURITY},
)
async def create_speech(request: Request, caller: Writer, body: SpeechBody) -> Response:
    registry = services(request)
    voice = await registry.speech.find_voice(caller.account_id, _voice_name(body.voice))
    speech = SpeechRequest(
        text=body.input,
        voice_id=voice.voice_id,
        speed=body.speed,
        output_format=body.response_format,
    )
    rate = OPENAI_PCM_RATE if body.response_format == "pcm" else None
    stream = await registry.speech.stream(caller.account_id, speech, output_rate=rate)
    headers = {"X-Sample-Rate": str(stream.sample_rate), "Cache-Control": "no-store"}
    if body.stream_format == "sse":
        return SpeechResponse(
            stream, _sse_body(stream), media_type="text/event-stream", headers=headers
        )
    media_type = stream_media_type(body.response_format)
    return SpeechResponse(stream, audio_body(stream), media_type=media_type, headers=headers)


@router.get(
    "/models",
    operation_id="listModels",
    summary="List models (OpenAI-compatible)",
    response_model=ModelList,
    responses=_error_responses(401, 429, 500),
    openapi_extra={"security": SECURITY},
)
async def list_models(caller: Reader) -> Response:
    models = ModelList(data=[Model(id=m, created=0, owned_by="voxhub") for m in MODELS])
    return Response(models.model_dump_json(), media_type="application/json")
