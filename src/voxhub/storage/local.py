"""Files in a directory on local disk (the embedded default: ``<data dir>/files``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from voxhub.storage.base import Storage, checked

__all__ = ["LocalStorage"]


class LocalStorage(Storage):
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / checked(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_folder(self, prefix: str) -> None:
        folder = self.root / checked(f"{prefix}/x.xx").rsplit("/", 1)[0]
        shutil.rmtree(folder, ignore_errors=True)

    def delete_older_than(self, prefix: str, cutoff: float) -> int:
        folder = self.root / checked(f"{prefix}/x.xx").rsplit("/", 1)[0]
        removed = 0
        for path in folder.rglob("*") if folder.is_dir() else ():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None
