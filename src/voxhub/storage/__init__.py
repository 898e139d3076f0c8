"""Where audio files live: the local data directory (embedded default), an S3-compatible
object store, or memory in tests; chosen by URL (``open_storage``)."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from pathlib import Path

from voxhub.storage.base import Storage, is_storage_key
from voxhub.storage.local import LocalStorage
from voxhub.storage.memory import MemoryStorage
from voxhub.storage.s3 import S3Storage  # imports boto3 (the [s3] extra) only when made

__all__ = [
    "LocalStorage",
    "MemoryStorage",
    "S3Storage",
    "Storage",
    "is_storage_key",
    "open_storage",
]

_SCHEMES = "file:///absolute/path, s3://bucket[/prefix] or memory://"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")  # S3's bucket naming rules


def _bad(url: str, why: str) -> ValueError:
    return ValueError(f"unsupported storage URL {url!r}: {why} (use {_SCHEMES})")


def _local(url: str, parts: urllib.parse.SplitResult) -> LocalStorage:
    if parts.netloc not in ("", "localhost"):
        raise _bad(url, "a file URL names an absolute path, file:///path (three slashes)")
    if parts.query or parts.fragment:
        raise _bad(url, "a file URL takes no query or fragment")
    path = Path(urllib.request.url2pathname(parts.path))
    if not path.is_absolute():
        raise _bad(url, "the path must be absolute")
    return LocalStorage(path)


def _s3(url: str, parts: urllib.parse.SplitResult) -> S3Storage:
    # Userinfo, a port, a query: none has a meaning here (credentials come from AWS_*).
    if (
        not parts.netloc
        or "@" in parts.netloc
        or ":" in parts.netloc
        or parts.query
        or parts.fragment
    ):
        raise _bad(url, "an S3 URL is s3://bucket or s3://bucket/prefix, nothing more")
    if not _BUCKET.match(parts.netloc) or ".." in parts.netloc:
        raise _bad(url, f"{parts.netloc!r} is not a valid bucket name")
    prefix = urllib.parse.unquote(parts.path).strip("/")
    if prefix and any(segment in ("", ".", "..") for segment in prefix.split("/")):
        raise _bad(url, "the prefix must be plain path segments")
    return S3Storage(parts.netloc, prefix)


def open_storage(url: str) -> Storage:
    """The storage for a URL: ``file:///abs/path``, ``s3://bucket/optional/prefix`` (endpoint
    and credentials from the ``AWS_*`` environment variables) or ``memory://`` (tests)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return _local(url, parts)
    if scheme == "s3":
        return _s3(url, parts)
    if scheme == "memory":
        if url.lower() not in ("memory://", "memory:"):
            raise _bad(url, "a memory storage takes nothing after memory://")
        return MemoryStorage()
    raise _bad(url, f"unknown scheme {parts.scheme!r}" if parts.scheme else "no scheme")
