"""A cloned voice's profile: the transform of its base voice, as JSON.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voices") as batch:
        batch.add_column(sa.Column("profile", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("voices") as batch:
        batch.drop_column("profile")
