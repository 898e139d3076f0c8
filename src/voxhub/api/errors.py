"""The one place where errors become HTTP responses in the error envelope."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from voxhub.errors import (
    AuthenticationFailed,
    Forbidden,
    InvalidParameter,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    VoiceNotFound,
    VoxhubError,
)

__all__ = [
    "STATUS_OF",
    "domain_error_response",
    "error_response",
    "install_error_handlers",
    "status_of",
]

log = logging.getLogger(__name__)

STATUS_OF: dict[type[VoxhubError], int] = {
    InvalidParameter: 400,
    AuthenticationFailed: 401,
    Forbidden: 403,
    NotFound: 404,
    VoiceNotFound: 404,
    RateLimited: 429,
    ServiceUnavailable: 503,
    VoxhubError: 500,
}

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def status_of(exc: VoxhubError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def error_response(
    status: int,
    code: str,
    message: str,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = {"error": {"code": code, "message": message, "param": param, "doc_url": None}}
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def domain_error_response(exc: VoxhubError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(status_of(exc), exc.code, exc.message, exc.param, headers)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VoxhubError)
    return domain_error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ())]
    param = location[-1] if len(location) > 1 else None
    reason = str(first.get("msg", "is invalid"))
    message = f"Invalid value for {param}: {reason}." if param else f"Invalid request: {reason}."
    return error_response(400, "invalid_parameter", message, param)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "invalid_parameter")
    message = {404: "Not found.", 405: "Method not allowed."}.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, code, message, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(VoxhubError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
