"""Webhook endpoint secrets, sealed at rest.

voxhub must sign with each endpoint's secret, so it keeps the secret itself, not a hash. Stored
plain, a database dump (a backup, a replica, a read-only leak) would be enough to forge
deliveries to every receiver. The secrets are therefore sealed with AES-256-GCM under a key the
database does not hold: derived with HKDF-SHA256 from the operator's ``VOXHUB_WEBHOOK_KEY``, or
else from the file-signing secret. Sealing is authenticated, so a changed text or the wrong key
is refused rather than read as a wrong secret.

A sealed secret is ASCII, ``v1.`` and the URL-safe base64 (no padding) of a random 12-byte nonce
and the ciphertext with its tag. Changing the key material makes every sealed secret unreadable.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SecretBox", "SecretUnreadable", "new_endpoint_secret"]

SECRET_PREFIX = "whsec_"  # noqa: S105 - a public marker, not a secret
_INFO = b"voxhub webhook endpoint secrets"
_VERSION = "v1."
_NONCE_BYTES = 12
_TAG_BYTES = 16


class SecretUnreadable(ValueError):
    """A sealed secret that this key cannot open: the key changed, or the text was altered."""


def new_endpoint_secret() -> str:
    """A new endpoint secret: ``whsec_`` and 32 random bytes in URL-safe base64."""
    return SECRET_PREFIX + _encode(secrets.token_bytes(32))


class SecretBox:
    """Seals and opens endpoint secrets under a key derived from ``key_material``."""

    def __init__(self, key_material: bytes) -> None:
        if not key_material:
            raise ValueError("webhook secret key material is empty")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key_material)
        self._aead = AESGCM(key)

    def seal(self, plain: str) -> str:
        """``plain`` encrypted and authenticated, as ASCII text for a TEXT column."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode("utf-8"), _VERSION.encode())
        return _VERSION + _encode(nonce + sealed)

    def open(self, sealed: str) -> str:
        """The secret ``seal`` was given; :class:`SecretUnreadable` if this key cannot open it."""
        if not sealed.startswith(_VERSION):
            raise SecretUnreadable("not a sealed webhook secret (no v1. prefix)")
        try:
            raw = _decode(sealed[len(_VERSION) :])
        except (ValueError, binascii.Error) as error:
            raise SecretUnreadable("a sealed webhook secret is not valid base64") from error
        if len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise SecretUnreadable("a sealed webhook secret is too short: it was cut off")
        nonce, sealed_bytes = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        try:
            plain = self._aead.decrypt(nonce, sealed_bytes, _VERSION.encode())
        except InvalidTag as error:
            raise SecretUnreadable(
                "a sealed webhook secret does not open with this key: VOXHUB_WEBHOOK_KEY (or the"
                " file-signing secret it defaults to) changed since it was sealed, or the stored"
                " text was altered"
            ) from error
        return plain.decode("utf-8")


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not ASCII")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
