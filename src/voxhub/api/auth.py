"""The authentication and rate-limit dependency shared by every /v3 route."""

from __future__ import annotations

from fastapi import Request

from voxhub.domain import Principal
from voxhub.services import Services

__all__ = ["SECURITY", "SECURITY_SCHEMES", "authenticated", "services"]

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
    result: Services = request.app.state.services
    return result


def _presented_key(request: Request) -> str | None:
    headers = request.headers
    key = headers.get("x-api-key")
    if key:
        return key
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return credentials.strip()
    return None


async def authenticated(request: Request) -> Principal:
    """The caller's principal; raises AuthenticationFailed or RateLimited."""
    registry = services(request)
    principal = await registry.keys.authenticate(_presented_key(request))
    request.state.account_id = principal.account_id
    await registry.rate_limits.check(principal)
    return principal
