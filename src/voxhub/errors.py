"""The domain error hierarchy.

Services raise these; the API maps each class to an HTTP status in one place
(``voxhub.api.errors``). Nothing here knows about HTTP.

    VoxhubError
    ├── InvalidParameter          a request field is malformed or out of range
    │   ├── DownloadFailed        a URL the request named could not be fetched
    │   └── ResourceLimitExceeded the account has as many clones as it may
    ├── AuthenticationFailed      no key, or a key that is unknown or revoked
    ├── Forbidden                 the key may not do this
    │   └── InsufficientScope     a read-only key tried to write
    ├── NotFound                  a resource the caller cannot see
    │   └── VoiceNotFound         a voice the caller cannot see
    ├── PayloadTooLarge           a body or file over its size limit (stopped while reading)
    ├── RequestInProgress         an Idempotency-Key whose first request is still running
    ├── RateLimited               the key spent its rate; carries retry_after
    │   └── WorkersBusy           every speech worker is busy and the queue is full
    ├── ServiceUnavailable        a backend (database, Redis) is not answering
    └── WorkerFailed              a worker process died or overran its time on a job
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "DownloadFailed",
    "Forbidden",
    "InsufficientScope",
    "InvalidParameter",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "RequestInProgress",
    "ResourceLimitExceeded",
    "ServiceUnavailable",
    "VoiceNotFound",
    "VoxhubError",
    "WorkerFailed",
    "WorkersBusy",
]


class VoxhubError(Exception):
    """Something went wrong."""

    code = "internal_error"

    def __init__(self, message: str | None = None, *, param: str | None = None) -> None:
        self.message = message or (self.__doc__ or self.code).strip()
        self.param = param
        super().__init__(self.message)


class InvalidParameter(VoxhubError):
    """A request parameter is invalid."""

    code = "invalid_parameter"


class DownloadFailed(InvalidParameter):
    """The file at the URL could not be downloaded."""

    code = "download_failed"


class ResourceLimitExceeded(InvalidParameter):
    """The account has reached a limit."""

    code = "resource_limit_exceeded"


class AuthenticationFailed(VoxhubError):
    """Invalid or expired API key. Verify your x-api-key header."""

    code = "authentication_failed"


class Forbidden(VoxhubError):
    """This API key may not perform this action."""

    code = "forbidden"


class InsufficientScope(Forbidden):
    """This API key is read-only; use a key that may write."""

    code = "insufficient_api_key_scope"


class NotFound(VoxhubError):
    """Resource not found."""

    code = "not_found"


class VoiceNotFound(NotFound):
    """Voice not found."""

    code = "voice_not_found"


class PayloadTooLarge(VoxhubError):
    """The request body is too large."""

    code = "payload_too_large"


class RequestInProgress(VoxhubError):
    """A request with this Idempotency-Key is still in progress. Retry when it has finished."""

    code = "request_in_progress"


class RateLimited(VoxhubError):
    """Too many requests. Retry after the duration specified in the Retry-After header."""

    code = "rate_limit_exceeded"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class WorkersBusy(RateLimited):
    """Every speech worker is busy. Retry after the duration specified in the Retry-After
    header."""


class ServiceUnavailable(VoxhubError):
    """The service is temporarily unavailable. Retry shortly."""

    code = "service_unavailable"


class WorkerFailed(VoxhubError):
    """The service could not complete this request. Retry it; if it fails again, shorten it."""

    code = "internal_error"
