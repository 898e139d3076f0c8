"""Clone a voice, and delete a clone: thin handlers over the clone service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from voxhub.api.auth import SECURITY, authenticated_writer, services
from voxhub.api.idempotency import idempotent
from voxhub.api.routes.voices import error_responses
from voxhub.domain import Principal
from voxhub.ids import ID_PATTERN
from voxhub.services.clones import CloneRequest

__all__ = ["CLONE_PATH", "MAX_CLONE_BODY_BYTES", "router"]

router = APIRouter(tags=["Voices"])
Writer = Annotated[Principal, Depends(authenticated_writer)]
CLONE_PATH = "/v3/voices/clone"
MAX_CLONE_BODY_BYTES = 70 * 1024 * 1024  # 50 MB of audio as base64, and the JSON around it


class UrlAudio(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["url"]
    url: str = Field(min_length=1, max_length=2048, description="An http(s) URL of the sample.")


class AssetAudio(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["asset_id"]
    asset_id: str = Field(min_length=1, max_length=64, description="From POST /v3/assets.")


class Base64Audio(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["base64"]
    media_type: str = Field(max_length=100, description="Declared type; the bytes decide.")
    data: str = Field(min_length=1, description="The sample, base64-encoded (at most 50 MB).")


class CloneVoiceRequest(BaseModel):
    audio: Annotated[UrlAudio | AssetAudio | Base64Audio, Field(discriminator="type")]
    voice_name: str = Field(min_length=1, max_length=100)
    language: str | None = Field(default=None, max_length=35, description="e.g. 'en'")
    remove_background_noise: bool = True


class VoiceCloneCreated(BaseModel):
    voice_clone_id: str


class CloneVoiceResponse(BaseModel):
    data: VoiceCloneCreated


class DeletedVoice(BaseModel):
    voice_id: str


class DeleteVoiceResponse(BaseModel):
    data: DeletedVoice


@router.post(
    CLONE_PATH,
    operation_id="cloneVoice",
    summary="Clone a Voice",
    description="Accepts a voice sample (url, asset_id or base64) and answers at once with the "
    "clone's id; poll GET /v3/voices/{voice_id} until its status is complete or failed.",
    response_model=CloneVoiceResponse,
    responses=error_responses(400, 401, 403, 409, 413, 429),
    openapi_extra={"security": SECURITY},
)
async def clone_voice(request: Request, caller: Writer, body: CloneVoiceRequest) -> Response:
    async def create() -> Response:
        audio = body.audio
        value = (
            audio.url
            if isinstance(audio, UrlAudio)
            else (audio.asset_id if isinstance(audio, AssetAudio) else audio.data)
        )
        voice_id = await services(request).clones.create(
            caller.account_id,
            CloneRequest(
                voice_name=body.voice_name,
                source=audio.type,
                value=value,
                media_type=audio.media_type if isinstance(audio, Base64Audio) else None,
                language=body.language or None,
                remove_background_noise=body.remove_background_noise,
            ),
        )
        created = CloneVoiceResponse(data=VoiceCloneCreated(voice_clone_id=voice_id))
        return Response(created.model_dump_json(), media_type="application/json")

    return await idempotent(request, caller, f"POST {CLONE_PATH}", create)


@router.delete(
    "/v3/voices/{voice_id}",
    operation_id="deleteVoice",
    summary="Delete a Voice",
    description="Deletes one of your cloned voices, its files and any job still processing it.",
    response_model=DeleteVoiceResponse,
    responses=error_responses(400, 401, 403, 404, 429),
    openapi_extra={"security": SECURITY},
)
async def delete_voice(
    request: Request,
    caller: Writer,
    voice_id: Annotated[str, Path(json_schema_extra={"pattern": ID_PATTERN})],
) -> Response:
    await services(request).clones.delete(caller.account_id, voice_id)
    deleted = DeleteVoiceResponse(data=DeletedVoice(voice_id=voice_id))
    return Response(deleted.model_dump_json(), media_type="application/json")
