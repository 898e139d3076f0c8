"""Request context: an id on every response, one access-log line and one metrics observation
per request."""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from typing import Any

from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxhub.api.errors import error_response
from voxhub.metrics import NO_METRICS, UNMATCHED_ROUTE, Metrics
from voxhub.observability import ACCESS_LOG

__all__ = ["RequestContextMiddleware"]

error_log = logging.getLogger("voxhub.error")
_CLIENT_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")


# A made id is this process's random prefix and a counter: unique across processes and
# restarts without a system call per request (uuid4 reads os.urandom every time).
_PREFIX = uuid.uuid4().hex[:16]
_counter = itertools.count(1)


def _new_request_id() -> str:
    return f"{_PREFIX}{next(_counter):016x}"


def _metrics(scope: Scope) -> Metrics:
    services = getattr(scope["app"].state, "services", None)
    return services.metrics if services is not None else NO_METRICS


def _templates(app: Any) -> dict[Any, str]:
    """Route templates by endpoint: FastAPI names the matched route in the scope only for its
    own routes, not for plain Starlette ones (Get Voice's fast route)."""
    return {route.endpoint: route.path for route in app.routes if isinstance(route, Route)}


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return value.decode() if _CLIENT_ID.match(value) else _new_request_id()
    return _new_request_id()


class RequestContextMiddleware:
    """Pure ASGI (no per-request task), outermost around the routes.

    It echoes a client's ``X-Request-Id`` (when it is 1-128 safe characters) or makes one,
    logs the request, and turns any unhandled exception into a 500 ``internal_error``
    envelope that still carries the id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: dict[Any, str] | None = None

    def _route(self, scope: Scope) -> str:
        """The matched route's template (/v3/voices/{voice_id}), never the path itself."""
        route = scope.get("route")
        if route is not None:
            return getattr(route, "path", UNMATCHED_ROUTE)
        if self._templates is None:
            self._templates = _templates(scope["app"])
        return self._templates.get(scope.get("endpoint"), UNMATCHED_ROUTE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("unhandled error", extra={"request_id": request_id})
            if response_started:
                raise
            response = error_response(500, "internal_error", "An internal error occurred.")
            await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            ACCESS_LOG.write(
                request_id=request_id,
                method=scope["method"],
                path=scope["path"],
                status=status,
                latency_ms=round(seconds * 1000, 3),
                account_id=state.get("account_id"),
            )
            metrics = _metrics(scope)
            if metrics.enabled:
                metrics.request(self._route(scope), scope["method"], status, seconds)
