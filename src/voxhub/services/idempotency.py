"""Idempotency keys: a repeat of a request within 24 hours replays its first answer.

Keyed by account, endpoint and the client's ``Idempotency-Key``. Only successful answers are
kept: a request that failed (bad input, a busy service, a crash) frees its key, so the client
may fix it and retry with the same key. A repeat while the first is still running gets 409
``request_in_progress``; a claim left by a process that died is taken over after 15 minutes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from voxhub.domain import IdempotentResponse
from voxhub.errors import InvalidParameter, RequestInProgress
from voxhub.store import Store

__all__ = ["IdempotencyService", "Replay"]

REPLAY_SECONDS = 24 * 3600
ABANDONED_SECONDS = 15 * 60
_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{1,255}$")


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: str


class IdempotencyService:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def begin(self, account_id: str, endpoint: str, key: str) -> IdempotentResponse | Replay:
        """A claim to run the request under, or the answer to replay."""
        if not _KEY.match(key):
            raise InvalidParameter(
                "Idempotency-Key must be 1 to 255 characters of A-Z a-z 0-9 _ - : .",
                param="Idempotency-Key",
            )
        now = int(self._clock())
        claim = IdempotentResponse(account_id, endpoint, key, now)
        held = await self._store.claim_idempotency(
            claim, running_since=now - ABANDONED_SECONDS, done_since=now - REPLAY_SECONDS
        )
        if held is None:
            return claim
        if held.status is None:
            raise RequestInProgress()
        return Replay(held.status, held.body or "")

    async def succeed(self, claim: IdempotentResponse, status: int, body: str) -> None:
        await self._store.complete_idempotency(replace(claim, status=status, body=body))

    async def fail(self, claim: IdempotentResponse) -> None:
        await self._store.release_idempotency(claim)
