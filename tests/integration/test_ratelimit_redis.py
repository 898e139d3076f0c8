"""Rate limits shared through Redis, as many API processes share them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from voxhub.domain import Principal
from voxhub.errors import RateLimited
from voxhub.services import RateLimitService

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


def principal(key_id: str, rate: str) -> Principal:
    return Principal(account_id="a", key_id=key_id, rate_limit=rate, read_only=False)


@pytest.fixture
async def limiters(redis_url: str) -> AsyncIterator[list[RateLimitService]]:
    made = [RateLimitService(redis_url), RateLimitService(redis_url)]
    yield made
    for limiter in made:
        await limiter.close()


async def test_two_processes_share_one_budget(limiters: list[RateLimitService]) -> None:
    first, second = limiters
    caller = principal("k1", "4/minute")
    for service in (first, second, first, second):
        await service.check(caller)
    with pytest.raises(RateLimited) as raised:
        await first.check(caller)
    assert 1 <= raised.value.retry_after <= 60
    await second.check(principal("k2", "4/minute"))  # another key has its own budget
    assert await first.ping()


async def test_several_limits_on_one_key_all_apply(limiters: list[RateLimitService]) -> None:
    service = limiters[0]
    caller = principal("k3", "100/second;2/hour")
    await service.check(caller)
    await service.check(caller)
    with pytest.raises(RateLimited) as raised:
        await service.check(caller)
    assert raised.value.retry_after > 1


async def test_an_unreachable_limiter_lets_requests_through() -> None:
    service = RateLimitService("redis://127.0.0.1:1/0")
    await service.check(principal("k4", "1/minute"))
    await service.check(principal("k4", "1/minute"))
    await service.close()
