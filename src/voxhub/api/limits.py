"""Request bodies bounded while they are read (ASGI middleware), per path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxhub.api.errors import error_response
from voxhub.errors import PayloadTooLarge

__all__ = ["BodyLimitMiddleware"]


class BodyLimitMiddleware:
    """A body over the limit of its path: 413 before reading when its length is declared,
    else a PayloadTooLarge raised from the read that crosses the limit."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int]) -> None:
        self.app = app
        self.limits = dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits.get(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                response = error_response(413, "payload_too_large", _message(limit), param=None)
                await response(scope, receive, send)
                return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message: dict[str, Any] = dict(await receive())
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(_message(limit))
            return message

        await self.app(scope, bounded, send)


def _message(limit: int) -> str:
    return f"The request body is larger than {limit // (1024 * 1024)} MB."
