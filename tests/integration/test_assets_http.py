"""Uploads over real HTTP: an oversize body is refused while it is still arriving."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from tests.integration.conftest import LiveServer

MB = 1024 * 1024


def test_an_oversize_upload_is_answered_413_before_its_body_ends(live_server: LiveServer) -> None:
    # A client that sends 40 MB of a body that would never end: the answer must come anyway,
    # because the limit is enforced while reading, not after the whole body has arrived.
    url = urlsplit(live_server.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=20) as sock:
        sock.sendall(
            b"POST /v3/assets HTTP/1.1\r\nHost: test\r\n"
            + f"x-api-key: {live_server.key}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF'
        sock.sendall(f"{len(head):x}\r\n".encode() + head + b"\r\n")
        chunk = f"{MB:x}\r\n".encode() + b"\0" * MB + b"\r\n"
        for _ in range(40):
            sock.sendall(chunk)
        answer = sock.recv(4096)
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert b"payload_too_large" in answer
