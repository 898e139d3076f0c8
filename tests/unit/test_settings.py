from __future__ import annotations

from pathlib import Path

import pytest

from voxhub.settings import ENVIRONMENT, SettingsError, load_settings


def test_defaults_are_the_embedded_service() -> None:
    settings = load_settings(environ={})
    assert settings.server.host == "127.0.0.1"
    assert settings.server.port == 8000
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("voxhub-data/voxhub.db")
    assert settings.rate_limit.storage_url == "memory://"


def test_environment_variables_fill_their_groups(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "VOXHUB_PORT": "9001",
            "VOXHUB_DATA_DIR": str(tmp_path),
            "VOXHUB_RATE_LIMIT": "5/second",
            "VOXHUB_AUTH_CACHE_SECONDS": "0",
        }
    )
    assert settings.server.port == 9001
    assert settings.storage.data_dir == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path.resolve()}/voxhub.db"
    assert settings.rate_limit.default == "5/second"
    assert settings.auth.cache_seconds == 0


def test_cli_overrides_beat_the_environment() -> None:
    settings = load_settings(
        environ={"VOXHUB_PORT": "9001", "VOXHUB_HOST": "0.0.0.0"},
        overrides={"server.port": 9002, "server.host": None},
    )
    assert settings.server.port == 9002
    assert settings.server.host == "0.0.0.0"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("VOXHUB_PORT", "eighty"), ("VOXHUB_PORT", "70000"), ("VOXHUB_RATE_LIMIT", "lots")],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(environ={variable: value})


def test_every_variable_maps_to_a_real_setting() -> None:
    settings = load_settings(environ={})
    for group, field in ENVIRONMENT.values():
        assert hasattr(getattr(settings, group), field)
