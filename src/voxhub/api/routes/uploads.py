"""Direct uploads, their completion, batches and statuses: thin handlers over the upload
service. Registered before the asset routes, so these fixed paths win over ``{asset_id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from voxhub.api.asset_models import (
    AssetBatchData,
    AssetBatchItem,
    AssetStatusEntry,
    AssetStatusesResponse,
    CompleteAssetBatchRequest,
    CompleteAssetBatchResponse,
    CompleteAssetUploadData,
    CompleteAssetUploadRequest,
    CompleteAssetUploadResponse,
    CreateAssetUploadBatchData,
    CreateAssetUploadBatchRequest,
    CreateAssetUploadBatchResponse,
    CreateAssetUploadRequest,
    CreateAssetUploadResponse,
    GetAssetBatchResponse,
    UploadSlot,
)
from voxhub.api.auth import SECURITY, authenticated, authenticated_writer, services
from voxhub.api.idempotency import idempotent
from voxhub.api.links import absolute, file_url
from voxhub.api.routes.assets import AssetId
from voxhub.api.routes.voices import error_responses
from voxhub.domain import Principal
from voxhub.errors import InvalidParameter, PayloadTooLarge
from voxhub.ids import ID_PATTERN
from voxhub.services.uploads import (
    MAX_BATCH_FILES,
    BatchView,
    DeclaredFile,
    ItemStatus,
    UploadTicket,
    item_status,
)

__all__ = ["router"]

router = APIRouter(tags=["Assets"])
Caller = Annotated[Principal, Depends(authenticated)]
Writer = Annotated[Principal, Depends(authenticated_writer)]
DIRECT_UPLOADS = "/v3/assets/direct-uploads"
# Comma-separated ids: printable ASCII (ids are hex; anything else can name nothing).
_ID_LIST = r"^[\x20-\x7e]*$"
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_\\-:.]{1,255}$"},
    "description": "A repeat within 24 hours with the same key replays the first answer.",
}


def _json(body: Any, status: int = 200) -> Response:
    return Response(body.model_dump_json(), status_code=status, media_type="application/json")


def _declared(body: CreateAssetUploadRequest) -> DeclaredFile:
    return DeclaredFile(body.filename, body.content_type, body.size_bytes, body.checksum_sha256)


def _slot(request: Request, ticket: UploadTicket) -> UploadSlot:
    return UploadSlot(
        asset_id=ticket.asset.asset_id,
        upload_url=absolute(services(request), request, ticket.url),
        upload_headers=ticket.headers,
        expires_in_seconds=ticket.expires_in_seconds,
        max_bytes=ticket.asset.size_bytes,
        status="pending_upload",
    )


def _error(entry: ItemStatus) -> dict[str, Any] | None:
    return {"message": entry.error} if entry.error else None


@router.post(
    DIRECT_UPLOADS,
    operation_id="createAssetUpload",
    summary="Create Asset Upload",
    description="Begin a direct upload: answers an asset_id and an upload_url valid for an "
    "hour. PUT the file's bytes there (with upload_headers), then POST "
    "/v3/assets/{asset_id}/complete. Audio and video only, at most 32 MB.",
    response_model=CreateAssetUploadResponse,
    responses=error_responses(400, 401, 403, 409, 413, 429),
    openapi_extra={"security": SECURITY, "parameters": [_IDEMPOTENCY]},
)
async def create_upload(
    request: Request, caller: Writer, body: CreateAssetUploadRequest
) -> Response:
    async def answer() -> Response:
        ticket = await services(request).uploads.begin(caller.account_id, _declared(body))
        return _json(CreateAssetUploadResponse(data=_slot(request, ticket)))

    return await idempotent(request, caller, f"POST {DIRECT_UPLOADS}", answer)


@router.post(
    DIRECT_UPLOADS + "/batches",
    operation_id="createAssetUploadBatch",
    summary="Create Asset Upload Batch",
    description=f"Up to {MAX_BATCH_FILES} upload slots at once; complete them together with "
    "POST /v3/assets/complete/batches.",
    response_model=CreateAssetUploadBatchResponse,
    responses=error_responses(400, 401, 403, 409, 413, 429),
    openapi_extra={"security": SECURITY, "parameters": [_IDEMPOTENCY]},
)
async def create_upload_batch(
    request: Request, caller: Writer, body: CreateAssetUploadBatchRequest
) -> Response:
    async def answer() -> Response:
        files = [_declared(f) for f in body.files]
        batch, tickets = await services(request).uploads.begin_batch(
            caller.account_id, files, body.title
        )
        slots = [_slot(request, t) for t in tickets]
        data = CreateAssetUploadBatchData(batch_id=batch.batch_id, items=slots)
        return _json(CreateAssetUploadBatchResponse(data=data))

    return await idempotent(request, caller, f"POST {DIRECT_UPLOADS}/batches", answer)


@router.put(
    DIRECT_UPLOADS + "/{asset_id}",
    operation_id="putAssetUpload",
    summary="Upload the bytes of a direct upload",
    description="The upload_url of a direct upload on voxhub's own storage: a capability "
    "(signed, expiring; no API key). The body is the raw file, at most the declared size.",
    responses={**error_responses(400, 404, 413), 200: {"description": "Stored"}},
)
async def put_upload(
    request: Request,
    asset_id: AssetId,
    owner: Annotated[str, Query(description="From the URL")] = "",
    expires: Annotated[str, Query(description="From the URL")] = "",
    signature: Annotated[str, Query(description="From the URL")] = "",
) -> Response:
    uploads = services(request).uploads
    asset = await uploads.receivable(owner, asset_id, expires, signature)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > asset.size_bytes:
            raise PayloadTooLarge(f"The upload is over the declared {asset.size_bytes} bytes.")
    await uploads.receive(asset, bytes(data))
    return Response(status_code=200)


@router.post(
    "/v3/assets/complete/batches",
    operation_id="completeAssetUploadBatch",
    summary="Complete Asset Upload Batch",
    description="Verify and keep every uploaded file of a batch; each item succeeds or fails "
    "on its own. Answers 202; GET /v3/assets/batches/{batch_id} has each item's outcome. "
    "Repeating it retries the items not completed.",
    status_code=202,
    response_model=CompleteAssetBatchResponse,
    responses=error_responses(400, 401, 403, 404, 429),
    openapi_extra={"security": SECURITY},
)
async def complete_batch(
    request: Request, caller: Writer, body: CompleteAssetBatchRequest
) -> Response:
    view = await services(request).uploads.complete_batch(caller.account_id, body.batch_id)
    data = {"batch_id": view.batch.batch_id, "status": view.status}
    return _json(CompleteAssetBatchResponse.model_validate({"data": data}), status=202)


@router.get(
    "/v3/assets/batches/{batch_id}",
    operation_id="getAssetBatch",
    summary="Get Asset Batch",
    response_model=GetAssetBatchResponse,
    responses=error_responses(400, 401, 404, 429),
    openapi_extra={"security": SECURITY},
)
async def get_batch(
    request: Request,
    caller: Caller,
    batch_id: Annotated[str, Path(json_schema_extra={"pattern": ID_PATTERN})],
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    token: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    view = await services(request).uploads.batch(caller.account_id, batch_id)
    return _json(GetAssetBatchResponse(data=_batch_data(view, limit, token)))


def _batch_data(view: BatchView, limit: int, token: str | None) -> AssetBatchData:
    if token is not None and not token.isdigit():
        raise InvalidParameter("The token is not a next_token of this batch.", param="token")
    start = int(token or 0)
    page = view.items[start : start + limit]
    more = start + limit < len(view.items)
    items = [
        AssetBatchItem(
            item_index=entry.item_index or 0,
            status=entry.status,
            video_id=entry.asset_id,
            error=_error(entry),
        )
        for entry in map(item_status, page)
    ]
    return AssetBatchData(
        batch_id=view.batch.batch_id,
        status=view.status,
        title=view.batch.title,
        total_items=view.batch.total_items,
        counts_by_status=view.counts,
        created_at=view.batch.created_at,
        items=items,
        has_more=more,
        next_token=str(start + limit) if more else None,
    )


@router.get(
    "/v3/assets/statuses",
    operation_id="getAssetStatuses",
    summary="Bulk Asset Statuses",
    description="Statuses of up to 100 assets, by comma-separated asset_ids and/or batch_ids: "
    "queued (waiting for its bytes or completion), completed, failed, or not_found for "
    "unknown or another account's ids.",
    response_model=AssetStatusesResponse,
    responses=error_responses(400, 401, 429),
    openapi_extra={"security": SECURITY},
)
async def get_statuses(
    request: Request,
    caller: Caller,
    asset_ids: Annotated[str, Query(max_length=3400, pattern=_ID_LIST)] = "",
    batch_ids: Annotated[str, Query(max_length=3400, pattern=_ID_LIST)] = "",
) -> Response:
    entries = await services(request).uploads.statuses(
        caller.account_id, _ids(asset_ids), _ids(batch_ids)
    )
    data = [
        AssetStatusEntry(
            video_id=e.asset_id,
            status=e.status,
            batch_id=e.batch_id,
            item_index=e.item_index,
            error=_error(e),
        )
        for e in entries
    ]
    return _json(AssetStatusesResponse(data=data))


def _ids(joined: str) -> list[str]:
    return [part.strip() for part in joined.split(",") if part.strip()]


@router.post(
    "/v3/assets/{asset_id}/complete",
    operation_id="completeAssetUpload",
    summary="Complete Asset Upload",
    description="Verify the uploaded bytes (audio or video, the declared size, the SHA-256 "
    "when given) and keep them as the asset. Repeating it answers the same asset.",
    response_model=CompleteAssetUploadResponse,
    responses=error_responses(400, 401, 403, 404, 429),
    openapi_extra={"security": SECURITY},
)
async def complete_upload(
    request: Request,
    caller: Writer,
    asset_id: AssetId,
    body: CompleteAssetUploadRequest | None = None,
) -> Response:
    checksum = body.checksum_sha256 if body is not None else None
    asset = await services(request).uploads.complete(caller.account_id, asset_id, checksum)
    data = CompleteAssetUploadData(
        asset_id=asset.asset_id,
        url=file_url(services(request), request, asset.storage_key),
        mime_type=asset.media_type,
        size_bytes=asset.size_bytes,
        status=asset.status,
    )
    return _json(CompleteAssetUploadResponse(data=data))
