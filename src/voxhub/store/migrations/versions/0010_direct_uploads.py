"""Direct uploads: assets that wait for their bytes, and batches of them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_batches",
        sa.Column("batch_id", sa.String(length=32), primary_key=True),
        sa.Column(
            "account_id", sa.String(length=32), sa.ForeignKey("accounts.account_id"), nullable=False
        ),
        sa.Column("title", sa.String(length=200)),
        sa.Column("total_items", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    with op.batch_alter_table("assets") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="completed")
        )
        batch.add_column(sa.Column("checksum_sha256", sa.String(length=64)))
        batch.add_column(sa.Column("upload_expires_at", sa.BigInteger()))
        batch.add_column(sa.Column("batch_id", sa.String(length=32)))
        batch.add_column(sa.Column("item_index", sa.Integer()))
        batch.add_column(sa.Column("failure_message", sa.Text()))
        batch.create_index("ix_assets_account_created", ["account_id", "created_at"])
        batch.create_index("ix_assets_batch_id", ["batch_id"])
        batch.create_index("ix_assets_upload_expires_at", ["upload_expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.drop_index("ix_assets_upload_expires_at")
        batch.drop_index("ix_assets_batch_id")
        batch.drop_index("ix_assets_account_created")
        for column in (
            "failure_message",
            "item_index",
            "batch_id",
            "upload_expires_at",
            "checksum_sha256",
            "status",
        ):
            batch.drop_column(column)
    op.drop_table("asset_batches")
