"""Assets: files an account uploads (audio, to clone a voice from).

The type comes from the bytes (never the name or the declared type); the size limit is
enforced by the caller while the body is read. The file is stored before its record, so a
crash in between leaves an unreachable file, never a record without its file.
"""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata

from voxhub.audio.sniff import sniff_audio
from voxhub.domain import Asset
from voxhub.errors import InvalidParameter, NotFound
from voxhub.ids import new_asset_id
from voxhub.services.files import FileService
from voxhub.services.identifiers import could_be_stored
from voxhub.storage.layout import asset_key
from voxhub.store import Store

__all__ = ["MAX_ASSET_BYTES", "AssetService", "clean_name"]

MAX_ASSET_BYTES = 32 * 1024 * 1024
_FORMATS = "wav, mp3, m4a/aac, ogg/opus, flac or webm"


def clean_name(filename: str | None) -> str:
    """A display name from an uploaded file's name: its last path part, printable, ≤ 200."""
    base = re.split(r"[\\/]", filename or "")[-1]
    printable = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return printable[:200] or "upload"


class AssetService:
    def __init__(self, store: Store, files: FileService) -> None:
        self._store = store
        self._files = files

    async def upload(self, account_id: str, filename: str | None, data: bytes) -> Asset:
        if not data:
            raise InvalidParameter("file is empty.", param="file")
        sniffed = sniff_audio(data[:64])
        if sniffed is None:
            raise InvalidParameter(
                f"file is not an audio file voxhub accepts ({_FORMATS}); "
                "the type is read from the file's bytes, not its name.",
                param="file",
            )
        asset_id = new_asset_id()
        key = asset_key(asset_id, sniffed.extension)
        await asyncio.to_thread(self._files.storage.put, key, data)
        asset = Asset(
            asset_id=asset_id,
            account_id=account_id,
            name=clean_name(filename),
            media_type=sniffed.media_type,
            kind="audio",
            size_bytes=len(data),
            storage_key=key,
            created_at=int(time.time()),
        )
        try:
            await self._store.insert_asset(asset)
        except BaseException:
            await asyncio.to_thread(self._files.storage.delete, key)
            raise
        return asset

    async def get(self, account_id: str, asset_id: str) -> Asset:
        asset = (
            await self._store.get_asset(asset_id, account_id)
            if could_be_stored(asset_id, "asset_id")
            else None
        )
        if asset is None:
            raise NotFound("Asset not found.")
        return asset

    async def delete(self, account_id: str, asset_id: str) -> Asset:
        asset = (
            await self._store.delete_asset(asset_id, account_id)
            if could_be_stored(asset_id, "asset_id")
            else None
        )
        if asset is None:
            raise NotFound("Asset not found.")
        await asyncio.to_thread(self._files.storage.delete, asset.storage_key)
        return asset
