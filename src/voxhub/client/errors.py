"""The one exception tree of the voxhub client, mirroring the API's error envelope.

Every error the client raises is a ``VoxhubError``; catch the most specific class you can act on::

    VoxhubError                  anything the client raises on purpose
    ├── ConfigurationError       no API key given and none in VOXHUB_API_KEY, or a bad option
    ├── TransportError           the server could not be reached or the connection broke
    ├── CloneFailed              a clone ended with status "failed" (.failure_message, .voice)
    ├── CloneTimeout             wait() gave up while the clone was still processing (.voice)
    └── APIError                 the server answered with an error envelope
        │                        (.status, .code, .message, .param, .request_id)
        ├── BadRequest               400: invalid_parameter, download_failed, …
        ├── AuthenticationFailed     401: missing, wrong or revoked key
        ├── PermissionDenied         403: a read-only key writing, a public voice deleted
        ├── NotFound                 404: voice_not_found, not_found (also another account's)
        ├── Conflict                 409: request_in_progress (same Idempotency-Key running)
        ├── PayloadTooLarge          413: a sample or upload over the limit
        ├── RateLimited              429, after the client's own retries (.retry_after)
        └── ServerError              5xx
            └── ServiceUnavailable   503, after the client's own retries (.retry_after)

``APIError`` keeps the envelope's fields as they came (``code`` such as ``voice_not_found``), so
a handler can branch on a code that has no class of its own. An answer that is not an envelope
(a proxy's HTML page) still maps by status, with ``code`` ``"http_<status>"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voxhub.client.models import Voice

__all__ = [
    "APIError",
    "AuthenticationFailed",
    "BadRequest",
    "CloneFailed",
    "CloneTimeout",
    "ConfigurationError",
    "Conflict",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "ServiceUnavailable",
    "TransportError",
    "VoxhubError",
    "error_for_status",
]


class VoxhubError(Exception):
    """Anything the voxhub client raises on purpose."""


class ConfigurationError(VoxhubError):
    """The client cannot be used as configured (no API key, a bad option)."""


class TransportError(VoxhubError):
    """The server could not be reached, or the connection broke before an answer."""


class CloneFailed(VoxhubError):
    """The clone ended with status ``failed``; ``failure_message`` says what to change."""

    def __init__(self, voice: Voice) -> None:
        self.voice = voice
        self.voice_id = voice.voice_id
        self.failure_message = voice.failure_message or "the clone failed (no reason given)"
        super().__init__(f"clone {voice.voice_id} failed: {self.failure_message}")


class CloneTimeout(VoxhubError):
    """``wait()`` ran out of time while the clone was still processing."""

    def __init__(self, voice: Voice, timeout: float) -> None:
        self.voice = voice
        self.voice_id = voice.voice_id
        self.timeout = timeout
        super().__init__(
            f"clone {voice.voice_id} still {voice.status} after {timeout:g} s; "
            "wait again or check later"
        )


class APIError(VoxhubError):
    """The server answered with an error: the fields of its error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str | None = None,
        *,
        doc_url: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.doc_url = doc_url
        self.request_id = request_id
        where = f" (param: {param})" if param else ""
        super().__init__(f"{status} {code}: {message}{where}")


class BadRequest(APIError):
    """400: the request was refused as it is; ``param`` names the field to fix."""


class AuthenticationFailed(APIError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDenied(APIError):
    """403: the key may not do this (a read-only key writing, a public voice deleted)."""


class NotFound(APIError):
    """404: no such object, or one of another account (answered the same)."""


class Conflict(APIError):
    """409: the same Idempotency-Key is still being processed."""


class PayloadTooLarge(APIError):
    """413: the body is over the server's limit."""


class _RetryAfter(APIError):
    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class RateLimited(_RetryAfter):
    """429, still after the client's retries; ``retry_after`` is the server's wait in seconds."""


class ServerError(APIError):
    """5xx: the server failed; a retry later may succeed."""


class ServiceUnavailable(ServerError, _RetryAfter):
    """503, still after the client's retries; ``retry_after`` as the server said, if it did."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    429: RateLimited,
    503: ServiceUnavailable,
}


def error_for_status(status: int) -> type[APIError]:
    """The most specific class for an HTTP status (any other 4xx: ``APIError``)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else APIError
