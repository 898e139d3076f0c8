"""Webhooks: endpoints an account registers, the events its clones set off, signed deliveries.

An event is written in the same transaction as the clone outcome it reports (the store's
``settle_voice`` with an ``Outbox``), together with one delivery — and one job — for each of
the account's enabled endpoints that takes its type; a crash between the outcome and the
delivery loses nothing. A delivery job POSTs the event with voxhub's signature headers to an
address the URL guard allows (checked again at every attempt; redirects are never followed),
within a short timeout. A 2xx answer delivers it; anything else is tried again with exponential
backoff and jitter, up to ``max_attempts``; an endpoint whose attempts keep failing is
disabled (``disable_after`` in a row) until a PATCH enables it. Deliveries are at least once
(the event id is stable for de-duplication) and in no promised order.

Secrets are sealed with a key the database does not hold (``services/secrets.py``) and shown
only on create and rotate; after a rotation both secrets sign for a grace period.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from voxhub.domain import (
    USER_PRIORITY,
    Job,
    Outbox,
    Voice,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from voxhub.errors import DownloadFailed, InvalidParameter, NotFound, ResourceLimitExceeded
from voxhub.ids import new_voice_id
from voxhub.jobs import RetryLater
from voxhub.services.fetch import UrlFetcher
from voxhub.services.pagination import Cursor, decode_token, encode_token
from voxhub.services.secrets import SecretBox, new_endpoint_secret
from voxhub.services.voices import voice_detail_data
from voxhub.store import Store
from voxhub.store.base import subscribed
from voxhub.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header

__all__ = [
    "EVENT_TYPES",
    "VOICE_CLONE_FAIL",
    "VOICE_CLONE_SUCCESS",
    "WEBHOOK_JOB",
    "EventPage",
    "WebhookLimits",
    "WebhookService",
    "endpoint_view",
    "iso",
]

WEBHOOK_JOB = "webhook"
VOICE_CLONE_SUCCESS = "voice_clone.success"
VOICE_CLONE_FAIL = "voice_clone.fail"
_HOSTED = (
    "avatar_video", "avatar_video_gif", "video_translate", "instant_avatar",
    "photo_avatar_generation", "photo_avatar_train", "photo_avatar_add_motion",
    "proofread_creation", "live_avatar", "avatar_video_caption", "video_agent",
    "hyperframes_video", "ai_clipping",
)  # fmt: skip
_NEVER = "Accepted for compatibility with the hosted API; voxhub never sends it."
# Every type an endpoint may subscribe to: voxhub's own, then the hosted API's (accepted so
# that a hosted client's set-up calls succeed; voxhub does not emit them).
EVENT_TYPES: dict[str, str] = {
    VOICE_CLONE_SUCCESS: "A voice clone finished: its voice is complete (event_data is the "
    "voice as Get Voice shows it).",
    VOICE_CLONE_FAIL: "A voice clone failed: event_data is the voice as Get Voice shows it, "
    "with failure_message saying what to fix.",
    **{f"{name}.{end}": _NEVER for name in _HOSTED for end in ("success", "fail")},
    "video_translate.preflight.validation_failed": _NEVER,
    "video_translate.preflight.download_failed": _NEVER,
    "personalized_video": _NEVER,
    "batch.finished": _NEVER,
}
_MAX_URL = 2048


@dataclass(frozen=True, slots=True)
class WebhookLimits:
    endpoints_per_account: int = 20
    max_attempts: int = 10  # with the backoff below: about an hour and a half in all
    retry_base_seconds: float = 10.0  # 10 s, 20 s, 40 s, … doubled, ±20 % jitter
    retry_cap_seconds: float = 3600.0
    disable_after: int = 30  # failed attempts in a row (about three events given up)
    rotation_grace_seconds: int = 86400
    response_prefix_bytes: int = 512


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[tuple[WebhookEvent, list[WebhookDelivery]]]
    next_token: str | None


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


class WebhookService:
    def __init__(
        self,
        store: Store,
        box: SecretBox,
        fetcher: UrlFetcher,
        preview_link: Callable[[str], str | None],
        limits: WebhookLimits = WebhookLimits(),
    ) -> None:
        self._store = store
        self._box = box
        self._fetcher = fetcher
        self._preview_link = preview_link
        self._limits = limits
        self.max_attempts = limits.max_attempts

    # --- endpoints ---------------------------------------------------------------------

    async def create_endpoint(
        self, account_id: str, url: str, events: Sequence[str] | None
    ) -> tuple[WebhookEndpoint, str]:
        """A new endpoint and its secret (shown this once)."""
        await self._check_url(url)
        listed = _event_list(events)
        mine = await self._store.list_webhook_endpoints(
            account_id, None, self._limits.endpoints_per_account
        )
        if len(mine) >= self._limits.endpoints_per_account:
            raise ResourceLimitExceeded(
                f"This account has {self._limits.endpoints_per_account} webhook endpoints, the "
                "most it may have. Delete one to add another."
            )
        secret = new_endpoint_secret()
        now = int(time.time())
        endpoint = WebhookEndpoint(
            endpoint_id=new_voice_id(), account_id=account_id, url=url, events=listed,
            status="enabled", secret=self._box.seal(secret), previous_secret=None,
            previous_secret_until=None, failures=0, created_at=now, updated_at=now,
        )  # fmt: skip
        await self._store.insert_webhook_endpoint(endpoint)
        return endpoint, secret

    async def get_endpoint(self, account_id: str, endpoint_id: str) -> WebhookEndpoint:
        found = await self._store.get_webhook_endpoint(endpoint_id, account_id)
        if found is None:
            raise NotFound("Webhook endpoint not found.")
        return found

    async def list_endpoints(
        self, account_id: str, limit: int, token: str | None
    ) -> tuple[list[WebhookEndpoint], str | None]:
        after = None
        if token:
            cursor = decode_token(token, "webhook_endpoints")
            after = (int(cursor.name), cursor.voice_id)
        found = await self._store.list_webhook_endpoints(account_id, after, limit + 1)
        page = found[:limit]
        more = len(found) > limit
        last = page[-1] if page else None
        next_token = (
            encode_token(Cursor("webhook_endpoints", str(last.created_at), last.endpoint_id))
            if more and last
            else None
        )
        return page, next_token

    async def update_endpoint(
        self,
        account_id: str,
        endpoint_id: str,
        url: str | None = None,
        events: Sequence[str] | None = None,
        events_given: bool = False,
        status: str | None = None,
    ) -> WebhookEndpoint:
        """Change the URL, the event list (replaced whole) or the status; enabling an endpoint
        forgets its failures."""
        endpoint = await self.get_endpoint(account_id, endpoint_id)
        if url is not None:
            await self._check_url(url)
            endpoint = replace(endpoint, url=url)
        if events_given:
            endpoint = replace(endpoint, events=_event_list(events))
        if status is not None:
            failures = 0 if status == "enabled" else endpoint.failures
            endpoint = replace(endpoint, status=status, failures=failures)
        endpoint = replace(endpoint, updated_at=int(time.time()))
        if not await self._store.update_webhook_endpoint(endpoint):
            raise NotFound("Webhook endpoint not found.")
        return endpoint

    async def delete_endpoint(self, account_id: str, endpoint_id: str) -> None:
        if not await self._store.delete_webhook_endpoint(endpoint_id, account_id):
            raise NotFound("Webhook endpoint not found.")

    async def rotate_secret(self, account_id: str, endpoint_id: str) -> str:
        """A new secret; the old one keeps signing (beside it) for the grace period."""
        endpoint = await self.get_endpoint(account_id, endpoint_id)
        secret = new_endpoint_secret()
        now = time.time()
        rotated = replace(
            endpoint, secret=self._box.seal(secret), previous_secret=endpoint.secret,
            previous_secret_until=int((now + self._limits.rotation_grace_seconds) * 1000),
            updated_at=int(now),
        )  # fmt: skip
        if not await self._store.update_webhook_endpoint(rotated):
            raise NotFound("Webhook endpoint not found.")
        return secret

    async def _check_url(self, url: str) -> None:
        if len(url) > _MAX_URL:
            raise InvalidParameter(f"url is longer than {_MAX_URL} characters.", param="url")
        try:
            await self._fetcher.check(url)
        except DownloadFailed as exc:  # e.g. a host that does not resolve
            raise InvalidParameter(exc.message, param="url") from exc

    # --- events ------------------------------------------------------------------------

    async def list_events(
        self,
        account_id: str,
        event_type: str | None,
        entity_id: str | None,
        limit: int,
        token: str | None,
    ) -> EventPage:
        before = None
        if token:
            cursor = decode_token(token, "webhook_events")
            before = (int(cursor.name), cursor.voice_id)
        found = await self._store.list_webhook_events(
            account_id, event_type or None, entity_id or None, before, limit + 1
        )
        page = found[:limit]
        events = [(e, await self._store.deliveries_of_webhook_event(e.event_id)) for e in page]
        last = page[-1] if page else None
        next_token = (
            encode_token(Cursor("webhook_events", str(last.created_at), last.event_id))
            if len(found) > limit and last
            else None
        )
        return EventPage(events, next_token)

    def clone_outbox(self, voice: Voice) -> Outbox | None:
        """The event a clone's outcome sets off, and its deliveries (for the store to write in
        the outcome's transaction)."""
        if voice.account_id is None or voice.status not in ("complete", "failed"):
            return None
        event_type = VOICE_CLONE_SUCCESS if voice.status == "complete" else VOICE_CLONE_FAIL
        preview = self._preview_link(voice.preview_key) if voice.preview_key else None
        body = {"event_type": event_type, "event_data": voice_detail_data(voice, preview)}
        now = time.time()
        event = WebhookEvent(
            event_id=_event_id(voice.voice_id, event_type), account_id=voice.account_id,
            event_type=event_type, entity_id=voice.voice_id,
            payload=json.dumps(body, separators=(",", ":")), created_at=int(now),
        )  # fmt: skip

        def deliveries(endpoints: list[WebhookEndpoint]) -> list[tuple[WebhookDelivery, Job]]:
            return [_delivery(event, e, now) for e in endpoints if subscribed(e, event_type)]

        return Outbox(event, deliveries)

    # --- delivering (the job handler: voxhub.jobs.worker) ------------------------------

    async def run(self, job: Job) -> str | None:
        delivery = await self._store.get_webhook_delivery(job.subject_id or "")
        if delivery is None or delivery.state != "pending":
            return None
        endpoint = await self._store.get_webhook_endpoint(delivery.endpoint_id, None)
        event = await self._store.get_webhook_event(delivery.event_id)
        if endpoint is None or event is None:
            return await self._end(delivery, job, "failed", error="The endpoint was deleted.")
        if endpoint.status != "enabled":
            return await self._end(delivery, job, "failed", error="The endpoint is disabled.")
        status, answer, error = await self._post(endpoint, event)
        ok = status is not None and 200 <= status < 300
        await self._store.note_webhook_attempt(
            endpoint.endpoint_id, ok, self._limits.disable_after, int(time.time())
        )
        if ok:
            return await self._end(delivery, job, "delivered", status, None, answer)
        if job.attempts >= self._limits.max_attempts:
            return await self._end(delivery, job, "failed", status, error, answer)
        await self._end(delivery, job, "pending", status, error, answer)
        raise RetryLater(self._backoff(job.attempts), error or "no answer")

    async def abandon(self, job: Job, reason: str) -> None:
        delivery = await self._store.get_webhook_delivery(job.subject_id or "")
        if delivery is not None and delivery.state == "pending":
            await self._end(delivery, job, "failed", error=f"Given up: {reason}.")

    async def _post(
        self, endpoint: WebhookEndpoint, event: WebhookEvent
    ) -> tuple[int | None, str | None, str | None]:
        """The answer's status and first bytes, or why there was none."""
        body = event.payload.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "voxhub-webhooks",
            EVENT_ID_HEADER: event.event_id,
            TIMESTAMP_HEADER: str(int(time.time())),
            SIGNATURE_HEADER: signature_header(body, self._secrets(endpoint)),
        }
        try:
            status, answer = await self._fetcher.post(
                endpoint.url, body, headers, self._limits.response_prefix_bytes
            )
        except (DownloadFailed, InvalidParameter) as exc:
            return None, None, exc.message
        text = answer.decode("utf-8", "replace")
        error = None if 200 <= status < 300 else f"The endpoint answered HTTP {status}."
        return status, text, error

    def _secrets(self, endpoint: WebhookEndpoint) -> list[str]:
        secrets = [self._box.open(endpoint.secret)]
        until = endpoint.previous_secret_until or 0
        if endpoint.previous_secret and until > time.time() * 1000:
            secrets.append(self._box.open(endpoint.previous_secret))
        return secrets

    def _backoff(self, attempts: int) -> float:
        delay = self._limits.retry_base_seconds * 2.0 ** max(0, attempts - 1)
        return min(self._limits.retry_cap_seconds, delay) * random.uniform(0.8, 1.2)  # noqa: S311

    async def _end(
        self,
        delivery: WebhookDelivery,
        job: Job,
        state: str,
        status: int | None = None,
        error: str | None = None,
        answer: str | None = None,
    ) -> str | None:
        ended = replace(
            delivery, state=state, attempts=job.attempts, last_status_code=status,
            last_error=error, response_prefix=answer, updated_at=int(time.time()),
        )  # fmt: skip
        await self._store.record_webhook_delivery(ended)
        return error if state == "failed" else None


