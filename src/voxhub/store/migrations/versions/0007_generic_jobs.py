"""Jobs of any kind: a job names its subject (not necessarily a voice), has a priority, and may
be handed to a task engine (``dispatched``).

The table is rebuilt (SQLite cannot drop the old foreign key to voices in place) and its rows
copied; a clone's jobs are still removed with the clone by the store.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_STATES = "state IN ('queued', 'dispatched', 'running', 'done', 'failed')"


def upgrade() -> None:
    op.drop_index("ix_jobs_voice_id", table_name="jobs")
    op.drop_index("ix_jobs_ready", table_name="jobs")
    op.rename_table("jobs", "jobs_0005")
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(length=32), primary_key=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64)),
        sa.Column("account_id", sa.String(length=32)),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64)),
        sa.Column("lease_until", sa.BigInteger()),
        sa.Column("last_error", sa.Text()),
        sa.CheckConstraint(_STATES, name="ck_jobs_kind_state"),
    )
    op.execute(
        "INSERT INTO jobs (job_id, kind, subject_id, account_id, payload, created_at, priority,"
        " state, attempts, lease_owner, lease_until, last_error)"
        " SELECT job_id, kind, voice_id, account_id, payload, created_at, 10, state, attempts,"
        " lease_owner, lease_until, last_error FROM jobs_0005"
    )
    op.drop_table("jobs_0005")
    op.create_index("ix_jobs_ready", "jobs", ["state", "priority", "created_at"])
    op.create_index("ix_jobs_subject_id", "jobs", ["subject_id"])


def downgrade() -> None:
    """Back to clone jobs only: other jobs (previews) are dropped, being background work that
    is enqueued again at the next start."""
    op.drop_index("ix_jobs_subject_id", table_name="jobs")
    op.drop_index("ix_jobs_ready", table_name="jobs")
    op.rename_table("jobs", "jobs_0007")
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
    op.execute(
        "INSERT INTO jobs (job_id, kind, voice_id, account_id, payload, created_at, state,"
        " attempts, lease_owner, lease_until, last_error)"
        " SELECT job_id, kind, subject_id, account_id, payload, created_at,"
        " CASE WHEN state = 'dispatched' THEN 'queued' ELSE state END, attempts, lease_owner,"
        " lease_until, last_error FROM jobs_0007 WHERE kind = 'clone'"
        " AND subject_id IN (SELECT voice_id FROM voices)"
    )
    op.drop_table("jobs_0007")
    op.create_index("ix_jobs_ready", "jobs", ["state", "created_at"])
    op.create_index("ix_jobs_voice_id", "jobs", ["voice_id"])
