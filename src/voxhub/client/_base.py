"""What ``Client`` and ``AsyncClient`` share: everything that does no I/O.

Each API call is described once here, as a ``Call`` (method, path, query, body, whether it
creates something) plus the function that reads its answer; the two clients only send calls and
sleep, each in its own way. Retry decisions, error mapping, paging and the polling schedule of
``wait()`` live here too, so both clients behave the same by construction.
"""

from __future__ import annotations

import base64
import dataclasses
import email.utils
import os
import random
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx2 as httpx

from voxhub import __version__
from voxhub.client.errors import APIError, ConfigurationError, error_for_status

__all__ = [
    "DEFAULT_URL",
    "ENDPOINTS",
    "RETRY_STATUSES",
    "SPEECH_READ_TIMEOUT",
    "BaseClient",
    "Call",
    "RetryPolicy",
    "Sample",
    "WaitPolicy",
    "api_error",
    "asset_path",
    "clone_call",
    "endpoint_path",
    "idempotency",
    "next_page",
    "retry_after",
    "sniff_media_type",
    "speech_body",
    "upload_file",
    "voice_path",
]

DEFAULT_URL = "http://127.0.0.1:8000"
ENDPOINTS = "/v3/webhooks/endpoints"
# Generate Speech answers when the audio is made: minutes for a long text on a busy CPU (the
# server stops a job after VOXHUB_SPEECH_TIMEOUT_SECONDS, 900 by default).
SPEECH_READ_TIMEOUT = 900.0
RETRY_STATUSES = frozenset({429, 503})

# A clone sample: a local file's path, or its bytes.
Sample = str | os.PathLike[str] | bytes

_MAGIC = (
    (b"RIFF", "audio/wav"),
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
    (b"\x1a\x45\xdf\xa3", "audio/webm"),
)


@dataclass(frozen=True)
class RetryPolicy:
    """How 429 and 503 answers are retried (the same request, the same Idempotency-Key).

    A ``Retry-After`` from the server is honoured as given, unless it is longer than
    ``max_wait``: then the error is raised at once (``RateLimited.retry_after`` says how long
    the server asked for). Without one, waits are ``backoff`` seconds doubling, with jitter.
    ``max_retries=0`` turns retrying off.
    """

    max_retries: int = 3
    max_wait: float = 60.0
    backoff: float = 0.5

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.max_wait < 0 or self.backoff < 0:
            raise ConfigurationError("retry settings must be zero or more")

    def delay(self, response: httpx.Response, retries_done: int) -> float | None:
        """Seconds to wait before retrying this answer, or None: do not retry it."""
        if response.status_code not in RETRY_STATUSES or retries_done >= self.max_retries:
            return None
        asked = retry_after(response.headers)
        if asked is None:
            return self.backoff * float(2**retries_done) * random.uniform(0.8, 1.2)  # noqa: S311
        return asked if asked <= self.max_wait else None


@dataclass(frozen=True)
class WaitPolicy:
    """How ``clones.wait()`` polls: ``first`` s apart, growing by ``factor`` up to ``most``."""

    first: float = 1.0
    factor: float = 1.5
    most: float = 10.0

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(delay * self.factor, self.most)


@dataclass(frozen=True)
class Call:
    """One API request, before it is sent."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    files: Mapping[str, tuple[str, bytes | IO[bytes], str]] | None = None
    idempotency_key: str | None = None
    read_timeout: float | None = None  # None: the client's

    def with_params(self, **params: Any) -> Call:
        return dataclasses.replace(self, params={**(self.params or {}), **params})


def retry_after(headers: httpx.Headers) -> float | None:
    """``Retry-After`` in seconds: an integer, or an HTTP date; None when absent or unreadable."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def api_error(response: httpx.Response) -> APIError:
    """The exception for an error answer, from its envelope (or its status alone)."""
    status = response.status_code
    try:
        envelope = response.json().get("error")
    except (ValueError, AttributeError):
        envelope = None
    if not isinstance(envelope, dict):
        envelope = {"code": f"http_{status}", "message": response.reason_phrase or "error"}
    kind = error_for_status(status)
    details: dict[str, Any] = {
        "doc_url": envelope.get("doc_url"),
        "request_id": response.headers.get("x-request-id"),
    }
    if status in RETRY_STATUSES:
        details["retry_after"] = retry_after(response.headers)
    return kind(
        status,
        str(envelope.get("code") or f"http_{status}"),
        str(envelope.get("message") or response.reason_phrase),
        envelope.get("param"),
        **details,
    )


def next_page(call: Call, body: Mapping[str, Any]) -> Call | None:
    """The call for the page after this answer, or None on the last page."""
    token = body.get("next_token")
    if not body.get("has_more") or not token:
        return None
    return call.with_params(token=token)


def sniff_media_type(head: bytes, name: str = "") -> str:
    """An audio file's type from its first bytes (the server decides from the bytes too)."""
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if head[4:8] == b"ftyp":
        return "audio/mp4"
    suffix = Path(name).suffix.lower()
    return {".m4a": "audio/mp4", ".aac": "audio/aac", ".opus": "audio/ogg"}.get(
        suffix, "application/octet-stream"
    )


