"""API keys: issue, revoke, verify.

A key reads ``vxk_<key id>_<secret>``. Only the SHA-256 of the secret is stored. A request is
verified by looking the key id up (which reveals nothing about the secret) and comparing the
hashes with ``hmac.compare_digest``. Verified records are cached per process for
``cache_seconds``, so a revoked key stops working within that time on every process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import parse_many

from voxhub.domain import Account, ApiKey, Principal
from voxhub.errors import AuthenticationFailed, InvalidParameter
from voxhub.ids import new_account_id, new_key_id
from voxhub.store import Store

__all__ = ["DEFAULT_ACCOUNT", "IssuedKey", "KeyService", "hash_secret", "split_key"]

KEY_PREFIX = "vxk"
DEFAULT_ACCOUNT = "default"
_MAX_KEY_LENGTH = 128
_CACHE_LIMIT = 100_000  # keys held per process; past it the cache starts over


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    plain: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(presented: str) -> tuple[str, str] | None:
    """``vxk_<id>_<secret>`` -> (id, secret), or None if it is not shaped like our keys."""
    if len(presented) > _MAX_KEY_LENGTH:
        return None
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or len(key_id) != 16 or not secret:
        return None
    return key_id, secret


class KeyService:
    def __init__(
        self,
        store: Store,
        *,
        default_rate_limit: str,
        cache_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._default_rate_limit = default_rate_limit
        self._clock = clock
        self._cache_seconds = cache_seconds
        # key id -> (record, expires at). A plain dict: this is on every request's path.
        self._cache: dict[str, tuple[ApiKey, float]] = {}

    @property
    def store(self) -> Store:
        return self._store

    async def create(
        self,
        account_name: str,
        *,
        name: str | None = None,
        rate_limit: str | None = None,
        read_only: bool = False,
    ) -> IssuedKey:
        account_name = account_name.strip()
        if not 1 <= len(account_name) <= 100:
            raise InvalidParameter("Account names are 1 to 100 characters.", param="account")
        if rate_limit is not None:
            _check_rate_limit(rate_limit)
        now = int(self._clock())
        account = await self._store.get_or_create_account(
            Account(account_id=new_account_id(), name=account_name, created_at=now)
        )
        secret = secrets.token_urlsafe(32)
        key = ApiKey(
            key_id=new_key_id(),
            account_id=account.account_id,
            secret_hash=hash_secret(secret),
            name=name,
            rate_limit=rate_limit,
            read_only=read_only,
            created_at=now,
        )
        await self._store.insert_api_key(key)
        return IssuedKey(key=key, plain=f"{KEY_PREFIX}_{key.key_id}_{secret}")

    async def create_first_key(self) -> IssuedKey | None:
        """A key for the default account when no active key exists (a first start)."""
        if await self._store.count_active_api_keys() > 0:
            return None
        return await self.create(DEFAULT_ACCOUNT, name="created at first start")

    async def revoke(self, key_or_id: str) -> bool:
        parts = split_key(key_or_id)
        key_id = parts[0] if parts else key_or_id
        revoked = await self._store.revoke_api_key(key_id, int(self._clock()))
        self._cache.pop(key_id, None)
        return revoked

    async def list(self) -> list[ApiKey]:
        return await self._store.list_api_keys()

    async def authenticate(self, presented: str | None) -> Principal:
        parts = split_key(presented) if presented else None
        if parts is None:
            raise AuthenticationFailed()
        key_id, secret = parts
        key = await self._lookup(key_id)
        if key is None or key.revoked_at is not None:
            raise AuthenticationFailed()
        if not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
            raise AuthenticationFailed()
        return Principal(
            account_id=key.account_id,
            key_id=key.key_id,
            rate_limit=key.rate_limit or self._default_rate_limit,
            read_only=key.read_only,
        )

    async def _lookup(self, key_id: str) -> ApiKey | None:
        now = self._clock()
        cached = self._cache.get(key_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        key = await self._store.get_api_key(key_id)
        if key is not None and self._cache_seconds > 0:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key_id] = (key, now + self._cache_seconds)
        return key


def _check_rate_limit(value: str) -> None:
    try:
        parse_many(value)
    except ValueError as exc:
        raise InvalidParameter(
            f"{value!r} is not a rate such as '600/minute' or '10/second;1000/hour'.",
            param="rate_limit",
        ) from exc
