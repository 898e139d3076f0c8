"""A per-process cache of private voices for PostgreSQL, kept exact by LISTEN/NOTIFY.

A trigger on ``voices`` (migration 0002) notifies channel ``voxhub_voices`` on every change,
whichever process made it. The cache serves entries only while its listening connection is
up; every notification, reconnection or loss of the connection empties it. A read that was
running when a notification arrived is not cached (the generation counter), so the cache is
never behind the database by more than the time a notification takes to arrive.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Generic, TypeVar

import psycopg

__all__ = ["CHANNEL", "NotifiedCache"]

log = logging.getLogger(__name__)
CHANNEL = "voxhub_voices"
K = TypeVar("K")
V = TypeVar("V")
_LIMIT = 10_000
_RECONNECT_SECONDS = 1.0


class NotifiedCache(Generic[K, V]):
    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._entries: dict[K, V] = {}
        self._live = False
        self._task: asyncio.Task[None] | None = None
        self.generation = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="voxhub-voice-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def lookup(self, key: K) -> tuple[bool, V | None]:
        if key in self._entries:
            return True, self._entries[key]
        return False, None

    def store(self, key: K, value: V, generation: int) -> None:
        """Keep ``value`` if nothing changed since ``generation`` was read."""
        if self._live and generation == self.generation and len(self._entries) < _LIMIT:
            self._entries[key] = value

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("voice change listener lost; reading without cache", exc_info=True)
            finally:
                self._live = False
                self.invalidate()
            await asyncio.sleep(_RECONNECT_SECONDS)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.invalidate()
            self._live = True
            async for _ in conn.notifies():
                self.invalidate()
