"""Request and response shapes of the asset endpoints beyond upload/get/delete (api/models.py),
named and shaped as the hosted API's schemas (heygen-v3-schemas.json)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from voxhub.api.models import AssetDetail

__all__ = [
    "AssetBatchData",
    "AssetBatchItem",
    "AssetStatusEntry",
    "AssetStatusesResponse",
    "CompleteAssetBatchRequest",
    "CompleteAssetBatchResponse",
    "CompleteAssetUploadData",
    "CompleteAssetUploadRequest",
    "CompleteAssetUploadResponse",
    "CreateAssetUploadBatchData",
    "CreateAssetUploadBatchRequest",
    "CreateAssetUploadBatchResponse",
    "CreateAssetUploadRequest",
    "CreateAssetUploadResponse",
    "GetAssetBatchResponse",
    "ListAssetsResponse",
    "SearchAssetsResponse",
    "UploadSlot",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ListAssetsResponse(BaseModel):
    data: list[AssetDetail]
    has_more: bool = Field(description="Whether more pages are available")
    next_token: str | None = Field(description="Opaque cursor for the next page")


class SearchAssetsResponse(BaseModel):
    data: list[dict[str, Any]] = Field(
        description="Image and icon results. voxhub stores audio and video only, so this is "
        "always empty."
    )
    has_more: bool = Field(description="Whether more pages are available")
    next_token: str | None = Field(description="Opaque cursor for the next page")


class AssetStatusEntry(BaseModel):
    video_id: str | None = Field(description="The asset id (null for an unknown batch).")
    status: str = Field(description="queued, processing, completed, failed or not_found.")
    batch_id: str | None = Field(default=None, description="For entries from a batch_id.")
    item_index: int | None = Field(default=None, description="For entries from a batch_id.")
    error: dict[str, Any] | None = Field(default=None, description="Why it failed.")


class AssetStatusesResponse(BaseModel):
    data: list[AssetStatusEntry]
    has_more: bool = False
    next_token: str | None = None


class CreateAssetUploadRequest(_Body):
    filename: str = Field(min_length=1, max_length=1000, description="Original file name.")
    content_type: str = Field(
        min_length=1,
        max_length=200,
        description="Declared MIME type: audio/* or video/mp4, video/quicktime, video/webm. "
        "Verified against the stored bytes at completion.",
    )
    size_bytes: int = Field(description="Exact byte size of the file (at most 32 MB).")
    checksum_sha256: str | None = Field(
        default=None, description="Optional SHA-256 of the file as hex, checked at completion."
    )


class UploadSlot(BaseModel):
    asset_id: str = Field(description="Usable after POST /v3/assets/{asset_id}/complete.")
    upload_url: str = Field(description="PUT the raw file bytes here.")
    upload_headers: dict[str, str] = Field(description="Send these verbatim on the PUT.")
    expires_in_seconds: int = Field(description="Seconds until the upload URL expires.")
    max_bytes: int = Field(description="Maximum upload size in bytes (the declared size).")
    status: str = Field(description="Always 'pending_upload' here.")


class CreateAssetUploadResponse(BaseModel):
    data: UploadSlot


class CreateAssetUploadBatchRequest(_Body):
    files: list[CreateAssetUploadRequest] = Field(description="1 to 100 files.")
    title: str | None = Field(default=None, max_length=200, description="Batch display name.")
    callback_url: str | None = Field(
        default=None, description="Accepted for parity; asset completion sends no webhook."
    )


class CreateAssetUploadBatchData(BaseModel):
    batch_id: str
    items: list[UploadSlot]


class CreateAssetUploadBatchResponse(BaseModel):
    data: CreateAssetUploadBatchData


class CompleteAssetUploadRequest(_Body):
    checksum_sha256: str | None = Field(default=None, description="Optional SHA-256 (hex).")


class CompleteAssetUploadData(BaseModel):
    asset_id: str
    url: str = Field(description="Signed, expiring URL of the finalized asset.")
    mime_type: str = Field(description="MIME type detected from the stored bytes.")
    size_bytes: int
    status: str = Field(description="'completed': the bytes were verified.")


class CompleteAssetUploadResponse(BaseModel):
    data: CompleteAssetUploadData


class CompleteAssetBatchRequest(_Body):
    batch_id: str = Field(min_length=1, description="From POST /v3/assets/direct-uploads/batches.")


class CompleteAssetBatchData(BaseModel):
    batch_id: str
    status: str = Field(description="processing, completed or failed (see GET the batch).")


class CompleteAssetBatchResponse(BaseModel):
    data: CompleteAssetBatchData


class AssetBatchItem(BaseModel):
    item_index: int
    status: str = Field(description="queued | completed | failed")
    video_id: str | None = Field(description="The asset id.")
    error: dict[str, Any] | None = Field(default=None, description="Why it failed.")


class AssetBatchData(BaseModel):
    batch_id: str
    status: str = Field(description="processing | completed | failed")
    title: str | None = None
    total_items: int
    counts_by_status: dict[str, int]
    created_at: int
    items: list[AssetBatchItem]
    has_more: bool
    next_token: str | None = None


class GetAssetBatchResponse(BaseModel):
    data: AssetBatchData
