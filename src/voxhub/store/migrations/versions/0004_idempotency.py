"""Idempotency keys: the first answer to a request, replayed to its repeats for 24 hours.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency",
        sa.Column(
            "account_id",
            sa.String(length=32),
            sa.ForeignKey("accounts.account_id"),
            primary_key=True,
        ),
        sa.Column("endpoint", sa.String(length=100), primary_key=True),
        sa.Column("idempotency_key", sa.String(length=255), primary_key=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer()),
        sa.Column("body", sa.Text()),
    )


def downgrade() -> None:
    op.drop_table("idempotency")
