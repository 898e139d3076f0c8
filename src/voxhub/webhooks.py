"""Signing and verifying webhook deliveries, for receivers and for voxhub itself.

A delivery is an HTTP POST whose raw body is JSON ``{"event_type": ..., "event_data": {...}}``
with three headers:

    Heygen-Event-Id    the event's stable id (the same on every retry: use it to skip repeats)
    Heygen-Timestamp   when it was sent, in unix seconds (an integer, as a string)
    Heygen-Signature   lowercase hex HMAC-SHA256 of the raw body, keyed by the endpoint secret

During the grace period after a secret rotation the signature header carries two signatures,
the new secret's first, then the old one's: ``"<hex new>,<hex old>"``. A receiver holding
either secret verifies, so it can switch secrets at any time within the period.

The module needs only the standard library, so a receiver can copy it or import it. Verify the
*raw* body, the bytes exactly as they arrived: a body parsed and serialised again differs by a
space or a key order and no longer matches. With any framework::

    from voxhub.webhooks import WebhookVerificationError, verify

    SECRET = "whsec_..."  # shown once, when the endpoint was created or its secret rotated

    def receive(raw_body: bytes, headers) -> int:  # e.g. await request.body(), request.headers
        try:
            event = verify(raw_body, headers, SECRET)
        except WebhookVerificationError as error:
            log.warning("webhook refused: %s", error)
            return 400
        if already_seen(headers["Heygen-Event-Id"]):
            return 200
        handle(event["event_type"], event["event_data"])
        return 200

The signature covers the body only, so the timestamp check (five minutes either way by
default) bounds how late a delivery may arrive; skipping event ids already handled is what
makes a replayed delivery harmless.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookVerificationError",
    "sign",
    "signature_header",
    "verify",
]

SIGNATURE_HEADER = "Heygen-Signature"
TIMESTAMP_HEADER = "Heygen-Timestamp"
EVENT_ID_HEADER = "Heygen-Event-Id"

DEFAULT_TOLERANCE = 300
_INTEGER = re.compile(r"[0-9]+")


class WebhookVerificationError(ValueError):
    """The delivery did not verify: answer it with a 4xx and do not act on it."""


def sign(body: bytes, secret: str) -> str:
    """The lowercase hex HMAC-SHA256 of ``body`` keyed by ``secret`` (its UTF-8 bytes)."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secrets: Sequence[str]) -> str:
    """The ``Heygen-Signature`` value: one signature per secret, newest first, joined by ``,``."""
    if isinstance(secrets, str):
        raise TypeError("secrets must be a sequence of secrets, not one string")
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    return ",".join(sign(body, secret) for secret in secrets)


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """The event of a delivery whose signature and timestamp check out.

    ``body`` is the raw request body (a ``str`` is encoded as UTF-8); ``headers`` any mapping of
    the request headers, looked up without regard to case. The timestamp must be within
    ``tolerance`` seconds of ``now`` (default: the current time) in either direction, and one
    of the comma-separated signatures must be this secret's. Raises
    :class:`WebhookVerificationError` saying what was wrong otherwise.
    """
    if not secret:
        raise ValueError("the endpoint secret is empty: pass the secret voxhub showed you")
    if tolerance < 0:
        raise ValueError("tolerance must be zero or more seconds")
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)

    signatures = _header(headers, SIGNATURE_HEADER)
    if signatures is None:
        raise WebhookVerificationError(f"the {SIGNATURE_HEADER} header is missing")
    stamp = _header(headers, TIMESTAMP_HEADER)
    if stamp is None:
        raise WebhookVerificationError(f"the {TIMESTAMP_HEADER} header is missing")

    _check_timestamp(stamp, time.time() if now is None else now, tolerance)

    expected = sign(raw, secret).encode("ascii")
    candidates = [part.strip().lower() for part in signatures.split(",")]
    matched = False
    for candidate in candidates:
        # Every candidate is compared, so the time taken does not tell which one matched.
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8"))
    if not matched:
        raise WebhookVerificationError(
            f"no signature in the {SIGNATURE_HEADER} header matches this secret and body "
            f"({len(candidates)} given): check the secret, and verify the raw body as received, "
            "not a parsed and re-serialised one"
        )

    try:
        event = json.loads(raw)
    except ValueError as error:
        raise WebhookVerificationError(f"the signed body is not valid JSON: {error}") from error
    if not isinstance(event, dict):
        raise WebhookVerificationError("the signed body is JSON but not an object")
    return event


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, item in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return item
    return None


def _check_timestamp(stamp: str, now: float, tolerance: int) -> None:
    text = stamp.strip()
    if not _INTEGER.fullmatch(text):
        raise WebhookVerificationError(
            f"the {TIMESTAMP_HEADER} header {stamp!r} is not an integer number of unix seconds"
        )
    age = now - int(text)
    if age > tolerance:
        raise WebhookVerificationError(
            f"the {TIMESTAMP_HEADER} {text} is {age:.0f} seconds old, more than the "
            f"{tolerance} allowed: a delayed or replayed delivery, or a clock out of step"
        )
    if -age > tolerance:
        raise WebhookVerificationError(
            f"the {TIMESTAMP_HEADER} {text} is {-age:.0f} seconds in the future, more than the "
            f"{tolerance} allowed: check this machine's clock"
        )
