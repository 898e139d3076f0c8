"""Alembic environment: runs on the connection that ``voxhub.store.migrate`` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from voxhub.store.schema import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through voxhub.store.migrate (voxhub migrate)")
run_migrations(connection)
