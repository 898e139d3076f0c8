"""Design a Voice (POST /v3/voices): a thin handler over the design service.

It answers read-only keys too: it finds voices and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from voxhub.api.auth import SECURITY, authenticated, services
from voxhub.api.links import preview_url
from voxhub.api.models import VoiceListItem, voice_list_item
from voxhub.api.routes.voices import error_responses
from voxhub.domain import Principal
from voxhub.errors import ServiceUnavailable
from voxhub.services.design import MAX_PROMPT_CHARS, DesignRequest

__all__ = ["DesignVoiceData", "DesignVoiceRequest", "DesignVoiceResponse", "router"]

router = APIRouter(tags=["Voices"])
Caller = Annotated[Principal, Depends(authenticated)]


class DesignVoiceRequest(BaseModel):
    """Request body for POST /v3/voices — design a voice via semantic search."""

    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(
        min_length=1,
        max_length=MAX_PROMPT_CHARS,
        description="Natural language description of the desired voice (e.g., 'warm, "
        "confident female narrator').",
    )
    gender: str | None = Field(default=None, description="Filter by gender: 'male' or 'female'.")
    locale: str | None = Field(
        default=None, description="BCP-47 locale tag to filter by (e.g., 'en-US', 'pt-BR')."
    )
    seed: int = Field(
        default=0,
        ge=0,
        strict=True,  # JSON true or 1.0 is no seed
        description="Which batch of results: 0 the top matches, 1 the next batch, etc. Same "
        "prompt + seed always returns the same voices.",
    )


class DesignVoiceData(BaseModel):
    """Response payload for POST /v3/voices."""

    voices: list[VoiceListItem] = Field(
        description="Matching voices for the given prompt, ordered by relevance."
    )
    seed: int = Field(
        description="The seed used for this request. Increment to get different voices."
    )


class DesignVoiceResponse(BaseModel):
    data: DesignVoiceData


@router.post(
    "/v3/voices",
    operation_id="designVoice",
    summary="Design a Voice",
    description="Returns up to 3 voices matching a natural language description (e.g. 'warm, "
    "confident female narrator'), best first. Voices are described from measurements of their "
    "audio and found by meaning with a sentence-embedding model. Use the seed parameter to get "
    "different batches of results.",
    response_model=DesignVoiceResponse,
    responses=error_responses(400, 401, 429, 500),
    openapi_extra={"security": SECURITY},
)
async def design_voice(request: Request, caller: Caller, body: DesignVoiceRequest) -> Response:
    registry = services(request)
    if registry.design is None:
        raise ServiceUnavailable("Design a Voice is not offered by this server.")
    result = await registry.design.design(
        caller.account_id,
        DesignRequest(prompt=body.prompt, gender=body.gender, locale=body.locale, seed=body.seed),
    )
    data = DesignVoiceData(
        voices=[voice_list_item(v, preview_url(registry, request, v)) for v in result.voices],
        seed=result.seed,
    )
    return Response(DesignVoiceResponse(data=data).model_dump_json(), media_type="application/json")
