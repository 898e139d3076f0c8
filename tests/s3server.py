"""A real S3 protocol server for tests: moto's server mode, in a process of its own.

``running_s3_server()`` starts ``python -m moto.server`` on a free loopback port, waits until
it answers, makes a bucket and yields an :class:`S3Server`. A separate process behaves like
a real object store (its own state, its own HTTP stack, reachable from other processes), and
nothing in this process is patched.

Fixtures (import them into a test module: ``from tests.s3server import s3_server,
s3_storage_url  # noqa: F401``):

- ``s3_server`` (session): one server for the whole run; use ``.environment`` for the
  ``AWS_*`` variables of subprocesses and ``.new_bucket()`` for an empty bucket.
- ``s3_storage_url`` (function): ``s3://<fresh bucket>``, with the ``AWS_*`` variables set in
  this process (monkeypatch) for the test.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable

__all__ = ["S3Server", "running_s3_server", "s3_server", "s3_storage_url"]

ACCESS_KEY_ID = "test"
SECRET_ACCESS_KEY = "test"  # moto accepts any credentials
REGION = "us-east-1"
_START_SECONDS = 30.0
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Server:
    endpoint_url: str  # http://127.0.0.1:PORT
    bucket: str  # made at start, empty
    _client: Any = field(default=None, repr=False)

    @property
    def environment(self) -> dict[str, str]:
        """The variables voxhub's S3 storage (boto3) reads: for os.environ or a subprocess."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_REGION": REGION,
        }

    @property
    def storage_url(self) -> str:
        """``s3://<bucket>``: the bucket made at start (shared by whoever uses this server)."""
        return f"s3://{self.bucket}"

    def client(self) -> Any:
        """A boto3 client for this server, configured explicitly (not from the environment)."""
        if self._client is None:
            import boto3

            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint_url,
                aws_access_key_id=ACCESS_KEY_ID,
                aws_secret_access_key=SECRET_ACCESS_KEY,
                region_name=REGION,
            )
        return self._client

    def new_bucket(self, name: str | None = None) -> str:
        """Make an empty bucket (a fresh random name unless given) and return its name."""
        bucket = name or f"voxhub-test-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=bucket)
        return bucket


def _wait_until_answering(process: subprocess.Popen[bytes], endpoint: str, log: Path) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"moto server exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            with _DIRECT.open(f"{endpoint}/", timeout=1):  # S3 ListBuckets
                return
        except urllib.error.HTTPError:
            return  # it answers HTTP: up
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"moto server did not answer within {_START_SECONDS:.0f} s: "
                    f"{log.read_text()[-2000:]}"
                ) from None
            time.sleep(0.1)


def _start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    for attempt in range(3):  # a free port can be taken between the probe and the bind
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        try:
            _wait_until_answering(process, endpoint, log)
        except BaseException as exc:
            _stop(process)
            if attempt == 2 or not isinstance(exc, RuntimeError):
                raise
        else:
            return process, endpoint
    raise AssertionError("unreachable")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_s3_server() -> Iterator[S3Server]:
    """A moto S3 server in a subprocess on a free loopback port, stopped on exit.

    Usable outside pytest too (a benchmark, a session fixture of another test module).
    """
    with tempfile.TemporaryDirectory(prefix="voxhub-moto-") as tmp:
        # No AWS_* variables of ours (nor a developer's profile) leak into the server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        process, endpoint = _start(env, Path(tmp) / "moto.log")
        server = S3Server(endpoint, bucket="")
        try:
            server.bucket = server.new_bucket("voxhub-test")
            yield server
        finally:
            if server._client is not None:
                server._client.close()
            _stop(process)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One moto S3 server for the test session (fails under CI=true if it cannot start)."""
    try:
        import moto.server  # noqa: F401  (the [server] extra: flask, werkzeug)
    except ImportError as exc:
        unavailable("moto[server]", exc)
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_s3_server())
        except RuntimeError as exc:
            unavailable("moto S3 server", exc)
        yield server


@pytest.fixture
def s3_storage_url(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3://<fresh empty bucket>``, with the AWS_* variables for the server set."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in s3_server.environment.items():
        monkeypatch.setenv(name, value)
    return f"s3://{s3_server.new_bucket()}"
