"""PostgreSQL: notify listeners of every change to a voice (Get Voice's read cache).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHANNEL = "voxhub_voices"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite readers use PRAGMA data_version instead
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION voxhub_notify_voice_change() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', COALESCE(NEW.voice_id, OLD.voice_id));
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER voices_notify_change AFTER INSERT OR UPDATE OR DELETE ON voices "
        "FOR EACH ROW EXECUTE FUNCTION voxhub_notify_voice_change()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS voices_notify_change ON voices")
    op.execute("DROP FUNCTION IF EXISTS voxhub_notify_voice_change()")
