"""Schema migrations with Alembic, applied at start (``voxhub serve``) or by ``voxhub migrate``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, text

__all__ = ["alembic_config", "sqlalchemy_url", "upgrade"]

# Many API processes may start at once on PostgreSQL: one migrates, the others wait.
_MIGRATION_LOCK_ID = 0x766F78687562  # "voxhub"


def sqlalchemy_url(url: str) -> str:
    """Our database URL as SQLAlchemy wants it (psycopg 3 for PostgreSQL)."""
    scheme, _, rest = url.partition("://")
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return url


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(sqlalchemy_url(url))


def upgrade(url: str, revision: str = "head") -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
            command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()
