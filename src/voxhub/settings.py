"""One typed settings object, grouped by subsystem.

Every setting has one ``VOXHUB_*`` environment variable (listed in ``ENVIRONMENT``) and the
CLI may override any of them. Precedence: CLI flag > environment > default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from limits import parse as parse_rate
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "ENVIRONMENT",
    "AuthSettings",
    "DatabaseSettings",
    "RateLimitSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "StorageSettings",
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


class StorageSettings(_Group):
    data_dir: Path = Path("./voxhub-data")


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


class Settings(_Group):
    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    database: DatabaseSettings = DatabaseSettings()
    auth: AuthSettings = AuthSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()

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
    "VOXHUB_DATA_DIR": ("storage", "data_dir"),
    "VOXHUB_DATABASE_URL": ("database", "url"),
    "VOXHUB_AUTH_CACHE_SECONDS": ("auth", "cache_seconds"),
    "VOXHUB_RATE_LIMIT": ("rate_limit", "default"),
    "VOXHUB_RATE_LIMIT_STORAGE_URL": ("rate_limit", "storage_url"),
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
