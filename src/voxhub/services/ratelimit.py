"""Per-key rate limits with the `limits` library: in process memory, or Redis when shared.

The algorithm is the library's fixed window: a key's window starts at its first request and
``Retry-After`` is exactly the time until the window renews. Across a window's end a client
can send up to twice the rate in a short span; the sliding-window counter avoids that, but
measured at about twice the cost per request on Get Voice (README, "Design"), and one counter
per key is the cheapest check on both backends. In memory the library's synchronous limiter
is used: it does no I/O, and its asyncio twin costs several times more per request.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from typing import Any

from limits import RateLimitItem, parse_many
from limits import strategies as sync_strategies
from limits.aio import strategies as async_strategies
from limits.aio.storage import Storage as AsyncStorage
from limits.storage import MemoryStorage, storage_from_string

from voxhub.domain import Principal
from voxhub.errors import RateLimited

__all__ = ["RateLimitService", "limits_storage_url"]

log = logging.getLogger(__name__)


def limits_storage_url(url: str) -> str:
    """Our setting (``memory://`` or ``redis://...``) as the async URI `limits` expects."""
    scheme = url.split("://", 1)[0]
    if scheme in ("memory", "redis", "rediss", "redis+sentinel", "redis+cluster"):
        return f"async+{url}"
    return url


@functools.lru_cache(maxsize=256)
def _parse(rate: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(rate))


class RateLimitService:
    def __init__(self, storage_url: str) -> None:
        self._redis_pool: Any = None
        self._memory: sync_strategies.FixedWindowRateLimiter | None = None
        self._shared: async_strategies.FixedWindowRateLimiter | None = None
        if storage_url.split("://", 1)[0] == "memory":
            self._memory = sync_strategies.FixedWindowRateLimiter(MemoryStorage())
            return
        options: dict[str, Any] = {}
        if storage_url.startswith("redis"):
            import redis.asyncio  # the [redis] extra

            # Our own pool, so that close() can release it, with short timeouts so that a
            # Redis outage costs a request a second at most.
            self._redis_pool = redis.asyncio.ConnectionPool.from_url(
                storage_url, socket_connect_timeout=1, socket_timeout=1
            )
            options = {"implementation": "redispy", "connection_pool": self._redis_pool}
        storage = storage_from_string(limits_storage_url(storage_url), **options)
        if not isinstance(storage, AsyncStorage):
            raise ValueError(f"{storage_url!r} is not a rate-limit storage voxhub can share")
        self._shared = async_strategies.FixedWindowRateLimiter(storage)

    async def check(self, principal: Principal) -> None:
        """Count one request against the key's rate; raise RateLimited past it."""
        for item in _parse(principal.rate_limit):
            if self._memory is not None:
                if not self._memory.hit(item, "key", principal.key_id):
                    stats = self._memory.get_window_stats(item, "key", principal.key_id)
                    raise RateLimited(retry_after=math.ceil(stats.reset_time - time.time()))
                continue
            assert self._shared is not None
            try:
                allowed = await self._shared.hit(item, "key", principal.key_id)
            except Exception:  # the shared backend is down: serve rather than fail
                log.warning("rate limiter unavailable; request not counted", exc_info=True)
                return
            if not allowed:
                stats = await self._shared.get_window_stats(item, "key", principal.key_id)
                raise RateLimited(retry_after=math.ceil(stats.reset_time - time.time()))

    async def ping(self) -> bool:
        if self._shared is None:
            return True
        return bool(await self._shared.storage.check())

    async def close(self) -> None:
        if self._redis_pool is not None:
            await self._redis_pool.aclose()
