"""Assets: upload (multipart, bounded while reading), look up, delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response

from voxhub.api.asset_models import ListAssetsResponse, SearchAssetsResponse
from voxhub.api.auth import SECURITY, authenticated, authenticated_writer, services
from voxhub.api.idempotency import idempotent
from voxhub.api.links import file_url
from voxhub.api.models import (
    AssetDetail,
    AssetUploaded,
    DeleteAssetResponse,
    DeletedAsset,
    GetAssetResponse,
    UploadAssetResponse,
)
from voxhub.api.routes.voices import error_responses
from voxhub.domain import Asset, Principal
from voxhub.errors import InvalidParameter, PayloadTooLarge
from voxhub.ids import ID_PATTERN
from voxhub.services.assets import MAX_ASSET_BYTES

__all__ = ["ASSETS_PATH", "MAX_UPLOAD_BODY_BYTES", "AssetId", "router"]

router = APIRouter(tags=["Assets"])
Caller = Annotated[Principal, Depends(authenticated)]
Writer = Annotated[Principal, Depends(authenticated_writer)]
ASSETS_PATH = "/v3/assets"
# Checked by the service (400 only for what cannot be an id; anything else unknown is 404).
AssetId = Annotated[
    str,
    Path(
        description="An asset id; 400 only for what cannot be an id (over 128 characters, "
        "control characters)",
        json_schema_extra={"pattern": ID_PATTERN},
    ),
]
# A file of the maximum size, with room for the multipart boundaries and part headers.
MAX_UPLOAD_BODY_BYTES = MAX_ASSET_BYTES + 64 * 1024
_TOO_LARGE = f"Files are at most {MAX_ASSET_BYTES // (1024 * 1024)} MB."
_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "An audio file (wav, mp3, m4a/aac, ogg/opus, flac, "
                        "webm) or a video (mp4, mov, webm: its sound is used), at most 32 MB; "
                        "its type is read from its bytes.",
                    }
                },
            }
        }
    },
}


async def _read_upload(request: Request) -> tuple[str | None, bytes]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidParameter(
            "Send the file as multipart/form-data in a field named file.", param="file"
        )
    # The body is bounded while it is read by BodyLimitMiddleware (MAX_UPLOAD_BODY_BYTES).
    parser = MultiPartParser(request.headers, request.stream(), max_files=1, max_fields=8)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        message = f"The multipart body is malformed: {exc.message}"
        raise InvalidParameter(message, param="file") from exc
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidParameter("The multipart body has no file field.", param="file")
        data = await upload.read()
        if len(data) > MAX_ASSET_BYTES:
            raise PayloadTooLarge(_TOO_LARGE, param="file")
        return upload.filename, data
    finally:
        await form.close()


def _detail(request: Request, asset: Asset) -> AssetDetail:
    url = file_url(services(request), request, asset.storage_key)
    return AssetDetail(
        id=asset.asset_id,
        name=asset.name,
        type=asset.kind,
        owner=asset.account_id,
        space_id=asset.account_id,
        uploaded_at=asset.created_at,
        url=url if asset.status == "completed" else None,
        folder_id=None,
    )


def _json(body: Any) -> Response:
    return Response(body.model_dump_json(), media_type="application/json")


@router.post(
    ASSETS_PATH,
    operation_id="uploadAsset",
    summary="Upload an asset",
    description="Upload an audio or video file (at most 32 MB) to clone a voice from; its "
    "type is detected from its bytes (images, PDF and archives are refused: voxhub stores "
    "audio and video only). Returns the asset id and a signed, expiring URL.",
    response_model=UploadAssetResponse,
    responses=error_responses(400, 401, 403, 409, 413, 429),
    openapi_extra={
        "security": SECURITY,
        "requestBody": _UPLOAD_BODY,
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_\\-:.]{1,255}$"},
                "description": "A repeat within 24 hours with the same key replays the first "
                "successful answer; while the first still runs, 409 request_in_progress.",
            }
        ],
    },
)
async def upload_asset(request: Request, caller: Writer) -> Response:
    return await idempotent(
        request, caller, f"POST {ASSETS_PATH}", lambda: _upload(request, caller)
    )


async def _upload(request: Request, caller: Principal) -> Response:
    filename, data = await _read_upload(request)
    asset = await services(request).assets.upload(caller.account_id, filename, data)
    uploaded = AssetUploaded(
        asset_id=asset.asset_id,
        url=file_url(services(request), request, asset.storage_key),
        mime_type=asset.media_type,
        size_bytes=asset.size_bytes,
    )
    return _json(UploadAssetResponse(data=uploaded))


@router.get(
    ASSETS_PATH,
    operation_id="listAssets",
    summary="List Assets",
    description="The account's assets, newest first, with cursor paging. username is the "
    "owner (an asset's 'owner': the account id), required as by the hosted beta: another "
    "owner lists nothing. voxhub has no folders: folder_id is accepted, and only the root "
    "(empty) lists assets. Direct uploads appear once completed.",
    response_model=ListAssetsResponse,
    responses=error_responses(400, 401, 429),
    openapi_extra={"security": SECURITY},
)
async def list_assets(
    request: Request,
    caller: Caller,
    username: Annotated[str, Query(min_length=1, max_length=128)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    token: Annotated[str | None, Query(max_length=1024)] = None,
    folder_id: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    page = await services(request).assets.list_page(
        caller.account_id, username, limit, token, folder_id
    )
    data = [_detail(request, asset) for asset in page.assets]
    listing = ListAssetsResponse(
        data=data, has_more=page.next_token is not None, next_token=page.next_token
    )
    return _json(listing)


@router.get(
    ASSETS_PATH + "/search",
    operation_id="searchAssets",
    summary="Search Assets",
    description="The hosted API searches re-hosted public images and icons. voxhub stores "
    "audio and video only, so every valid search answers an empty page.",
    response_model=SearchAssetsResponse,
    responses=error_responses(400, 401, 429),
    openapi_extra={"security": SECURITY},
)
async def search_assets(
    request: Request,
    caller: Caller,
    query: Annotated[str, Query(min_length=1, max_length=1000)],
    type: Annotated[Literal["image", "icon"], Query()],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    token: Annotated[str | None, Query(max_length=1024)] = None,
    source: Annotated[Literal["public", "personal"], Query()] = "public",
) -> Response:
    return _json(SearchAssetsResponse(data=[], has_more=False, next_token=None))


@router.get(
    "/v3/assets/{asset_id}",
    operation_id="getAsset",
    summary="Get an asset",
    response_model=GetAssetResponse,
    responses=error_responses(400, 401, 404, 429),
    openapi_extra={"security": SECURITY},
)
async def get_asset(request: Request, caller: Caller, asset_id: AssetId) -> Response:
    asset = await services(request).assets.get(caller.account_id, asset_id)
    return _json(GetAssetResponse(data=_detail(request, asset)))


@router.delete(
    "/v3/assets/{asset_id}",
    operation_id="deleteAsset",
    summary="Delete an asset",
    response_model=DeleteAssetResponse,
    responses=error_responses(400, 401, 403, 404, 429),
    openapi_extra={"security": SECURITY},
)
async def delete_asset(request: Request, caller: Writer, asset_id: AssetId) -> Response:
    asset = await services(request).assets.delete(caller.account_id, asset_id)
    return _json(DeleteAssetResponse(data=DeletedAsset(id=asset.asset_id)))
