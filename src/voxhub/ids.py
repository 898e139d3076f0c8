"""Identifiers.

A voice id is 32 lowercase hexadecimal characters (``[0-9a-f]{32}``), the shape of the hosted
API's ids. Public voices get a stable id derived from their engine and engine voice, so the
same catalog has the same ids on every installation; clones get a random one.
"""

from __future__ import annotations

import re
import secrets
import uuid

__all__ = [
    "VOICE_ID_PATTERN",
    "is_voice_id",
    "new_account_id",
    "new_asset_id",
    "new_key_id",
    "new_voice_id",
    "public_voice_id",
]

VOICE_ID_PATTERN = r"^[0-9a-f]{32}$"
_VOICE_ID = re.compile(VOICE_ID_PATTERN)
_CATALOG_NAMESPACE = uuid.UUID("6f1c3b52-8d4e-4c1e-9a55-3f0e4c7d2b10")


def is_voice_id(value: str) -> bool:
    return len(value) == 32 and _VOICE_ID.match(value) is not None


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