def _event_id(voice_id: str, event_type: str) -> str:
    """Stable for the outcome it reports: a repeated settle would make the same event."""
    return hashlib.sha256(f"{event_type}\n{voice_id}".encode()).hexdigest()[:32]


def _delivery(
    event: WebhookEvent, endpoint: WebhookEndpoint, now: float
) -> tuple[WebhookDelivery, Job]:
    delivery_id = new_voice_id()
    delivery = WebhookDelivery(
        delivery_id=delivery_id, event_id=event.event_id, endpoint_id=endpoint.endpoint_id,
        account_id=event.account_id, created_at=int(now), updated_at=int(now),
    )  # fmt: skip
    job = Job(
        job_id=delivery_id, kind=WEBHOOK_JOB, subject_id=delivery_id,
        account_id=event.account_id, payload="{}", created_at=int(now * 1000),
        priority=USER_PRIORITY,
    )  # fmt: skip
    return delivery, job


def _event_list(events: Sequence[str] | None) -> str | None:
    if events is None:
        return None
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise InvalidParameter(
            f"Unknown event types: {', '.join(unknown)}. GET /v3/webhooks/event-types lists them.",
            param="events",
        )
    return json.dumps(sorted(set(events)))


def endpoint_view(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    """An endpoint as the API shows it (``secret`` only on create and rotate)."""
    return {
        "endpoint_id": endpoint.endpoint_id,
        "url": endpoint.url,
        "events": json.loads(endpoint.events) if endpoint.events is not None else None,
        "status": endpoint.status,
        "created_at": iso(endpoint.created_at),
        "secret": secret,
    }
