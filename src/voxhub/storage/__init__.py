"""Where audio files live: the local data directory (embedded default), or memory in tests."""

from __future__ import annotations

from voxhub.storage.base import Storage, is_storage_key
from voxhub.storage.local import LocalStorage
from voxhub.storage.memory import MemoryStorage

__all__ = ["LocalStorage", "MemoryStorage", "Storage", "is_storage_key"]
