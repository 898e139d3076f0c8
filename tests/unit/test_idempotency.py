"""Idempotency claims over time: replayed for a day, taken over when abandoned."""

from __future__ import annotations

import asyncio

import pytest

from voxhub.errors import RequestInProgress
from voxhub.services import IdempotencyService, Replay
from voxhub.services.idempotency import ABANDONED_SECONDS, REPLAY_SECONDS
from voxhub.store import MemoryStore


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_answers_replay_for_a_day_then_the_key_is_new_again() -> None:
    clock = Clock()
    keys = IdempotencyService(MemoryStore(), clock)
    claim = asyncio.run(keys.begin("acct", "POST /x", "k"))
    assert not isinstance(claim, Replay)
    asyncio.run(keys.succeed(claim, 200, '{"data": 1}'))
    clock.now += REPLAY_SECONDS - 1
    assert asyncio.run(keys.begin("acct", "POST /x", "k")) == Replay(200, '{"data": 1}')
    clock.now += 2
    assert not isinstance(asyncio.run(keys.begin("acct", "POST /x", "k")), Replay)


def test_a_running_claim_blocks_until_it_is_abandoned() -> None:
    clock = Clock()
    keys = IdempotencyService(MemoryStore(), clock)
    asyncio.run(keys.begin("acct", "POST /x", "k"))
    with pytest.raises(RequestInProgress):
        asyncio.run(keys.begin("acct", "POST /x", "k"))
    clock.now += ABANDONED_SECONDS + 1
    assert not isinstance(asyncio.run(keys.begin("acct", "POST /x", "k")), Replay)
