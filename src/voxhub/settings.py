"""One typed settings object, grouped by subsystem.

Every setting has one ``VOXHUB_*`` environment variable (listed in ``ENVIRONMENT``) and the
CLI may override any of them. Precedence: CLI flag > environment > default.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from limits import parse as parse_rate
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "ENVIRONMENT",
    "AuthSettings",
    "CloneSettings",
    "DatabaseSettings",
    "MetricsSettings",
    "QueueSettings",
    "RateLimitSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "SpeechSettings",
    "StorageSettings",
    "WebhookSettings",
    "load_settings",
]


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


class _Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServerSettings(_Group):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    log_level: str = "info"
    access_log: bool = True
    # What this process runs: "all" (the embedded default: API processes and job workers in
    # one process tree), "api" (HTTP only: no job leased, no model loaded for jobs).
    role: str = Field(default="all", pattern="^(all|api)$")
    # API processes `voxhub serve` runs on the one port (0: one per core).
    api_processes: int = Field(default=0, ge=0, le=256)
    # The address clients reach this service at, for file links (https://voice.example.com).
    # Empty: the scheme and host of each request.
    public_url: str = ""

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class StorageSettings(_Group):
    data_dir: Path = Path("./voxhub-data")
    # Where audio files live: file:///path (default: <data dir>/files) or s3://bucket/prefix
    # (endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    # AWS_REGION).
    url: str = ""
    # How file links are made: "signed" (voxhub's own signed links, served by voxhub) or
    # "presigned" (S3 only: links the object store serves).
    file_links: str = Field(default="signed", pattern="^(signed|presigned)$")
    # Key for signing file links; empty: one made at the first start, kept in the data dir.
    # Every API process of one service must share it.
    file_secret: str = ""
    # A signed file link stays valid at least this long (rounded up to the hour).
    file_url_ttl_seconds: int = Field(default=86400, ge=60)


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class SpeechSettings(_Group):
    # Worker processes that hold the speech models; each takes one job at a time.
    workers: int = Field(default_factory=_default_workers, ge=1, le=64)
    # Jobs that may wait for a worker; past workers + queue, requests get 429.
    queue: int = Field(default=8, ge=0, le=10000)
    # A job running longer is stopped (its worker replaced) and the request gets a 500.
    timeout_seconds: float = Field(default=900.0, gt=0)
    # Render the public voices' preview clips in the background (once; they are kept).
    render_previews: bool = True
    # Added to speech workers' CPU niceness: API processes (Get Voice) answer first.
    niceness: int = Field(default=5, ge=0, le=19)


class CloneSettings(_Group):
    # Cloned voices an account may have; past it, 400 resource_limit_exceeded.
    voices_per_account: int = Field(default=100, ge=1)
    # A clone still processing this long after it was accepted fails with a message.
    deadline_seconds: int = Field(default=600, ge=30)
    # A clone job whose process died is taken again after this long (workers renew it).
    lease_seconds: float = Field(default=60.0, ge=1.0)
    # Measure the neural base voices at start (once; kept), English before any background job.
    measure_base_voices: bool = True
    # Networks (CIDR, comma-separated) that clone sample URLs may reach although not public,
    # e.g. an internal media server. Empty: public addresses only.
    fetch_allow_networks: str = ""
    # The most a clone's conversion blends toward the speaker's nearest frames (0: statistics
    # only). Higher comes closer to the speaker and costs intelligibility (bench/blend.py).
    frame_blend: float = Field(default=0.6, ge=0.0, le=1.0)
    # Engines a clone may be based on (comma-separated, e.g. ``piper``; empty: any). Speech in
    # a clone runs at its base engine's speed plus the conversion's: Piper-based clones ~5x
    # faster than Kokoro-based ones, which are usually closer to the speaker
    # (bench/clone_speed.py). A language none of them speaks keeps every engine.
    base_engines: str = Field(default="", pattern=r"^\s*([a-z0-9_.-]+\s*(,\s*[a-z0-9_.-]+\s*)*)?$")

    @property
    def base_engine_names(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.base_engines.split(",") if name.strip())

    @field_validator("fetch_allow_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(part, strict=False)
        return value

    @property
    def allowed_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        parts = filter(None, (p.strip() for p in self.fetch_allow_networks.split(",")))
        return [ipaddress.ip_network(p, strict=False) for p in parts]


class QueueSettings(_Group):
    # Where jobs wait: empty means the store itself (SQLite or PostgreSQL: the embedded queue);
    # postgresql://... runs them on procrastinate in that database.
    url: str = ""
    # Job worker processes `voxhub serve` (role all) and `voxhub worker` run.
    workers: int = Field(default=1, ge=1, le=64)
    # Added to job workers' CPU niceness so that API processes answer first.
    worker_niceness: int = Field(default=10, ge=0, le=19)


class WebhookSettings(_Group):
    # Key that seals endpoint secrets in the database; empty: derived from the file secret.
    # Every process must have the same one (a database dump alone cannot sign).
    key: str = ""
    # A delivery attempt with no answer within this long fails (and is tried again).
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Attempts of one delivery; the waits between them double from retry_base_seconds.
    max_attempts: int = Field(default=10, ge=1, le=50)
    retry_base_seconds: float = Field(default=10.0, gt=0)
    # Failed attempts in a row after which an endpoint is disabled (PATCH enables it).
    disable_after: int = Field(default=30, ge=1)
    # After a rotation the old secret signs too, this long.
    secret_grace_seconds: int = Field(default=86400, ge=0)
    # Deliveries a job worker makes at once (network waits, not CPU).
    concurrency: int = Field(default=8, ge=1, le=256)


class DatabaseSettings(_Group):
    # Empty means "SQLite file in the data directory" (the embedded default).
    url: str = ""


class AuthSettings(_Group):
    # How long a verified key stays cached in a process; a revoked key stops working within it.
    cache_seconds: float = Field(default=5.0, ge=0)


class RateLimitSettings(_Group):
    # Per API key, in the `limits` notation ("600/minute", "10/second;1000/hour").
    default: str = "600/minute"
    # memory:// (per process) or a Redis URL (redis://host:port/db) shared by every API process.
    storage_url: str = "memory://"

    @field_validator("default")
    @classmethod
    def _parsable(cls, value: str) -> str:
        parse_rate(value)
        return value


class MetricsSettings(_Group):
    # GET /metrics (Prometheus text, no API key) on the API port; off: nothing is recorded.
    enabled: bool = True
    # A port of their own for the metrics instead (on VOXHUB_HOST); 0: the API port.
    port: int = Field(default=0, ge=0, le=65535)


class Settings(_Group):
    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    database: DatabaseSettings = DatabaseSettings()
    queue: QueueSettings = QueueSettings()
    webhooks: WebhookSettings = WebhookSettings()
    auth: AuthSettings = AuthSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    speech: SpeechSettings = SpeechSettings()
    clone: CloneSettings = CloneSettings()
    metrics: MetricsSettings = MetricsSettings()

    @property
    def model_dir(self) -> Path:
        """Where engines keep models they assemble from their packages."""
        return self.storage.data_dir.resolve() / "models"

    @property
    def files_dir(self) -> Path:
        return self.storage.data_dir.resolve() / "files"

    @property
    def storage_url(self) -> str:
        return self.storage.url or self.files_dir.as_uri()

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.storage.data_dir.resolve() / 'voxhub.db'}"


# Environment variable -> (group, field).
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "VOXHUB_HOST": ("server", "host"),
    "VOXHUB_PORT": ("server", "port"),
    "VOXHUB_LOG_LEVEL": ("server", "log_level"),
    "VOXHUB_ACCESS_LOG": ("server", "access_log"),
    "VOXHUB_PUBLIC_URL": ("server", "public_url"),
    "VOXHUB_ROLE": ("server", "role"),
    "VOXHUB_API_PROCESSES": ("server", "api_processes"),
    "VOXHUB_DATA_DIR": ("storage", "data_dir"),
    "VOXHUB_STORAGE_URL": ("storage", "url"),
    "VOXHUB_FILE_LINKS": ("storage", "file_links"),
    "VOXHUB_FILE_SECRET": ("storage", "file_secret"),
    "VOXHUB_FILE_URL_TTL_SECONDS": ("storage", "file_url_ttl_seconds"),
    "VOXHUB_DATABASE_URL": ("database", "url"),
    "VOXHUB_QUEUE_URL": ("queue", "url"),
    "VOXHUB_JOB_WORKERS": ("queue", "workers"),
    "VOXHUB_WORKER_NICENESS": ("queue", "worker_niceness"),
    "VOXHUB_AUTH_CACHE_SECONDS": ("auth", "cache_seconds"),
    "VOXHUB_RATE_LIMIT": ("rate_limit", "default"),
    "VOXHUB_RATE_LIMIT_STORAGE_URL": ("rate_limit", "storage_url"),
    "VOXHUB_SPEECH_WORKERS": ("speech", "workers"),
    "VOXHUB_SPEECH_QUEUE": ("speech", "queue"),
    "VOXHUB_SPEECH_TIMEOUT_SECONDS": ("speech", "timeout_seconds"),
    "VOXHUB_RENDER_PREVIEWS": ("speech", "render_previews"),
    "VOXHUB_SPEECH_NICENESS": ("speech", "niceness"),
    "VOXHUB_CLONES_PER_ACCOUNT": ("clone", "voices_per_account"),
    "VOXHUB_CLONE_DEADLINE_SECONDS": ("clone", "deadline_seconds"),
    "VOXHUB_MEASURE_BASE_VOICES": ("clone", "measure_base_voices"),
    "VOXHUB_CLONE_LEASE_SECONDS": ("clone", "lease_seconds"),
    "VOXHUB_FETCH_ALLOW_NETWORKS": ("clone", "fetch_allow_networks"),
    "VOXHUB_CLONE_FRAME_BLEND": ("clone", "frame_blend"),
    "VOXHUB_CLONE_BASE_ENGINES": ("clone", "base_engines"),
    "VOXHUB_WEBHOOK_KEY": ("webhooks", "key"),
    "VOXHUB_WEBHOOK_TIMEOUT_SECONDS": ("webhooks", "timeout_seconds"),
    "VOXHUB_WEBHOOK_MAX_ATTEMPTS": ("webhooks", "max_attempts"),
    "VOXHUB_WEBHOOK_RETRY_BASE_SECONDS": ("webhooks", "retry_base_seconds"),
    "VOXHUB_WEBHOOK_DISABLE_AFTER": ("webhooks", "disable_after"),
    "VOXHUB_WEBHOOK_SECRET_GRACE_SECONDS": ("webhooks", "secret_grace_seconds"),
    "VOXHUB_WEBHOOK_CONCURRENCY": ("webhooks", "concurrency"),
    "VOXHUB_METRICS": ("metrics", "enabled"),
    "VOXHUB_METRICS_PORT": ("metrics", "port"),
}
_VARIABLE_OF = {target: name for name, target in ENVIRONMENT.items()}


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from the environment, then apply ``overrides`` keyed ``"group.field"``."""
    env = os.environ if environ is None else environ
    groups: dict[str, dict[str, Any]] = {}
    for variable, (group, field) in ENVIRONMENT.items():
        if variable in env:
            groups.setdefault(group, {})[field] = env[variable]
    for dotted, value in (overrides or {}).items():
        if value is not None:
            group, field = dotted.split(".", 1)
            groups.setdefault(group, {})[field] = value
    try:
        return Settings.model_validate(groups)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        location = tuple(str(part) for part in error["loc"][:2])
        name = _VARIABLE_OF.get((location[0], location[1])) if len(location) == 2 else None
        problems.append(f"{name or '.'.join(location)}: {error['msg']}")
    return "; ".join(problems)
