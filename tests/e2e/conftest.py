"""e2e fixtures: the installed ``voxhub`` command, run as a user runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest

VOXHUB = str(Path(sys.executable).parent / "voxhub")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VOXHUB, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


@dataclass
class Served:
    process: subprocess.Popen[str]
    base_url: str
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    pumps: list[threading.Thread] = field(default_factory=list)

    @property
    def first_key(self) -> str | None:
        return next((line for line in self.stdout if line.startswith("vxk_")), None)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        for pump in self.pumps:
            pump.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def _pump(stream: object, into: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.append(line.rstrip("\n"))


def start_server(
    *args: str, env: dict[str, str] | None = None, new_session: bool = False
) -> Served:
    port = free_port()
    process = subprocess.Popen(
        [VOXHUB, "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # one API process: its speech workers are the server's own children (the tests kill
        # them); several API processes are tried by the CLI tests
        env={
            **os.environ,
            "VOXHUB_AUTH_CACHE_SECONDS": "0",
            "VOXHUB_API_PROCESSES": "1",
            **(env or {}),
        },
        start_new_session=new_session,
    )
    served = Served(process, f"http://127.0.0.1:{port}")
    for stream, into in ((process.stdout, served.stdout), (process.stderr, served.stderr)):
        pump = threading.Thread(target=_pump, args=(stream, into), daemon=True)
        pump.start()
        served.pumps.append(pump)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            served.stop()
            raise AssertionError(f"voxhub serve exited: {served.stderr[-20:]}")
        try:
            if httpx.get(served.base_url + "/readyz", timeout=1).status_code == 200:
                return served
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    served.stop()
    raise AssertionError("voxhub serve did not become ready")


@pytest.fixture
def serve() -> Iterator[type[Served]]:
    started: list[Served] = []

    def launch(*args: str, env: dict[str, str] | None = None) -> Served:
        served = start_server(*args, env=env)
        started.append(served)
        return served

    yield launch  # type: ignore[misc]
    for served in started:
        served.stop()
