"""Direct uploads: the client PUTs an asset's bytes to a URL, then asks voxhub to complete it.

Asking for an upload records a ``pending_upload`` asset and answers a URL valid for
``UPLOAD_URL_SECONDS``: with an object store that presigns (and ``VOXHUB_FILE_LINKS=presigned``,
which says clients can reach it) the store's own presigned PUT, with the declared type and size
signed in; otherwise voxhub's own signed, expiring URL (api/routes/uploads.py). Completion reads
the stored bytes back and keeps them only if they are audio or video whose size (and checksum,
when one was given) match what was declared. Uploads never completed are removed
``UPLOAD_KEPT_SECONDS`` after their URL expires (services/background.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
from collections import Counter
from dataclasses import dataclass, replace

from voxhub.audio.sniff import family
from voxhub.domain import Asset, AssetBatch
from voxhub.errors import InvalidParameter, NotFound, PayloadTooLarge
from voxhub.ids import new_asset_id
from voxhub.services.assets import FORMATS, MAX_ASSET_BYTES, AssetService, clean_name, stored_type
from voxhub.services.files import FileService
from voxhub.services.identifiers import could_be_stored
from voxhub.storage.layout import asset_key, upload_key
from voxhub.store import Store

__all__ = [
    "MAX_BATCH_FILES",
    "UPLOAD_KEPT_SECONDS",
    "UPLOAD_URL_SECONDS",
    "BatchView",
    "DeclaredFile",
    "ItemStatus",
    "UploadService",
    "UploadTicket",
    "item_status",
]

UPLOAD_URL_SECONDS = 3600
UPLOAD_KEPT_SECONDS = 3600
MAX_BATCH_FILES = 100
_SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
# The hosted API's item statuses, from ours.
_ITEM_STATUS = {"pending_upload": "queued", "completed": "completed", "failed": "failed"}


@dataclass(frozen=True, slots=True)
class DeclaredFile:
    """What a client says it will upload."""

    filename: str
    content_type: str
    size_bytes: int
    checksum_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class UploadTicket:
    asset: Asset
    url: str  # absolute (presigned) or a path on voxhub's own URL
    headers: dict[str, str]
    expires_in_seconds: int


@dataclass(frozen=True, slots=True)
class ItemStatus:
    asset_id: str | None
    status: str  # queued | completed | failed | not_found
    error: str | None = None
    batch_id: str | None = None
    item_index: int | None = None


@dataclass(frozen=True, slots=True)
class BatchView:
    batch: AssetBatch
    items: list[Asset]
    status: str  # processing | completed | failed
    counts: dict[str, int]


def item_status(asset: Asset) -> ItemStatus:
    return ItemStatus(
        asset.asset_id,
        _ITEM_STATUS.get(asset.status, asset.status),
        asset.failure_message,
        asset.batch_id,
        asset.item_index,
    )


def _check_declared(file: DeclaredFile, param: str) -> None:
    media = file.content_type.split(";", 1)[0].strip().lower()
    if not (media.startswith("audio/") or media in _VIDEO_TYPES):
        raise InvalidParameter(
            f"{param}.content_type {file.content_type!r}: voxhub stores audio and video only "
            f"({FORMATS}), to clone voices from.",
            param=f"{param}.content_type",
        )
    if file.size_bytes < 1:
        raise InvalidParameter(
            f"{param}.size_bytes must be at least 1.", param=f"{param}.size_bytes"
        )
    if file.size_bytes > MAX_ASSET_BYTES:
        raise PayloadTooLarge(
            f"Files are at most {MAX_ASSET_BYTES // (1024 * 1024)} MB.",
            param=f"{param}.size_bytes",
        )
    if file.checksum_sha256 is not None and not _SHA256_HEX.match(file.checksum_sha256):
        raise InvalidParameter(
            f"{param}.checksum_sha256 must be 64 hexadecimal characters (a SHA-256).",
            param=f"{param}.checksum_sha256",
        )


class UploadService:
    def __init__(self, store: Store, files: FileService) -> None:
        self._store = store
        self._files = files
        self._assets = AssetService(store, files)  # lookups as the asset routes make them

    # --- asking for upload URLs --------------------------------------------------------

    async def begin(self, account_id: str, file: DeclaredFile) -> UploadTicket:
        _check_declared(file, "file")
        asset = self._pending(account_id, file, int(time.time()), None, None)
        await self._store.insert_asset(asset)
        return self._ticket(asset, file)

    async def begin_batch(
        self, account_id: str, files: list[DeclaredFile], title: str | None
    ) -> tuple[AssetBatch, list[UploadTicket]]:
        if not 1 <= len(files) <= MAX_BATCH_FILES:
            raise InvalidParameter(f"files holds 1 to {MAX_BATCH_FILES} files.", param="files")
        for index, file in enumerate(files):
            _check_declared(file, f"files[{index}]")
        now = int(time.time())
        batch = AssetBatch(new_asset_id(), account_id, title, len(files), now)
        assets = [self._pending(account_id, f, now, batch.batch_id, i) for i, f in enumerate(files)]
        await self._store.insert_asset_batch(batch, assets)
        return batch, [self._ticket(a, f) for a, f in zip(assets, files, strict=True)]

    def _pending(
        self,
        account_id: str,
        file: DeclaredFile,
        now: int,
        batch_id: str | None,
        item_index: int | None,
    ) -> Asset:
        asset_id = new_asset_id()
        media = file.content_type.split(";", 1)[0].strip().lower()
        return Asset(
            asset_id=asset_id,
            account_id=account_id,
            name=clean_name(file.filename),
            media_type=media,
            kind=family(media),
            size_bytes=file.size_bytes,
            storage_key=upload_key(asset_id),
            created_at=now,
            status="pending_upload",
            checksum_sha256=file.checksum_sha256.lower() if file.checksum_sha256 else None,
            upload_expires_at=now + UPLOAD_URL_SECONDS,
            batch_id=batch_id,
            item_index=item_index,
        )

    def _ticket(self, asset: Asset, file: DeclaredFile) -> UploadTicket:
        expires = asset.upload_expires_at or 0
        seconds = max(0, expires - int(time.time()))
        url = None
        if self._files.links == "presigned":
            url = self._files.storage.presigned_upload(
                asset.storage_key, seconds, file.content_type, file.size_bytes
            )
        if url is None:
            url = self._files.upload_path(asset.account_id, asset.asset_id, expires)
        return UploadTicket(asset, url, {"Content-Type": file.content_type}, seconds)

    # --- receiving bytes on voxhub's own URL -------------------------------------------

    async def receivable(self, owner: str, asset_id: str, expires: str, signature: str) -> Asset:
        """The pending asset an upload URL names, if the URL is valid (else NotFound)."""
        self._files.verify_upload(owner, asset_id, expires, signature)
        asset = await self._store.get_asset(asset_id, owner)
        if asset is None or asset.status == "completed":
            raise NotFound("Upload not found, or its URL has expired.")
        return asset

    async def receive(self, asset: Asset, data: bytes) -> None:
        if len(data) > asset.size_bytes:
            raise PayloadTooLarge(
                f"The upload is {len(data)} bytes; {asset.size_bytes} were declared."
            )
        await asyncio.to_thread(self._files.storage.put, asset.storage_key, data)

    # --- completing ----------------------------------------------------------------------

    async def complete(self, account_id: str, asset_id: str, checksum: str | None) -> Asset:
        """Keep the uploaded bytes as the asset (idempotent once completed)."""
        asset = await self._owned(account_id, asset_id)
        if asset.status == "completed":
            return asset
        if checksum is not None and not _SHA256_HEX.match(checksum):
            raise InvalidParameter(
                "checksum_sha256 must be 64 hexadecimal characters.", param="checksum_sha256"
            )
        completed = await self._verified(asset, checksum.lower() if checksum else None)
        await self._store.settle_asset(completed)
        return completed

    async def complete_batch(self, account_id: str, batch_id: str) -> BatchView:
        """Complete every item not yet completed; each fails on its own, with why."""
        view = await self.batch(account_id, batch_id)
        for asset in view.items:
            if asset.status == "completed":
                continue
            try:
                settled = await self._verified(asset, None)
            except InvalidParameter as exc:
                settled = replace(asset, status="failed", failure_message=exc.message)
            await self._store.settle_asset(settled)
        return await self.batch(account_id, batch_id)

    async def _verified(self, asset: Asset, checksum: str | None) -> Asset:
        data = await asyncio.to_thread(self._files.storage.read, upload_key(asset.asset_id))
        if data is None:
            raise InvalidParameter(
                "Nothing was uploaded for this asset yet: PUT the file to its upload_url first.",
                param="asset_id",
            )
        if len(data) != asset.size_bytes:
            raise InvalidParameter(
                f"The upload is {len(data)} bytes; size_bytes declared {asset.size_bytes}.",
                param="size_bytes",
            )
        expected = checksum or asset.checksum_sha256
        actual = hashlib.sha256(data).hexdigest()
        if expected is not None and not hmac.compare_digest(actual, expected):
            raise InvalidParameter(
                f"The upload's SHA-256 is {actual}, not the declared {expected}.",
                param="checksum_sha256",
            )
        sniffed = stored_type(data, "file")
        if family(asset.media_type) == "audio" and sniffed.kind == "video":
            raise InvalidParameter(
                f"The file was declared {asset.media_type} but is a video ({sniffed.media_type}).",
                param="content_type",
            )
        key = asset_key(asset.asset_id, sniffed.extension)
        await asyncio.to_thread(self._files.storage.put, key, data)
        await asyncio.to_thread(self._files.storage.delete, upload_key(asset.asset_id))
        return replace(
            asset,
            status="completed",
            media_type=sniffed.media_type,
            kind=sniffed.kind,
            storage_key=key,
            failure_message=None,
            upload_expires_at=None,
        )

    async def _owned(self, account_id: str, asset_id: str) -> Asset:
        return await self._assets.get(account_id, asset_id)

    # --- reading statuses ----------------------------------------------------------------

    async def batch(self, account_id: str, batch_id: str) -> BatchView:
        batch = (
            await self._store.get_asset_batch(batch_id, account_id)
            if could_be_stored(batch_id, "batch_id")
            else None
        )
        if batch is None:
            raise NotFound("Batch not found.")
        items = await self._store.batch_assets(batch_id, account_id)
        counts = Counter(item_status(a).status for a in items)
        if counts["queued"]:
            status = "processing"
        elif counts["failed"] == len(items):
            status = "failed"
        else:
            status = "completed"
        return BatchView(batch, items, status, dict(counts))

    async def statuses(
        self, account_id: str, asset_ids: list[str], batch_ids: list[str]
    ) -> list[ItemStatus]:
        """One entry per asset id (``not_found`` for unknown or another account's), then one
        per item of each batch (none for an unknown batch but a ``not_found`` entry)."""
        if not asset_ids and not batch_ids:
            raise InvalidParameter("Give asset_ids or batch_ids.", param="asset_ids")
        if len(asset_ids) + len(batch_ids) > MAX_BATCH_FILES:
            raise InvalidParameter(
                f"At most {MAX_BATCH_FILES} ids in one request.", param="asset_ids"
            )
        entries: list[ItemStatus] = []
        for asset_id in asset_ids:
            try:
                entries.append(item_status(await self._owned(account_id, asset_id)))
            except NotFound:
                entries.append(ItemStatus(asset_id, "not_found"))
        for batch_id in batch_ids:
            try:
                view = await self.batch(account_id, batch_id)
            except NotFound:
                entries.append(ItemStatus(None, "not_found", batch_id=batch_id))
                continue
            entries.extend(item_status(a) for a in view.items)
        return entries

    # --- removing what was never completed ---------------------------------------------

    async def purge_expired(self, now: float | None = None) -> int:
        """Remove uploads whose URL expired over ``UPLOAD_KEPT_SECONDS`` ago, with any bytes."""
        cutoff = int(time.time() if now is None else now) - UPLOAD_KEPT_SECONDS
        removed = 0
        while expired := await self._store.expired_uploads(cutoff, 100):
            for asset in expired:
                await asyncio.to_thread(self._files.storage.delete, upload_key(asset.asset_id))
                await self._store.delete_asset(asset.asset_id, asset.account_id)
                removed += 1
        return removed
