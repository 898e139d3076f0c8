"""Durable records: the store interface and its SQLite, PostgreSQL and in-memory backends."""

from __future__ import annotations

from voxhub.store.base import Store
from voxhub.store.memory import MemoryStore
from voxhub.store.sqlite import SQLiteStore, sqlite_path_from_url

__all__ = ["MemoryStore", "SQLiteStore", "Store", "open_store"]


def open_store(url: str) -> Store:
    """The store for a database URL: ``sqlite:///path`` or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        return SQLiteStore(sqlite_path_from_url(url))
    if url.split("://", 1)[0] in ("postgresql", "postgres", "postgresql+psycopg"):
        from voxhub.store.postgres import PostgresStore  # needs the [postgres] extra

        return PostgresStore(url)
    raise ValueError(
        f"unsupported database URL {url.split('://', 1)[0]!r}: use sqlite or postgresql"
    )
