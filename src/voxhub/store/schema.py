"""The database schema as SQLAlchemy metadata.

This is the model the migrations must produce: a test applies every migration to a fresh
SQLite and PostgreSQL database and asserts that Alembic finds no difference from it.
Runtime queries do not go through SQLAlchemy; they are the named SQL in ``queries.sql``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

__all__ = [
    "accounts",
    "api_keys",
    "asset_batches",
    "assets",
    "idempotency",
    "jobs",
    "metadata",
    "voice_traits",
    "voices",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_events",
]

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("account_id", String(32), ForeignKey("accounts.account_id"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("name", String(100)),
    Column("rate_limit", String(100)),
    Column("read_only", Boolean, nullable=False, server_default=false()),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
    Index("ix_api_keys_account_id", "account_id"),
)

voices = Table(
    "voices",
    metadata,
    Column("voice_id", String(32), primary_key=True),
    Column("account_id", String(32), ForeignKey("accounts.account_id")),
    Column("engine", String(32), nullable=False),
    Column("engine_voice", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("language", String(64), nullable=False),
    Column("gender", String(16)),
    Column("locale", String(35)),
    Column("support_pause", Boolean, nullable=False),
    Column("support_locale", Boolean, nullable=False),
    Column("support_interactive_avatar", Boolean, nullable=False, server_default=false()),
    Column("preview_key", String(500)),
    Column("status", String(16)),
    Column("failure_message", Text),
    Column("created_at", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
    Column("profile", Text),
    CheckConstraint(
        "status IS NULL OR status IN ('processing', 'complete', 'failed')",
        name="ck_voices_status",
    ),
    Index("ix_voices_listing", "account_id", "name", "voice_id"),
)

assets = Table(
    "assets",
    metadata,
    Column("asset_id", String(32), primary_key=True),
    Column("account_id", String(32), ForeignKey("accounts.account_id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("storage_key", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, server_default="completed"),
    Column("checksum_sha256", String(64)),
    Column("upload_expires_at", BigInteger),
    Column("batch_id", String(32)),
    Column("item_index", Integer),
    Column("failure_message", Text),
    Index("ix_assets_account_id", "account_id"),
    Index("ix_assets_account_created", "account_id", "created_at"),
    Index("ix_assets_batch_id", "batch_id"),
    Index("ix_assets_upload_expires_at", "upload_expires_at"),
)

asset_batches = Table(
    "asset_batches",
    metadata,
    Column("batch_id", String(32), primary_key=True),
    Column("account_id", String(32), ForeignKey("accounts.account_id"), nullable=False),
    Column("title", String(200)),
    Column("total_items", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("account_id", String(32), ForeignKey("accounts.account_id"), primary_key=True),
    Column("endpoint", String(100), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Column("status", Integer),
    Column("body", Text),
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("subject_id", String(64)),
    Column("account_id", String(32)),
    Column("payload", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", BigInteger),
    Column("last_error", Text),
    CheckConstraint(
        "state IN ('queued', 'dispatched', 'running', 'done', 'failed')",
        name="ck_jobs_kind_state",
    ),
    Index("ix_jobs_ready", "state", "priority", "created_at"),
    Index("ix_jobs_subject_id", "subject_id"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("endpoint_id", String(32), primary_key=True),
    Column("account_id", String(32), ForeignKey("accounts.account_id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", Text),  # JSON list; NULL: every event
    Column("status", String(16), nullable=False),
    Column("secret", Text, nullable=False),  # sealed (services/secrets.py)
    Column("previous_secret", Text),  # sealed; signs too until previous_secret_until
    Column("previous_secret_until", BigInteger),
    Column("failures", Integer, nullable=False),  # failed attempts in a row
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    CheckConstraint("status IN ('enabled', 'disabled')", name="ck_webhook_endpoints_status"),
    Index("ix_webhook_endpoints_account", "account_id", "created_at"),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("event_id", String(32), primary_key=True),
    Column("account_id", String(32), ForeignKey("accounts.account_id"), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("entity_id", String(64)),
    Column("payload", Text, nullable=False),  # the body every delivery POSTs
    Column("created_at", BigInteger, nullable=False),
    Index("ix_webhook_events_account", "account_id", "created_at"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(32), primary_key=True),
    Column("event_id", String(32), nullable=False),
    Column("endpoint_id", String(32), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("response_prefix", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    CheckConstraint(
        "state IN ('pending', 'delivered', 'failed')", name="ck_webhook_deliveries_state"
    ),
    Index("ix_webhook_deliveries_event", "event_id"),
)

# Design a Voice: the traits measured from a voice's preview (JSON), gone with the voice.
voice_traits = Table(
    "voice_traits",
    metadata,
    Column(
        "voice_id", String(32), ForeignKey("voices.voice_id", ondelete="CASCADE"), primary_key=True
    ),
    Column("traits", Text, nullable=False),
    Column("measured_at", BigInteger, nullable=False),
)
