"""URL fetching against a real HTTP server (on loopback, allowed for the test only)."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from voxhub.errors import DownloadFailed, InvalidParameter, PayloadTooLarge
from voxhub.services.fetch import FetchLimits, UrlFetcher

LOOPBACK = [ipaddress.ip_network("127.0.0.1/32")]


class Handler(BaseHTTPRequestHandler):
    seen_hosts: list[str] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        Handler.seen_hosts.append(self.headers["Host"])
        if self.path == "/sample.wav":
            self._send(200, b"RIFF....WAVEfmt ")
        elif self.path == "/to-metadata":
            self._redirect("http://169.254.169.254/latest/meta-data/")
        elif self.path == "/to-sample":
            self._redirect("/sample.wav")
        elif self.path == "/loop":
            self._redirect("/loop")
        elif self.path == "/huge":
            self.send_response(200)
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"\0" * 65536)
        elif self.path == "/slow":
            time.sleep(2)
            self._send(200, b"late")
        else:
            self._send(404, b"no")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


async def to_loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"] if host == "media.example" else ["93.184.216.34"]


def fetch(url: str, **limits: float) -> bytes:
    fetcher = UrlFetcher(FetchLimits(**limits), LOOPBACK, to_loopback)  # type: ignore[arg-type]
    return asyncio.run(fetcher.fetch(url))


def test_the_file_is_fetched_from_the_checked_address_with_the_urls_host(port: int) -> None:
    assert fetch(f"http://media.example:{port}/sample.wav") == b"RIFF....WAVEfmt "
    assert Handler.seen_hosts[-1] == f"media.example:{port}"


def test_redirects_are_followed_and_each_hop_checked(port: int) -> None:
    assert fetch(f"http://media.example:{port}/to-sample").startswith(b"RIFF")
    with pytest.raises(InvalidParameter, match="private"):
        fetch(f"http://media.example:{port}/to-metadata")
    with pytest.raises(DownloadFailed, match="redirected more than"):
        fetch(f"http://media.example:{port}/loop")


def test_a_missing_file_is_a_download_failure(port: int) -> None:
    with pytest.raises(DownloadFailed, match="HTTP 404"):
        fetch(f"http://media.example:{port}/nothing")


def test_the_size_limit_cuts_the_body_off_while_reading(port: int) -> None:
    with pytest.raises(PayloadTooLarge):
        fetch(f"http://media.example:{port}/huge", max_bytes=100_000)


def test_a_slow_server_runs_into_the_time_limit(port: int) -> None:
    with pytest.raises(DownloadFailed, match="did not finish"):
        fetch(f"http://media.example:{port}/slow", timeout_seconds=0.5)
