"""Pins the one mapping from domain errors to HTTP statuses and the error envelope."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from voxhub.api.app import install_common
from voxhub.errors import (
    AuthenticationFailed,
    DownloadFailed,
    Forbidden,
    InsufficientScope,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RequestInProgress,
    ResourceLimitExceeded,
    ServiceUnavailable,
    VoiceNotFound,
    VoxhubError,
    WorkerFailed,
    WorkersBusy,
)

CASES = [
    (InvalidParameter("Bad limit.", param="limit"), 400, "invalid_parameter", "limit"),
    (DownloadFailed("It answered 404.", param="audio.url"), 400, "download_failed", "audio.url"),
    (ResourceLimitExceeded("Delete a clone."), 400, "resource_limit_exceeded", None),
    (AuthenticationFailed(), 401, "authentication_failed", None),
    (Forbidden(), 403, "forbidden", None),
    (InsufficientScope(), 403, "insufficient_api_key_scope", None),
    (NotFound(), 404, "not_found", None),
    (VoiceNotFound(), 404, "voice_not_found", None),
    (PayloadTooLarge("Files are at most 32 MB.", param="file"), 413, "payload_too_large", "file"),
    (RateLimited(retry_after=7), 429, "rate_limit_exceeded", None),
    (RequestInProgress(), 409, "request_in_progress", None),
    (WorkersBusy(retry_after=3), 429, "rate_limit_exceeded", None),
    (WorkerFailed(), 500, "internal_error", None),
    (ServiceUnavailable(), 503, "service_unavailable", None),
    (VoxhubError(), 500, "internal_error", None),
]


def app_raising(exc: Exception) -> TestClient:
    app = FastAPI()
    install_common(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("exc", "status", "code", "param"), CASES, ids=lambda v: str(v))
def test_domain_error_maps_to_status_and_envelope(
    exc: VoxhubError, status: int, code: str, param: str | None
) -> None:
    response = app_raising(exc).get("/boom")
    assert response.status_code == status
    assert response.json() == {
        "error": {"code": code, "message": exc.message, "param": param, "doc_url": None}
    }
    assert response.headers["x-request-id"]


def test_rate_limited_carries_retry_after_header() -> None:
    response = app_raising(RateLimited(retry_after=7)).get("/boom")
    assert response.headers["Retry-After"] == "7"


def test_retry_after_is_at_least_one_second() -> None:
    assert RateLimited(retry_after=0).retry_after == 1


def test_an_unexpected_exception_is_a_500_envelope_with_the_request_id() -> None:
    response = app_raising(RuntimeError("secret detail")).get(
        "/boom", headers={"X-Request-Id": "trace-42"}
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret detail" not in response.text
    assert response.headers["x-request-id"] == "trace-42"
