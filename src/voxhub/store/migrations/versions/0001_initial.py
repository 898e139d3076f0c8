"""Initial schema: accounts, API keys, voices.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(length=32), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(length=16), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(length=32),
            sa.ForeignKey("accounts.account_id"),
            nullable=False,
        ),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100)),
        sa.Column("rate_limit", sa.String(length=100)),
        sa.Column("read_only", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger()),
    )
    op.create_index("ix_api_keys_account_id", "api_keys", ["account_id"])
    op.create_table(
        "voices",
        sa.Column("voice_id", sa.String(length=32), primary_key=True),
        sa.Column("account_id", sa.String(length=32), sa.ForeignKey("accounts.account_id")),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("engine_voice", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=64), nullable=False),
        sa.Column("gender", sa.String(length=16)),
        sa.Column("locale", sa.String(length=35)),
        sa.Column("support_pause", sa.Boolean(), nullable=False),
        sa.Column("support_locale", sa.Boolean(), nullable=False),
        sa.Column(
            "support_interactive_avatar", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column("preview_key", sa.String(length=500)),
        sa.Column("status", sa.String(length=16)),
        sa.Column("failure_message", sa.Text()),
        sa.Column("created_at", sa.BigInteger()),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IS NULL OR status IN ('processing', 'complete', 'failed')",
            name="ck_voices_status",
        ),
    )
    op.create_index("ix_voices_listing", "voices", ["account_id", "name", "voice_id"])


def downgrade() -> None:
    op.drop_index("ix_voices_listing", table_name="voices")
    op.drop_table("voices")
    op.drop_index("ix_api_keys_account_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("accounts")
