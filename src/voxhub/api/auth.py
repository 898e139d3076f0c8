"""The authentication and rate-limit dependency shared by every /v3 route."""

from __future__ import annotations

from fastapi import Request

from voxhub.domain import Principal
from voxhub.errors import InsufficientScope, RateLimited
from voxhub.services import Services

__all__ = [
    "SECURITY",
    "SECURITY_SCHEMES",
    "authenticate",
    "authenticated",
    "authenticated_writer",
    "presented_key",
    "services",
]

SECURITY_SCHEMES = {
    "ApiKeyAuth": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "A voxhub API key (voxhub keys create).",
    },
    "BearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "The same API key as a bearer token.",
    },
}
SECURITY: list[dict[str, list[str]]] = [{"ApiKeyAuth": []}, {"BearerAuth": []}]


def services(request: Request) -> Services:
    result: Services = request.scope["app"].state.services
    return result


def presented_key(raw_headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key from ``x-api-key``, else from ``Authorization: Bearer``; read from the raw
    ASGI headers, which costs less than building the request's header mapping."""
    bearer = None
    for name, value in raw_headers:
        if name == b"x-api-key" and value:
            return value.decode("latin-1")
        if name == b"authorization" and bearer is None:
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                bearer = credentials.strip()
    return bearer


async def authenticate(registry: Services, request: Request) -> Principal:
    """The caller's principal; raises AuthenticationFailed or RateLimited."""
    scope = request.scope
    principal = await registry.keys.authenticate(presented_key(scope["headers"]))
    scope.setdefault("state", {})["account_id"] = principal.account_id  # for the access log
    try:
        await registry.rate_limits.check(principal)
    except RateLimited:
        registry.metrics.rate_limited()
        raise
    return principal


async def authenticated(request: Request) -> Principal:
    """The same, as a FastAPI dependency."""
    return await authenticate(services(request), request)


async def authenticated_writer(request: Request) -> Principal:
    """A caller whose key may write (every POST and DELETE)."""
    principal = await authenticate(services(request), request)
    if principal.read_only:
        raise InsufficientScope()
    return principal
