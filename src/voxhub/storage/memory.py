"""Files in a dict: the storage twin for unit tests."""

from __future__ import annotations

import time

from voxhub.storage.base import Storage, checked

__all__ = ["MemoryStorage"]


class MemoryStorage(Storage):
    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, float]] = {}

    def put(self, key: str, data: bytes) -> None:
        self.files[checked(key)] = (data, time.time())

    def read(self, key: str) -> bytes | None:
        found = self.files.get(checked(key))
        return found[0] if found else None

    def exists(self, key: str) -> bool:
        return checked(key) in self.files

    def delete(self, key: str) -> None:
        self.files.pop(checked(key), None)

    def delete_folder(self, prefix: str) -> None:
        for key in [k for k in self.files if k.startswith(checked(f"{prefix}/x.xx")[:-4])]:
            del self.files[key]

    def delete_older_than(self, prefix: str, cutoff: float) -> int:
        folder = checked(f"{prefix}/x.xx")[:-4]
        old = [k for k, (_, at) in self.files.items() if k.startswith(folder) and at < cutoff]
        for key in old:
            del self.files[key]
        return len(old)
