"""The storage interface: whole files under opaque keys the service makes up itself.

Keys are made by voxhub (never taken from a request), and checked again here, so no
user-controlled path reaches the filesystem.
"""

from __future__ import annotations

import abc
import re
from pathlib import Path

__all__ = ["Storage", "is_storage_key"]

_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*\.[a-z0-9]{2,5}")


def is_storage_key(key: str) -> bool:
    """Lowercase segments of letters, digits, ``_`` and ``-``, and one extension: no ``..``,
    no absolute path, no backslash."""
    return len(key) <= 200 and _KEY.fullmatch(key) is not None  # ($ would let a \n end it)


def checked(key: str) -> str:
    if not is_storage_key(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Storage(abc.ABC):
    """Blocking file operations: services call them through a thread."""

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically: readers see the old or the whole new file."""

    @abc.abstractmethod
    def read(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; no error when it is already gone."""

    @abc.abstractmethod
    def delete_folder(self, prefix: str) -> None:
        """Remove every file under the folder ``prefix``."""

    @abc.abstractmethod
    def delete_older_than(self, prefix: str, cutoff: float) -> int:
        """Remove files under the folder ``prefix`` written before ``cutoff`` (unix seconds)."""

    def local_path(self, key: str) -> Path | None:
        """A path the web server may stream the file from, when the backend has one."""
        return None

    def presigned_url(self, key: str, expires_in: int) -> str | None:
        """An absolute URL the backend itself serves the file at for ``expires_in`` seconds,
        fetchable without credentials; None when the backend cannot make one."""
        return None

    def presigned_upload(
        self, key: str, expires_in: int, content_type: str, size_bytes: int
    ) -> str | None:
        """An absolute URL a client PUTs exactly ``size_bytes`` bytes of ``content_type`` to,
        for ``expires_in`` seconds, storing them under ``key``; None when the backend cannot
        make one."""
        return None
