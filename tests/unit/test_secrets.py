"""SecretBox: endpoint secrets sealed at rest; new_endpoint_secret."""

from __future__ import annotations

import base64
import re

import pytest

from voxhub.services.secrets import SecretBox, SecretUnreadable, new_endpoint_secret

KEY = b"operator webhook key, 32+ bytes of it...."


def test_a_sealed_secret_opens_to_the_original() -> None:
    box = SecretBox(KEY)
    for plain in ("whsec_abc", new_endpoint_secret(), "ünïcode ✓", ""):
        sealed = box.seal(plain)
        assert sealed.isascii()
        assert sealed.isprintable()
        assert box.open(sealed) == plain


def test_the_sealed_text_does_not_contain_the_secret() -> None:
    secret = new_endpoint_secret()
    sealed = SecretBox(KEY).seal(secret)
    assert secret not in sealed
    assert secret[len("whsec_") :] not in sealed


def test_another_box_with_the_same_key_opens_it() -> None:
    sealed = SecretBox(KEY).seal("whsec_abc")
    assert SecretBox(bytes(KEY)).open(sealed) == "whsec_abc"


def test_a_different_key_cannot_open() -> None:
    sealed = SecretBox(KEY).seal("whsec_abc")
    with pytest.raises(SecretUnreadable, match="does not open with this key"):
        SecretBox(KEY + b"!").open(sealed)


def flip(sealed: str, index: int) -> str:
    prefix, body = sealed.split(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[index] ^= 0x01
    return prefix + "." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


@pytest.mark.parametrize("index", [0, 12, -1])  # the nonce, the ciphertext, the tag
def test_tampered_text_is_refused(index: int) -> None:
    box = SecretBox(KEY)
    sealed = box.seal("whsec_abc")
    with pytest.raises(SecretUnreadable):
        box.open(flip(sealed, index))


@pytest.mark.parametrize(
    "text",
    ["", "whsec_abc", "v2.AAAA", "v1.", "v1.AAAA", "v1.!!!not base64!!!", "v1.ééé"],
)
def test_text_that_is_not_a_sealed_secret_is_refused(text: str) -> None:
    with pytest.raises(SecretUnreadable):
        SecretBox(KEY).open(text)


def test_a_truncated_seal_is_refused() -> None:
    box = SecretBox(KEY)
    sealed = box.seal("whsec_abc")
    with pytest.raises(SecretUnreadable):
        box.open(sealed[:-4])


def test_secret_unreadable_is_a_value_error() -> None:
    assert issubclass(SecretUnreadable, ValueError)


def test_two_seals_of_the_same_secret_differ() -> None:
    box = SecretBox(KEY)
    first, second = box.seal("whsec_abc"), box.seal("whsec_abc")
    assert first != second
    assert box.open(first) == box.open(second) == "whsec_abc"


def test_empty_key_material_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        SecretBox(b"")


def test_new_secrets_are_unique_and_long_enough() -> None:
    made = {new_endpoint_secret() for _ in range(200)}
    assert len(made) == 200
    for secret in made:
        assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", secret), secret
        body = secret[len("whsec_") :]
        assert len(base64.urlsafe_b64decode(body + "=")) == 32
