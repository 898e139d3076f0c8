"""Design a Voice: what was measured about each voice's audio (pitch, pace, tone), as JSON.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_traits",
        sa.Column(
            "voice_id",
            sa.String(length=32),
            sa.ForeignKey("voices.voice_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("traits", sa.Text(), nullable=False),
        sa.Column("measured_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("voice_traits")
