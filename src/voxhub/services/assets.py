"""Assets: files an account uploads (audio, or video for its sound, to clone a voice from).

The type comes from the bytes (never the name or the declared type); the size limit is
enforced by the caller while the body is read. The file is stored before its record, so a
crash in between leaves an unreachable file, never a record without its file. Direct uploads
(the client PUTs the bytes itself) are services/uploads.py.
"""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata

from voxhub.audio.sniff import SniffedType, refused_document, sniff_media
from voxhub.domain import Asset, AssetPage
from voxhub.errors import InvalidParameter, NotFound
from voxhub.ids import new_asset_id
from voxhub.services.files import FileService
from voxhub.services.identifiers import could_be_stored
from voxhub.services.pagination import Cursor, decode_token, encode_token
from voxhub.storage.layout import asset_key
from voxhub.store import Store

__all__ = ["FORMATS", "MAX_ASSET_BYTES", "AssetService", "clean_name", "stored_type"]

MAX_ASSET_BYTES = 32 * 1024 * 1024
FORMATS = "audio (wav, mp3, m4a/aac, ogg/opus, flac, webm) or video (mp4, mov, webm)"
_ASSETS_SCOPE = "assets"


def stored_type(data: bytes, param: str) -> SniffedType:
    """What the bytes are, if voxhub stores them; InvalidParameter naming them otherwise."""
    sniffed = sniff_media(data)
    if sniffed is not None:
        return sniffed
    document = refused_document(data[:64])
    if document is not None:
        raise InvalidParameter(
            f"{param} is {document}: voxhub stores audio and video only ({FORMATS}), "
            "to clone voices from.",
            param=param,
        )
    raise InvalidParameter(
        f"{param} is not a file voxhub accepts ({FORMATS}); "
        "the type is read from the file's bytes, not its name.",
        param=param,
    )


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
        sniffed = stored_type(data, "file")
        asset_id = new_asset_id()
        key = asset_key(asset_id, sniffed.extension)
        await asyncio.to_thread(self._files.storage.put, key, data)
        asset = Asset(
            asset_id=asset_id,
            account_id=account_id,
            name=clean_name(filename),
            media_type=sniffed.media_type,
            kind=sniffed.kind,
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

    async def list_page(
        self, account_id: str, username: str, limit: int, token: str | None, folder_id: str | None
    ) -> AssetPage:
        """The account's completed assets, newest first. ``username`` is the owner asked for
        (the hosted beta requires it): another owner's assets are never listed. voxhub has
        no folders, so every asset is at the root: a folder id other than "" lists nothing."""
        if username != account_id or folder_id:
            return AssetPage([], None)
        after = None
        if token:
            cursor = decode_token(token, _ASSETS_SCOPE)
            if not cursor.name.isdigit():
                raise InvalidParameter(
                    "The token is not a next_token of this listing.", param="token"
                )
            after = (int(cursor.name), cursor.voice_id)
        found = await self._store.list_assets(account_id, limit + 1, after)
        page, more = found[:limit], len(found) > limit
        last = page[-1] if more else None
        next_token = (
            encode_token(Cursor(_ASSETS_SCOPE, str(last.created_at), last.asset_id))
            if last is not None
            else None
        )
        return AssetPage(page, next_token)
