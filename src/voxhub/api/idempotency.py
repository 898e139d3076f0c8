"""Running a write under the caller's ``Idempotency-Key`` header, when it sends one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from voxhub.api.auth import services
from voxhub.domain import Principal
from voxhub.services import Replay

__all__ = ["REPLAYED_HEADER", "idempotent"]

REPLAYED_HEADER = "Idempotent-Replayed"


async def idempotent(
    request: Request,
    caller: Principal,
    endpoint: str,
    handle: Callable[[], Awaitable[Response]],
) -> Response:
    key = request.headers.get("idempotency-key")
    if key is None:
        return await handle()
    keys = services(request).idempotency
    started = await keys.begin(caller.account_id, endpoint, key)
    if isinstance(started, Replay):
        return Response(
            started.body,
            status_code=started.status,
            media_type="application/json",
            headers={REPLAYED_HEADER: "true"},
        )
    try:
        response = await handle()
    except BaseException:
        await keys.fail(started)
        raise
    if 200 <= response.status_code < 300:
        await keys.succeed(started, response.status_code, bytes(response.body).decode())
    else:
        await keys.fail(started)
    return response
