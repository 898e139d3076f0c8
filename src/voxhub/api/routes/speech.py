"""Generate Speech: a thin handler over the speech service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voxhub.api.auth import SECURITY, authenticated_writer, services
from voxhub.api.links import file_url
from voxhub.api.models import (
    GenerateSpeechData,
    GenerateSpeechRequest,
    GenerateSpeechResponse,
    WordTimestamp,
)
from voxhub.api.routes.voices import error_responses
from voxhub.domain import Principal
from voxhub.services import SpeechRequest

__all__ = ["PATH", "router"]

PATH = "/v3/voices/speech"

router = APIRouter(tags=["Voices"])
Writer = Annotated[Principal, Depends(authenticated_writer)]


@router.post(
    PATH,
    operation_id="generateSpeech",
    summary="Generate Speech",
    description="Synthesize speech audio from text using a specified voice. Supports plain text "
    "and SSML (<break time='...'/> for voices with support_pause). Speed range: 0.5-2.0x. "
    "Returns a signed, expiring URL of the audio file, its duration and word timestamps.",
    response_model=GenerateSpeechResponse,
    responses=error_responses(400, 401, 403, 404, 429, 500),
    openapi_extra={"security": SECURITY},
)
async def generate_speech(
    request: Request, caller: Writer, body: GenerateSpeechRequest
) -> Response:
    registry = services(request)
    result = await registry.speech.generate(
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
    data = GenerateSpeechData(
        audio_url=file_url(registry, request, result.audio_key),
        duration=result.duration,
        request_id=result.request_id,
        word_timestamps=None
        if result.words is None
        else [WordTimestamp(word=w.word, start=w.start, end=w.end) for w in result.words],
    )
    return Response(
        GenerateSpeechResponse(data=data).model_dump_json(), media_type="application/json"
    )
