"""Webhook endpoints and event history: thin handlers over the webhook service."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from voxhub.api.auth import SECURITY, authenticated, authenticated_writer, services
from voxhub.api.routes.voices import error_responses
from voxhub.domain import Principal
from voxhub.services.webhooks import EVENT_TYPES, endpoint_view, iso

__all__ = ["router"]

router = APIRouter(tags=["Webhooks"])
Caller = Annotated[Principal, Depends(authenticated)]
Writer = Annotated[Principal, Depends(authenticated_writer)]
ENDPOINTS = "/v3/webhooks/endpoints"
ONE_ENDPOINT = ENDPOINTS + "/{endpoint_id}"


class WebhookEndpoint(BaseModel):
    """A registered webhook endpoint."""

    endpoint_id: str
    url: str
    events: list[str] | None = Field(description="Subscribed event types; null: every event.")
    status: Literal["enabled", "disabled"]
    created_at: str = Field(description="ISO 8601")
    secret: str | None = Field(description="Only on create and rotate-secret.")


class CreateEndpointRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: str = Field(min_length=1, max_length=2048, description="http(s) URL, public address")
    events: list[str] | None = Field(default=None, description="Event types; null: every one")
    entity_id: str | None = Field(default=None, description="Accepted; voxhub does not filter")


class UpdateEndpointRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[str] | None = Field(default=None, description="Replaces the list whole")
    status: Literal["enabled", "disabled"] | None = Field(
        default=None, description="voxhub addition: enable a disabled endpoint again"
    )


class EndpointResponse(BaseModel):
    data: WebhookEndpoint


class EndpointListResponse(BaseModel):
    data: list[WebhookEndpoint]
    has_more: bool
    next_token: str | None


class RotatedSecret(BaseModel):
    endpoint_id: str
    secret: str


class RotateSecretResponse(BaseModel):
    data: RotatedSecret


class DeletedEndpointResponse(BaseModel):
    data: dict[str, Any]


class EventType(BaseModel):
    event_type: str
    description: str


class EventTypesResponse(BaseModel):
    data: list[EventType]
    has_more: bool
    next_token: str | None


class Delivery(BaseModel):
    """voxhub addition: where the event went and how that went."""

    endpoint_id: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None


class Event(BaseModel):
    event_id: str
    event_type: str
    event_data: dict[str, Any]
    created_at: str = Field(description="ISO 8601")
    deliveries: list[Delivery]


class EventListResponse(BaseModel):
    data: list[Event]
    has_more: bool
    next_token: str | None


def _json(body: Any) -> Response:
    return Response(body.model_dump_json(), media_type="application/json")


@router.post(
    ENDPOINTS,
    operation_id="createWebhookEndpoint",
    summary="Create Webhook Endpoint",
    description="Registers a URL to receive events; the answer carries the signing secret, "
    "shown this once.",
    response_model=EndpointResponse,
    responses=error_responses(400, 401, 403, 429),
    openapi_extra={"security": SECURITY},
)
async def create_endpoint(
    request: Request, caller: Writer, body: CreateEndpointRequest
) -> Response:
    endpoint, secret = await services(request).webhooks.create_endpoint(
        caller.account_id, body.url, body.events
    )
    return _json(EndpointResponse(data=WebhookEndpoint(**endpoint_view(endpoint, secret))))


@router.get(
    ENDPOINTS,
    operation_id="listWebhookEndpoints",
    summary="List Webhook Endpoints",
    response_model=EndpointListResponse,
    responses=error_responses(400, 401, 429),
    openapi_extra={"security": SECURITY},
)
async def list_endpoints(
    request: Request,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1 to 100")] = 10,
    token: Annotated[str | None, Query(description="next_token of the previous page")] = None,
) -> Response:
    found, next_token = await services(request).webhooks.list_endpoints(
        caller.account_id, limit, token or None
    )
    data = [WebhookEndpoint(**endpoint_view(endpoint)) for endpoint in found]
    return _json(
        EndpointListResponse(data=data, has_more=next_token is not None, next_token=next_token)
    )


@router.patch(
    ONE_ENDPOINT,
    operation_id="updateWebhookEndpoint",
    summary="Update Webhook Endpoint",
    description="Changes the URL, the event types (the list is replaced whole) or the status.",
    response_model=EndpointResponse,
    responses=error_responses(400, 401, 403, 404, 429),
    openapi_extra={"security": SECURITY},
)
async def update_endpoint(
    request: Request, caller: Writer, endpoint_id: str, body: UpdateEndpointRequest
) -> Response:
    endpoint = await services(request).webhooks.update_endpoint(
        caller.account_id,
        endpoint_id,
        url=body.url,
        events=body.events,
        events_given="events" in body.model_fields_set,
        status=body.status,
    )
    return _json(EndpointResponse(data=WebhookEndpoint(**endpoint_view(endpoint))))


@router.delete(
    ONE_ENDPOINT,
    operation_id="deleteWebhookEndpoint",
    summary="Delete Webhook Endpoint",
    response_model=DeletedEndpointResponse,
    responses=error_responses(401, 403, 404, 429),
    openapi_extra={"security": SECURITY},
)
async def delete_endpoint(request: Request, caller: Writer, endpoint_id: str) -> Response:
    await services(request).webhooks.delete_endpoint(caller.account_id, endpoint_id)
    return _json(DeletedEndpointResponse(data={}))


@router.post(
    ONE_ENDPOINT + "/rotate-secret",
    operation_id="rotateWebhookSecret",
    summary="Rotate Webhook Secret",
    description="A new signing secret, shown this once; the old one keeps signing beside it "
    "for VOXHUB_WEBHOOK_SECRET_GRACE_SECONDS (a day by default).",
    response_model=RotateSecretResponse,
    responses=error_responses(401, 403, 404, 429),
    openapi_extra={"security": SECURITY},
)
async def rotate_secret(request: Request, caller: Writer, endpoint_id: str) -> Response:
    secret = await services(request).webhooks.rotate_secret(caller.account_id, endpoint_id)
    return _json(RotateSecretResponse(data=RotatedSecret(endpoint_id=endpoint_id, secret=secret)))


@router.get(
    "/v3/webhooks/event-types",
    operation_id="listWebhookEventTypes",
    summary="List Webhook Event Types",
    response_model=EventTypesResponse,
    responses=error_responses(401, 429),
    openapi_extra={"security": SECURITY},
)
async def event_types(caller: Caller) -> Response:
    data = [EventType(event_type=name, description=text) for name, text in EVENT_TYPES.items()]
    return _json(EventTypesResponse(data=data, has_more=False, next_token=None))


@router.get(
    "/v3/webhooks/events",
    operation_id="listWebhookEvents",
    summary="List Webhook Events",
    description="Events sent to your endpoints, newest first, each with its deliveries.",
    response_model=EventListResponse,
    responses=error_responses(400, 401, 429),
    openapi_extra={"security": SECURITY},
)
async def list_events(
    request: Request,
    caller: Caller,
    event_type: Annotated[str | None, Query(description="Only events of this type")] = None,
    entity_id: Annotated[str | None, Query(description="Only events about this entity")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1 to 100")] = 10,
    token: Annotated[str | None, Query(description="next_token of the previous page")] = None,
) -> Response:
    page = await services(request).webhooks.list_events(
        caller.account_id, event_type, entity_id, limit, token or None
    )
    data = [
        Event(
            event_id=event.event_id,
            event_type=event.event_type,
            event_data=_event_data(event.payload),
            created_at=iso(event.created_at),
            deliveries=[
                Delivery(
                    endpoint_id=d.endpoint_id,
                    state=d.state,
                    attempts=d.attempts,
                    last_status_code=d.last_status_code,
                    last_error=d.last_error,
                )
                for d in deliveries
            ],
        )
        for event, deliveries in page.events
    ]
    return _json(
        EventListResponse(
            data=data, has_more=page.next_token is not None, next_token=page.next_token
        )
    )


def _event_data(payload: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(payload)["event_data"]
    return data
