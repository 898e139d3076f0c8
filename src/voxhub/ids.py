"""Identifiers.

A voice id is 32 lowercase hexadecimal characters (``[0-9a-f]{32}``), the shape of the hosted
API's ids. Public voices get a stable id derived from their engine and engine voice, so the
same catalog has the same ids on every installation; clones get a random one.

An id a caller sends is only *refused* (400) when it cannot be an id at all: empty, longer than
``ID_MAX_LENGTH`` characters, or holding control characters. Any other string that names nothing
the caller can see is simply not found (404), whatever its form: that is the hosted API's answer,
and it keeps clients that build ids in other shapes working.
"""

from __future__ import annotations

import re
import secrets
import uuid

__all__ = [
    "ID_MAX_LENGTH",
    "ID_PATTERN",
    "VOICE_ID_PATTERN",
    "id_problem",
    "is_voice_id",
    "new_account_id",
    "new_asset_id",
    "new_key_id",
    "new_voice_id",
    "public_voice_id",
]

ID_MAX_LENGTH = 128
# What a caller may send where an id goes: 1-128 characters, none of them a control character.
ID_PATTERN = r"^[^\x00-\x1f\x7f]{1,128}$"
VOICE_ID_PATTERN = r"^[0-9a-f]{32}$"
_VOICE_ID = re.compile(VOICE_ID_PATTERN)
_CATALOG_NAMESPACE = uuid.UUID("6f1c3b52-8d4e-4c1e-9a55-3f0e4c7d2b10")


def is_voice_id(value: str) -> bool:
    return len(value) == 32 and _VOICE_ID.match(value) is not None


def id_problem(value: str, name: str) -> str | None:
    """Why ``value`` cannot be an id at all (a sentence naming ``name``), or None if it can."""
    if not value:
        return f"{name} is empty."
    if len(value) > ID_MAX_LENGTH:
        return f"{name} is longer than {ID_MAX_LENGTH} characters: no id is that long."
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return f"{name} holds control characters: no id does."
    return None


def public_voice_id(engine: str, engine_voice: str) -> str:
    return uuid.uuid5(_CATALOG_NAMESPACE, f"{engine}/{engine_voice}").hex


def new_voice_id() -> str:
    return uuid.uuid4().hex


def new_account_id() -> str:
    return uuid.uuid4().hex


def new_key_id() -> str:
    return secrets.token_hex(8)


def new_asset_id() -> str:
    """A random asset id, in the same form as a voice id (32 lowercase hex characters)."""
    return new_voice_id()
