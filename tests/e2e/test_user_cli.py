"""The user commands as a person runs them, in subprocesses, against one live `voxhub serve`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.audio_fixtures import decoded_seconds, wav_bytes
from tests.e2e.conftest import Served, free_port, run_cli, start_server
from voxhub.ids import public_voice_id

ESPEAK_EN = public_voice_id("espeak", "gmw/en-US")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env = {"VOXHUB_RENDER_PREVIEWS": "false", "VOXHUB_MEASURE_BASE_VOICES": "false"}
    made = start_server("--data-dir", str(tmp_path_factory.mktemp("cli-data")), env=env)
    yield made
    made.stop()


@pytest.fixture
def env(served: Served) -> dict[str, str]:
    return {"VOXHUB_URL": served.base_url, "VOXHUB_API_KEY": served.first_key or ""}


def test_voices_list_and_get(env: dict[str, str]) -> None:
    listed = run_cli("voices", "list", "--language", "English", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    voices = json.loads(listed.stdout)
    assert "English (America)" in [voice["name"] for voice in voices]
    assert {voice["language"] for voice in voices} == {"English"}
    table = run_cli("voices", "list", "--language", "English", env=env)
    assert "English (America)" in table.stdout
    assert f"{len(voices)} voices" in table.stderr

    shown = run_cli("voices", "get", ESPEAK_EN, "--json", env=env)
    assert json.loads(shown.stdout)["name"] == "English (America)"
    missing = run_cli("voices", "get", "0" * 32, env=env)
    assert missing.returncode == 4
    assert "voice_not_found" in missing.stderr


def test_speak_by_voice_name_into_a_file(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "hello.mp3"
    spoken = run_cli(
        "speak", "--voice", "English (America)", "Hello from the command line.", "-o", str(out),
        "--json", env=env,
    )  # fmt: skip
    assert spoken.returncode == 0, spoken.stderr
    answer = json.loads(spoken.stdout)
    assert answer["file"] == str(out)
    assert abs(decoded_seconds(out.read_bytes()) - answer["duration"]) < 0.06
    assert [w["word"] for w in answer["word_timestamps"]][:2] == ["Hello", "from"]


def test_clone_wait_ends_with_exit_1_and_the_servers_failure_message(
    env: dict[str, str], tmp_path: Path
) -> None:
    silence = tmp_path / "silence.wav"
    silence.write_bytes(wav_bytes(np.zeros(16000 * 4, np.float32), 16000))
    cloned = run_cli("clone", str(silence), "--name", "Quiet", "--wait", "--json", env=env)
    assert cloned.returncode == 1, cloned.stderr
    voice = json.loads(cloned.stdout)
    assert voice["status"] == "failed"
    assert voice["failure_message"]
    assert voice["failure_message"] in cloned.stderr


def test_exit_codes_for_a_wrong_key_and_no_server(env: dict[str, str]) -> None:
    wrong = run_cli("voices", "list", "--api-key", "vxk_0000000000000000_nope", env=env)
    assert wrong.returncode == 3
    assert "authentication_failed" in wrong.stderr
    gone = {**env, "VOXHUB_URL": f"http://127.0.0.1:{free_port()}"}
    unreachable = run_cli("voices", "get", ESPEAK_EN, "--json", env=gone)
    assert unreachable.returncode == 7
    assert json.loads(unreachable.stdout)["error"]["code"] == "TransportError"


def test_help_lists_the_user_commands_beside_the_admin_ones() -> None:
    shown = run_cli("--help")
    assert shown.returncode == 0
    for command in ("serve", "keys", "voices", "clone", "speak", "design"):
        assert command in shown.stdout
    assert "--wait" in run_cli("clone", "--help").stdout
