from __future__ import annotations

import pytest

from voxhub.errors import AuthenticationFailed, InvalidParameter
from voxhub.services.keys import KeyService, hash_secret, split_key
from voxhub.store import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys(clock: Clock) -> KeyService:
    return KeyService(MemoryStore(), default_rate_limit="60/minute", cache_seconds=5, clock=clock)


@pytest.mark.anyio
async def test_only_the_hash_of_the_secret_is_stored(keys: KeyService) -> None:
    issued = await keys.create("acme")
    stored = (await keys.list())[0]
    _, secret = split_key(issued.plain) or ("", "")
    assert secret
    assert secret not in repr(stored)
    assert stored.secret_hash == hash_secret(secret)


@pytest.mark.anyio
async def test_authenticate_returns_the_account_and_its_rate(keys: KeyService) -> None:
    issued = await keys.create("acme", rate_limit="5/second")
    principal = await keys.authenticate(issued.plain)
    assert principal.account_id == issued.key.account_id
    assert principal.rate_limit == "5/second"
    default = await keys.authenticate((await keys.create("acme")).plain)
    assert default.rate_limit == "60/minute"
    assert default.account_id == principal.account_id  # same account name, same account


@pytest.mark.anyio
@pytest.mark.parametrize("presented", [None, "", "vxk_", "vxk_short_x", "abc_0123456789abcdef_x"])
async def test_malformed_keys_fail(keys: KeyService, presented: str | None) -> None:
    with pytest.raises(AuthenticationFailed):
        await keys.authenticate(presented)


@pytest.mark.anyio
async def test_revocation_is_seen_by_another_process_within_the_cache_time(
    clock: Clock,
) -> None:
    store = MemoryStore()
    this = KeyService(store, default_rate_limit="1/second", cache_seconds=5, clock=clock)
    other = KeyService(store, default_rate_limit="1/second", cache_seconds=5, clock=clock)
    issued = await this.create("acme")
    await other.authenticate(issued.plain)  # now cached in "other"
    assert await this.revoke(issued.key.key_id)
    with pytest.raises(AuthenticationFailed):
        await this.authenticate(issued.plain)  # the revoking process forgets at once
    await other.authenticate(issued.plain)  # still cached there
    clock.now += 5.1
    with pytest.raises(AuthenticationFailed):
        await other.authenticate(issued.plain)


@pytest.mark.anyio
async def test_revoke_accepts_the_whole_key_and_is_false_the_second_time(keys: KeyService) -> None:
    issued = await keys.create("acme")
    assert await keys.revoke(issued.plain) is True
    assert await keys.revoke(issued.plain) is False


@pytest.mark.anyio
async def test_first_key_only_when_no_active_key(keys: KeyService) -> None:
    first = await keys.create_first_key()
    assert first is not None
    assert await keys.create_first_key() is None
    await keys.revoke(first.plain)
    assert await keys.create_first_key() is not None


@pytest.mark.anyio
@pytest.mark.parametrize(("account", "rate"), [("", None), ("x" * 101, None), ("ok", "fast")])
async def test_bad_create_arguments(keys: KeyService, account: str, rate: str | None) -> None:
    with pytest.raises(InvalidParameter):
        await keys.create(account, rate_limit=rate)
