"""The one place where errors become HTTP responses in the error envelope."""

from __future__ import annotations

import logging
import re
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
    PayloadTooLarge,
    RateLimited,
    RequestInProgress,
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
    PayloadTooLarge: 413,
    RequestInProgress: 409,
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
    param = _param_of(location)
    reason = str(first.get("msg", "is invalid"))
    message = f"Invalid value for {param}: {reason}." if param else f"Invalid request: {reason}."
    return error_response(400, "invalid_parameter", message, param)


_UNION_TAGS = frozenset({"url", "asset_id", "base64"})  # the clone body's audio kinds


def _param_of(location: list[str]) -> str | None:
    """``["body", "audio", "url", "url"]`` -> ``audio.url``; ``["query", "limit"]`` -> ``limit``.

    A discriminated union's tag (the second segment of ``audio``'s path) is left out.
    """
    parts = location[1:]
    if len(parts) >= 3 and parts[1] in _UNION_TAGS:
        del parts[1]
    return ".".join(parts) or None


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "invalid_parameter")
    message = {404: "Not found.", 405: "Method not allowed."}.get(exc.status_code, str(exc.detail))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Routing answers from the first route whose path matched; a path served by several
        # routes (GET and DELETE of an asset) allows what the API document lists for it.
        allowed = allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return error_response(exc.status_code, code, message, headers=headers or None)


def allowed_methods(request: Request) -> list[str]:
    """The methods the app's OpenAPI document gives for the request's path (its most
    specific paths: /v3/voices/speech, not /v3/voices/{voice_id})."""
    app = request.app
    templates: list[tuple[re.Pattern[str], int, list[str]]] | None = getattr(
        app.state, "allowed_methods", None
    )
    if templates is None:
        templates = []
        for path, operations in app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(path))
            methods = [m.upper() for m in operations]
            templates.append((re.compile(f"^{pattern}$"), path.count("{"), methods))
        app.state.allowed_methods = templates
    matches = [(params, methods) for pattern, params, methods in templates
               if pattern.match(request.url.path)]  # fmt: skip
    if not matches:
        return []
    fewest = min(params for params, _ in matches)
    return sorted({m for params, methods in matches if params == fewest for m in methods})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(VoxhubError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
