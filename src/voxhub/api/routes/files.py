"""Stored files (speech, previews) behind signed, expiring links: no API key needed."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import FileResponse, Response

from voxhub.api.auth import services
from voxhub.api.models import ErrorResponse

__all__ = ["router"]

router = APIRouter(tags=["Files"])


@router.head("/v3/files/{key:path}", include_in_schema=False)
@router.get(
    "/v3/files/{key:path}",
    operation_id="getFile",
    summary="Get a stored file",
    description="The audio behind an audio_url or preview_audio_url. The link is a capability: "
    "it carries its own expiry and signature, so it needs no API key; an expired or altered "
    "link is 404.",
    response_class=Response,
    responses={
        200: {"content": {"audio/mpeg": {}, "audio/wav": {}, "audio/flac": {}}},
        404: {"model": ErrorResponse, "description": "No such file, or the link expired"},
    },
)
async def get_file(
    request: Request,
    key: str,
    expires: Annotated[str, Query(description="From the link")] = "",
    signature: Annotated[str, Query(description="From the link")] = "",
) -> Response:
    stored = await asyncio.to_thread(services(request).files.open, key, expires, signature)
    max_age = max(0, int(expires) - int(time.time()))
    headers = {"Cache-Control": f"private, max-age={max_age}"}
    if stored.path is not None:
        return FileResponse(stored.path, media_type=stored.media_type, headers=headers)
    return Response(stored.data, media_type=stored.media_type, headers=headers)
