"""Voice routes: thin handlers that call the voice service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response
from starlette.routing import Route

from voxhub.api.auth import SECURITY, authenticate, authenticated, services
from voxhub.api.errors import domain_error_response, error_response
from voxhub.api.links import preview_url
from voxhub.api.models import (
    ErrorResponse,
    GetVoiceResponse,
    ListVoicesResponse,
    voice_detail_json,
    voice_list_item,
)
from voxhub.domain import Principal
from voxhub.errors import VoxhubError
from voxhub.ids import ID_PATTERN

__all__ = ["answer_get_voice", "error_responses", "get_voice_fast_route", "router"]

router = APIRouter(tags=["Voices"])
POST_ONLY = frozenset({"speech", "clone"})
ALLOW_POST = {"Allow": "POST"}
Caller = Annotated[Principal, Depends(authenticated)]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "Invalid request parameters",
        401: "Authentication failed",
        403: "The API key may not do this",
        404: "Resource not found",
        409: "A request with this Idempotency-Key is still in progress",
        413: "The file is too large",
        429: "Rate limit exceeded",
        500: "The service could not complete the request",
    }
    responses: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorResponse, "description": described[status]} for status in statuses
    }
    if 429 in statuses:
        responses[429]["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer"},
            }
        }
    return responses


def _json(body: bytes | str) -> Response:
    return Response(body, media_type="application/json")


@router.get(
    "/v3/voices/{voice_id}",
    operation_id="getVoice",
    summary="Get Voice",
    description="Returns details for a specific voice, including clone workflow status when "
    "available. Use this to poll a voice clone until its status is 'complete'.",
    response_model=GetVoiceResponse,
    responses=error_responses(400, 401, 404, 429),
    openapi_extra={"security": SECURITY},
)
async def get_voice(
    request: Request,
    voice_id: Annotated[
        str,
        Path(
            description="Unique voice identifier. An id that names no voice the caller can "
            "see is 404 voice_not_found, whatever its form; 400 only for what cannot be an id "
            "at all (over 128 characters, or control characters).",
            # Documented here, checked by the service so the 400 names the rule plainly.
            json_schema_extra={"pattern": ID_PATTERN},
        ),
    ],
) -> Response:
    return await answer_get_voice(request, voice_id)


async def answer_get_voice(request: Request, voice_id: str) -> Response:
    # The hottest path. Authentication is called directly rather than through a FastAPI
    # dependency, and errors are answered here rather than raised through the framework's
    # exception middleware: each of those costs more than everything this handler does.
    if voice_id in POST_ONLY:  # /v3/voices/speech and /v3/voices/clone are POSTs
        return error_response(405, "method_not_allowed", "Method not allowed.", None, ALLOW_POST)
    registry = services(request)
    try:
        caller = await authenticate(registry, request)
        voice = await registry.voices.get_voice(caller.account_id, voice_id)
    except VoxhubError as exc:
        return domain_error_response(exc)
    return _json(voice_detail_json(voice, preview_url(registry, request, voice)))


async def _get_voice_fast(request: Request) -> Response:
    return await answer_get_voice(request, request.path_params["voice_id"])


# Get Voice served as a plain Starlette route, matched before FastAPI's documented one above
# (which describes it in /openapi.json and answers the same way): FastAPI's per-request
# parameter solving costs several times what the handler itself does. See README, "Design".
get_voice_fast_route = Route("/v3/voices/{voice_id}", _get_voice_fast, methods=["GET"])


@router.get(
    "/v3/voices",
    operation_id="listVoices",
    summary="List Voices",
    description="Returns a paginated list of voices, filterable by type, engine, language, and "
    "gender. Use engine=starfish for voices compatible with the TTS endpoint.",
    response_model=ListVoicesResponse,
    responses=error_responses(400, 401, 429),
    openapi_extra={"security": SECURITY},
)
async def list_voices(
    request: Request,
    caller: Caller,
    voice_type: Annotated[
        Literal["public", "private"],
        Query(alias="type", description="public (the catalog) or private (your clones)"),
    ] = "public",
    engine: Annotated[
        str | None, Query(description="An engine name (espeak, ...) or starfish (every voice)")
    ] = None,
    language: Annotated[str | None, Query(description="A language name such as English")] = None,
    gender: Annotated[Literal["male", "female"] | None, Query(description="male or female")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1 to 100")] = 20,
    token: Annotated[str | None, Query(description="next_token of the previous page")] = None,
) -> Response:
    registry = services(request)
    page = await registry.voices.list_voices(
        caller.account_id,
        scope=voice_type,
        engine=engine,
        language=language,
        gender=gender,
        limit=limit,
        token=token or None,
    )
    body = ListVoicesResponse(
        data=[
            voice_list_item(voice, preview_url(registry, request, voice)) for voice in page.voices
        ],
        has_more=page.has_more,
        next_token=page.next_token,
    )
    return _json(body.model_dump_json())
