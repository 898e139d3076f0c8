"""Capability URLs for stored files: signed, expiring, fetchable without an API key.

A URL names the storage key, an expiry (unix seconds) and an HMAC-SHA256 of both under the
server's file secret. Expiries are rounded up to the hour, so a voice's preview URL stays the
same between polls for up to an hour (clients and caches may reuse it).

With ``links="presigned"`` and a storage that presigns (S3), a link is instead the object
store's own presigned URL (absolute), expiring at the same moment: the store serves the bytes.
voxhub's signed links keep working either way.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from voxhub.errors import NotFound
from voxhub.storage import Storage, is_storage_key
from voxhub.storage.layout import media_type

__all__ = ["LINK_MODES", "FileService", "StoredFile", "load_or_create_secret"]

LINK_MODES = ("signed", "presigned")
_HOUR = 3600
_RECENT_LINKS = 4096
# Every file voxhub stores is audio of a type the sniffer knows (speech: mp3, wav, flac).


def load_or_create_secret(path: Path) -> bytes:
    """The secret kept in the data directory (created once, readable by its owner only).

    Written to a temporary file and linked into place, so a process starting at the same
    moment reads either nothing (and links its own, losing the race) or the whole secret.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_bytes(32).hex())
            os.chmod(tmp, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    return bytes.fromhex(path.read_text().strip())


def _upload_purpose(account_id: str, asset_id: str) -> str:
    return f"PUT upload\n{account_id}\n{asset_id}"


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    media_type: str
    path: Path | None  # on local disk: streamed from there
    data: bytes | None  # otherwise: the bytes


class FileService:
    def __init__(
        self, storage: Storage, secret: bytes, ttl_seconds: int, links: str = "signed"
    ) -> None:
        if links not in LINK_MODES:
            raise ValueError(f"file links are one of {LINK_MODES}, not {links!r}")
        self.storage = storage
        self.links = links
        self._secret = secret
        self._ttl = ttl_seconds
        self._recent: dict[str, tuple[int, str]] = {}
        self._recent_presigned: dict[str, tuple[int, str]] = {}

    @property
    def max_link_age(self) -> int:
        """The longest a link signed now stays valid (the TTL, rounded up to the hour)."""
        return self._ttl + 2 * _HOUR

    def _signature(self, key: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()

    def _expiry(self, moment: float) -> int:
        return (int(moment + self._ttl) // _HOUR + 1) * _HOUR

    def link(self, key: str, now: float | None = None) -> str:
        """Where clients fetch the file: with presigned links (and a storage that makes them)
        the store's absolute URL, otherwise ``signed_path`` (relative to voxhub's own URL).

        Either stays the same for as long as its expiry does (up to an hour), and is valid for
        at least the TTL (a presigned URL for at most 7 days, SigV4's limit).
        """
        if self.links == "presigned":
            moment = time.time() if now is None else now
            expires = self._expiry(moment)
            cached = self._recent_presigned.get(key)
            if cached is not None and cached[0] == expires:
                return cached[1]
            url = self.storage.presigned_url(key, expires - int(moment))
            if url is not None:
                if len(self._recent_presigned) >= _RECENT_LINKS:
                    self._recent_presigned.clear()
                self._recent_presigned[key] = (expires, url)
                return url
        return self.signed_path(key, now)

    def signed_path(self, key: str, now: float | None = None) -> str:
        """``/v3/files/<key>?expires=…&signature=…``, valid for at least the TTL.

        Get Voice signs a preview link on every poll: the last link made for each key is kept
        for as long as its expiry stays the same (up to an hour).
        """
        moment = time.time() if now is None else now
        expires = self._expiry(moment)
        cached = self._recent.get(key)
        if cached is not None and cached[0] == expires:
            return cached[1]
        path = f"/v3/files/{key}?expires={expires}&signature={self._signature(key, expires)}"
        if len(self._recent) >= _RECENT_LINKS:
            self._recent.clear()
        self._recent[key] = (expires, path)
        return path

    def upload_path(self, account_id: str, asset_id: str, expires: int) -> str:
        """Where a client PUTs a direct upload's bytes until ``expires`` (voxhub's own URL:
        signed over the owner, the asset and the expiry, under a purpose no download shares)."""
        signature = self._signature(_upload_purpose(account_id, asset_id), expires)
        query = f"owner={account_id}&expires={expires}&signature={signature}"
        return f"/v3/assets/direct-uploads/{asset_id}?{query}"

    def verify_upload(
        self, account_id: str, asset_id: str, expires: str, signature: str, now: float | None = None
    ) -> None:
        """Raise NotFound unless this is an upload URL we signed and it has not expired."""
        moment = time.time() if now is None else now
        if not (expires.isdigit() and len(expires) <= 12):
            raise NotFound("Upload not found, or its URL has expired.")
        expected = self._signature(_upload_purpose(account_id, asset_id), int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()) or int(expires) < moment:
            raise NotFound("Upload not found, or its URL has expired.")

    def verify(self, key: str, expires: str, signature: str, now: float | None = None) -> None:
        """Raise NotFound unless the URL is one we signed and it has not expired."""
        moment = time.time() if now is None else now
        if not (is_storage_key(key) and expires.isdigit() and len(expires) <= 12):
            raise NotFound("File not found, or its link has expired.")
        expected = self._signature(key, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()) or int(expires) < moment:
            raise NotFound("File not found, or its link has expired.")

    def open(self, key: str, expires: str, signature: str) -> StoredFile:
        self.verify(key, expires, signature)
        path = self.storage.local_path(key)
        data = None if path is not None else self.storage.read(key)
        if path is None and data is None:
            raise NotFound("File not found, or its link has expired.")
        return StoredFile(key, media_type(key), path, data)
