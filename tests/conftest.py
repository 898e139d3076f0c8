"""Fixtures shared by every layer of the suite: real services, fresh databases, factories."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from voxhub.domain import Voice
from voxhub.ids import new_voice_id

CI = os.environ.get("CI") == "true"
DATA = Path(__file__).parent / "data"
POSTGRES_URL = os.environ.get(
    "VOXHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("VOXHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def unavailable(service: str, error: BaseException) -> NoReturn:
    """A backing service is down: fail under CI (CI=true), skip on a developer's machine."""
    message = f"{service} is not reachable: {error}"
    if CI:
        pytest.fail(f"{message} (required when CI=true)")
    pytest.skip(message)


def _with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


# Every table of voxhub's schema, emptied together (foreign keys allow nothing less).
EMPTY_VOXHUB_TABLES = (
    "TRUNCATE webhook_deliveries, webhook_events, webhook_endpoints, jobs, idempotency,"
    " assets, asset_batches, voice_traits, voices, api_keys, accounts"
)


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped on exit."""
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL", exc)
    name = f"voxhub_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session; dropped at the end."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def migrated_postgres(postgres_database: str) -> str:
    from voxhub.store.migrate import upgrade

    upgrade(postgres_database)
    return postgres_database


@pytest.fixture
def postgres_url(migrated_postgres: str) -> str:
    """The session's migrated PostgreSQL database, emptied before the test."""
    import psycopg

    with psycopg.connect(migrated_postgres, autocommit=True) as conn:
        conn.execute(EMPTY_VOXHUB_TABLES)
    return migrated_postgres


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    finally:
        client.close()
    return REDIS_URL


def private_voice(account_id: str, **fields: Any) -> Voice:
    """A clone record as the cloning workflow writes it (defaults: processing)."""
    values: dict[str, Any] = {
        "voice_id": new_voice_id(),
        "account_id": account_id,
        "engine": "espeak",
        "engine_voice": "gmw/en-US",
        "name": "My clone",
        "language": "English",
        "gender": None,
        "locale": "en-US",
        "support_pause": True,
        "support_locale": False,
        "status": "processing",
        "created_at": int(time.time()),
    }
    values.update(fields)
    return Voice(**values)