def _read_sample(sample: Sample) -> tuple[bytes, str]:
    if isinstance(sample, bytes):
        return sample, ""
    path = Path(sample)
    return path.read_bytes(), path.name


def clone_call(
    voice_name: str,
    *,
    sample: Sample | None,
    url: str | None,
    asset_id: str | None,
    media_type: str | None,
    language: str | None,
    remove_background_noise: bool,
    idempotency_key: str | None,
) -> Call:
    """Clone a Voice from exactly one of a local sample (sent inline), a URL or an asset id."""
    given = [source for source in (sample, url, asset_id) if source is not None]
    if len(given) != 1:
        raise ConfigurationError("give exactly one of sample=, url= or asset_id=")
    audio: dict[str, Any]
    if url is not None:
        audio = {"type": "url", "url": url}
    elif asset_id is not None:
        audio = {"type": "asset_id", "asset_id": asset_id}
    else:
        assert sample is not None
        data, name = _read_sample(sample)
        audio = {
            "type": "base64",
            "media_type": media_type or sniff_media_type(data[:16], name),
            "data": base64.b64encode(data).decode("ascii"),
        }
    body: dict[str, Any] = {
        "voice_name": voice_name,
        "audio": audio,
        "remove_background_noise": remove_background_noise,
    }
    if language is not None:
        body["language"] = language
    return Call("POST", "/v3/voices/clone", json=body, idempotency_key=idempotency(idempotency_key))


def upload_file(
    file: Sample | IO[bytes], filename: str | None, idempotency_key: str | None
) -> Call:
    """Upload Asset: multipart field ``file`` from a path, bytes or an open binary file."""
    content: bytes | IO[bytes]
    if isinstance(file, bytes):
        content, name = file, filename or "sample"
    elif isinstance(file, str | os.PathLike):
        content, name = Path(file).read_bytes(), filename or Path(file).name
    else:
        content, name = file, filename or Path(getattr(file, "name", "sample")).name
    head = content[:16] if isinstance(content, bytes) else b""
    files = {"file": (name, content, sniff_media_type(head, name))}
    return Call("POST", "/v3/assets", files=files, idempotency_key=idempotency(idempotency_key))


def speech_body(
    text: str,
    voice_id: str,
    *,
    input_type: str | None,
    speed: float | None,
    language: str | None,
    locale: str | None,
    output_format: str | None,
) -> dict[str, Any]:
    """Generate Speech's body, with only the options given (the hosted API knows no format)."""
    body: dict[str, Any] = {"text": text, "voice_id": voice_id}
    options = {
        "input_type": input_type,
        "speed": speed,
        "language": language,
        "locale": locale,
        "output_format": output_format,
    }
    body.update({name: value for name, value in options.items() if value is not None})
    return body


def idempotency(given: str | None) -> str:
    """The Idempotency-Key of a create: the caller's, or a fresh one kept across retries."""
    return given if given is not None else uuid.uuid4().hex


def voice_path(voice_id: str) -> str:
    return f"/v3/voices/{quote(voice_id, safe='')}"


def asset_path(asset_id: str) -> str:
    return f"/v3/assets/{quote(asset_id, safe='')}"


def endpoint_path(endpoint_id: str) -> str:
    return f"{ENDPOINTS}/{quote(endpoint_id, safe='')}"


class BaseClient:
    """Configuration, headers and the answer checks shared by both clients."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        retries: RetryPolicy | None,
        wait_policy: WaitPolicy | None,
        timeout: float,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("VOXHUB_API_KEY")
        if not key:
            raise ConfigurationError(
                "no API key: pass api_key=... or set VOXHUB_API_KEY "
                "(`voxhub serve` prints one at its first start)"
            )
        self.api_key = key
        self.base_url = (base_url or os.environ.get("VOXHUB_URL") or DEFAULT_URL).rstrip("/")
        self.retries = retries or RetryPolicy()
        self.wait_policy = wait_policy or WaitPolicy()
        self.timeout = timeout

    def _request_args(self, call: Call) -> dict[str, Any]:
        headers = {"user-agent": f"voxhub-python/{__version__}"}
        if self._same_origin(call.path):
            headers["x-api-key"] = self.api_key
        if call.idempotency_key is not None:
            headers["idempotency-key"] = call.idempotency_key
        args: dict[str, Any] = {"method": call.method, "url": call.path, "headers": headers}
        if call.params:
            args["params"] = {k: v for k, v in call.params.items() if v is not None}
        if call.json is not None:
            args["json"] = call.json
        if call.files is not None:
            args["files"] = call.files
        if call.read_timeout is not None:
            args["timeout"] = httpx.Timeout(self.timeout, read=call.read_timeout)
        return args

    def _same_origin(self, url: str) -> bool:
        """The key goes to the API only: never to another host a file link points at."""
        if url.startswith("/"):
            return True
        target, base = httpx.URL(url), httpx.URL(self.base_url)
        return (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)

    @staticmethod
    def _data(response: httpx.Response) -> Any:
        """The answer's JSON body, or the mapped error for an error status."""
        if response.is_error:
            raise api_error(response)
        return response.json()
