"""Opaque list cursors: base64url of a small JSON object naming the last item seen."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from voxhub.errors import InvalidParameter

__all__ = ["Cursor", "decode_token", "encode_token"]

_VERSION = 1
_MAX_TOKEN_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class Cursor:
    scope: str  # "public" | "private": a token only continues the listing it came from
    name: str
    voice_id: str


def encode_token(cursor: Cursor) -> str:
    payload = {"v": _VERSION, "s": cursor.scope, "n": cursor.name, "i": cursor.voice_id}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, scope: str) -> Cursor:
    invalid = InvalidParameter("The token is not a next_token of this listing.", param="token")
    if len(token) > _MAX_TOKEN_LENGTH:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        cursor = Cursor(scope=payload["s"], name=payload["n"], voice_id=payload["i"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise invalid from exc
    if payload.get("v") != _VERSION or cursor.scope != scope:
        raise invalid
    if not isinstance(cursor.name, str) or not isinstance(cursor.voice_id, str):
        raise invalid
    return cursor
