"""Jobs: durable work about a voice (clone processing), leased by workers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(length=32), primary_key=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "voice_id",
            sa.String(length=32),
            sa.ForeignKey("voices.voice_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "account_id",
            sa.String(length=32),
            sa.ForeignKey("accounts.account_id"),
            nullable=False,
        ),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64)),
        sa.Column("lease_until", sa.BigInteger()),
        sa.Column("last_error", sa.Text()),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name="ck_jobs_state"
        ),
    )
    op.create_index("ix_jobs_ready", "jobs", ["state", "created_at"])
    op.create_index("ix_jobs_voice_id", "jobs", ["voice_id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_voice_id", table_name="jobs")
    op.drop_index("ix_jobs_ready", table_name="jobs")
    op.drop_table("jobs")
