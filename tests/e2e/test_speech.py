"""voxhub serve speaking: workers replaced when killed, 429 when full, previews made once."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from tests.e2e.conftest import Served
from tests.e2e.test_cli import Serve
from voxhub.ids import public_voice_id

JOE = public_voice_id("piper", "en_US-joe-medium")
LONG = " ".join(["This sentence is one of many that keep the only worker busy for a while."] * 20)


def _processes() -> dict[int, tuple[int, bytes]]:
    """Every process: its parent and command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        found[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmdline)
    return found


def worker_pids(server_pid: int, marker: bytes = b"spawn_main") -> list[int]:
    """The pool workers under the server, at any depth (speech workers are its children;
    the job worker's are its grandchildren): processes started by multiprocessing's spawn."""
    processes = _processes()
    below = {server_pid}
    grew = True
    while grew:
        more = {pid for pid, (parent, _) in processes.items() if parent in below} - below
        below |= more
        grew = bool(more)
    return sorted(pid for pid in below - {server_pid} if marker in processes[pid][1])


def speak(served: Served, key: str, text: str) -> httpx.Response:
    return httpx.post(
        f"{served.base_url}/v3/voices/speech",
        json={"text": text, "voice_id": JOE},
        headers={"x-api-key": key},
        timeout=120,
    )


def test_a_killed_worker_fails_its_request_once_and_is_replaced(
    serve: Serve, tmp_path: Path
) -> None:
    env = {
        "VOXHUB_SPEECH_WORKERS": "1",
        "VOXHUB_SPEECH_QUEUE": "0",
        "VOXHUB_RENDER_PREVIEWS": "false",
        "VOXHUB_MEASURE_BASE_VOICES": "false",
    }
    served = serve("--data-dir", str(tmp_path), env=env)
    key = served.first_key
    assert key is not None
    # Design a Voice embeds the catalog's phrases in the speech worker (in the background after
    # a quiet moment, or for the first design request, which embeds every phrase it ranks):
    # after this request the worker has nothing of that left to do.
    httpx.post(
        f"{served.base_url}/v3/voices",
        json={"prompt": "a calm voice"},
        headers={"x-api-key": key},
        timeout=300,
    )
    assert speak(served, key, "Warming up.").status_code == 200  # the model is loaded
    (worker,) = worker_pids(served.process.pid)

    result: dict[str, Any] = {}
    busy = threading.Thread(target=lambda: result.update(response=speak(served, key, LONG)))
    busy.start()
    time.sleep(1.0)
    refused = speak(served, key, "One more, please.")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"

    os.kill(worker, signal.SIGKILL)
    busy.join(timeout=60)
    failed = result["response"]
    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "internal_error"

    again = speak(served, key, "The pool has a new worker.")
    assert again.status_code == 200
    assert worker_pids(served.process.pid) != [worker]
    assert served.process.poll() is None


def first_rendered_preview(served: Served, headers: dict[str, str]) -> tuple[str, str]:
    """(voice id, preview URL) of the first public voice whose preview is rendered: which one
    comes first is the job worker's order, and waiting for one voice in particular waited
    behind most of the catalog."""
    deadline = time.monotonic() + 300  # the first neural voices assemble their models first
    while True:
        token = ""
        while True:
            listing = httpx.get(
                f"{served.base_url}/v3/voices?type=public&limit=100&token={token}",
                headers=headers,
            ).json()
            for voice in listing["data"]:
                if voice["preview_audio_url"]:
                    return voice["voice_id"], voice["preview_audio_url"]
            token = listing["next_token"]
            if not token:
                break
        assert time.monotonic() < deadline, "no preview was ever rendered"
        time.sleep(0.5)


def test_public_previews_are_rendered_once_and_kept(serve: Serve, tmp_path: Path) -> None:
    # base voices not measured first: previews wait for that (tests/unit/test_job_worker.py)
    served = serve("--data-dir", str(tmp_path), env={"VOXHUB_MEASURE_BASE_VOICES": "false"})
    key = served.first_key
    assert key is not None
    headers = {"x-api-key": key}
    voice_id, preview = first_rendered_preview(served, headers)
    path = f"/v3/voices/{voice_id}"
    assert httpx.get(served.base_url + path, headers=headers).json()["data"]["preview_audio_url"]
    audio = httpx.get(preview, timeout=10)
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/mpeg"
    served.stop()

    restarted = serve("--data-dir", str(tmp_path), env={"VOXHUB_RENDER_PREVIEWS": "false"})
    again = httpx.get(restarted.base_url + path, headers=headers).json()["data"][
        "preview_audio_url"
    ]
    assert again is not None
    assert httpx.get(again, timeout=10).content == audio.content
    assert restarted.process.poll() is None
