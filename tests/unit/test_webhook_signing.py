"""voxhub.webhooks: signatures as receivers check them, rotation, timestamps, headers."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

import pytest

from voxhub.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    sign,
    signature_header,
    verify,
)

NOW = 1_700_000_000
SECRET = "whsec_new"
OLD_SECRET = "whsec_old"
EVENT = {"event_type": "avatar_video.success", "event_data": {"voice_id": "v1", "n": 1}}
BODY = json.dumps(EVENT, separators=(",", ":")).encode()


def independent(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(signature: str, timestamp: int | str = NOW) -> dict[str, str]:
    return {
        SIGNATURE_HEADER: signature,
        TIMESTAMP_HEADER: str(timestamp),
        EVENT_ID_HEADER: "evt_1",
    }


def test_sign_is_lowercase_hex_hmac_sha256_of_the_body() -> None:
    assert sign(BODY, SECRET) == independent(BODY, SECRET)
    assert sign(BODY, "sécret") == independent(BODY, "sécret")
    assert len(sign(BODY, SECRET)) == 64
    assert sign(BODY, SECRET) == sign(BODY, SECRET).lower()


def test_an_independently_computed_signature_verifies_and_returns_the_event() -> None:
    event = verify(BODY, headers(independent(BODY, SECRET)), SECRET, now=NOW)
    assert event == EVENT


def test_a_changed_byte_fails() -> None:
    signature = independent(BODY, SECRET)
    tampered = BODY.replace(b'"n":1', b'"n":2')
    assert tampered != BODY
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(tampered, headers(signature), SECRET, now=NOW)


def test_a_changed_signature_character_fails() -> None:
    signature = independent(BODY, SECRET)
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    with pytest.raises(WebhookVerificationError):
        verify(BODY, headers(flipped), SECRET, now=NOW)


def test_the_wrong_secret_fails() -> None:
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(BODY, headers(sign(BODY, SECRET)), "whsec_other", now=NOW)


def test_signature_header_lists_the_new_secret_first() -> None:
    value = signature_header(BODY, [SECRET, OLD_SECRET])
    assert value == f"{independent(BODY, SECRET)},{independent(BODY, OLD_SECRET)}"
    assert signature_header(BODY, [SECRET]) == independent(BODY, SECRET)


def test_signature_header_refuses_no_secret_or_a_bare_string() -> None:
    with pytest.raises(ValueError, match="at least one"):
        signature_header(BODY, [])
    with pytest.raises(TypeError):
        signature_header(BODY, SECRET)


def test_both_signatures_verify_with_either_secret_and_not_a_third() -> None:
    both = headers(signature_header(BODY, [SECRET, OLD_SECRET]))
    assert verify(BODY, both, SECRET, now=NOW) == EVENT
    assert verify(BODY, both, OLD_SECRET, now=NOW) == EVENT
    with pytest.raises(WebhookVerificationError, match="2 given"):
        verify(BODY, both, "whsec_third", now=NOW)


def test_spaces_around_signatures_and_upper_case_hex_are_accepted() -> None:
    spaced = f" {independent(BODY, SECRET).upper()} , {independent(BODY, OLD_SECRET)} "
    assert verify(BODY, headers(spaced), OLD_SECRET, now=NOW) == EVENT
    assert verify(BODY, headers(spaced), SECRET, now=NOW) == EVENT


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_header_names_are_found_in_any_case(case: Callable[[str], str]) -> None:
    cased = {case(name): value for name, value in headers(sign(BODY, SECRET)).items()}
    assert SIGNATURE_HEADER not in cased
    assert verify(BODY, cased, SECRET, now=NOW) == EVENT


def test_a_signature_header_of_garbage_fails_cleanly() -> None:
    for garbage in ("", ",", "zz", "é,ü", "sha256=" + sign(BODY, SECRET)):
        with pytest.raises(WebhookVerificationError, match="no signature"):
            verify(BODY, headers(garbage), SECRET, now=NOW)


def test_a_case_insensitive_mapping_is_used_directly() -> None:
    class Headers(dict[str, str]):
        """Like Starlette's: lookup ignores case, but items() has lowercase names only."""

        def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
            return super().get(key.lower(), default)

    lowered = Headers({k.lower(): v for k, v in headers(sign(BODY, SECRET)).items()})
    assert verify(BODY, lowered, SECRET, now=NOW) == EVENT


def test_a_timestamp_301_seconds_old_fails_naming_the_timestamp() -> None:
    with pytest.raises(WebhookVerificationError) as caught:
        verify(BODY, headers(sign(BODY, SECRET), NOW - 301), SECRET, now=NOW)
    message = str(caught.value)
    assert TIMESTAMP_HEADER in message
    assert str(NOW - 301) in message
    assert "301 seconds old" in message


def test_a_timestamp_299_seconds_old_passes() -> None:
    assert verify(BODY, headers(sign(BODY, SECRET), NOW - 299), SECRET, now=NOW) == EVENT


def test_the_tolerance_is_adjustable() -> None:
    old = headers(sign(BODY, SECRET), NOW - 301)
    assert verify(BODY, old, SECRET, tolerance=600, now=NOW) == EVENT
    with pytest.raises(WebhookVerificationError, match="old"):
        verify(BODY, headers(sign(BODY, SECRET), NOW - 11), SECRET, tolerance=10, now=NOW)


def test_a_timestamp_in_the_future_beyond_tolerance_fails() -> None:
    with pytest.raises(WebhookVerificationError, match="in the future") as caught:
        verify(BODY, headers(sign(BODY, SECRET), NOW + 301), SECRET, now=NOW)
    assert TIMESTAMP_HEADER in str(caught.value)
    assert verify(BODY, headers(sign(BODY, SECRET), NOW + 299), SECRET, now=NOW) == EVENT


def test_now_defaults_to_the_clock() -> None:
    import time

    fresh = headers(sign(BODY, SECRET), int(time.time()))
    assert verify(BODY, fresh, SECRET) == EVENT
    with pytest.raises(WebhookVerificationError, match="old"):
        verify(BODY, headers(sign(BODY, SECRET), NOW), SECRET)


@pytest.mark.parametrize("missing", [SIGNATURE_HEADER, TIMESTAMP_HEADER])
def test_a_missing_header_fails_naming_it(missing: str) -> None:
    given = headers(sign(BODY, SECRET))
    del given[missing]
    with pytest.raises(WebhookVerificationError, match=f"{missing} header is missing"):
        verify(BODY, given, SECRET, now=NOW)


@pytest.mark.parametrize("stamp", ["", "abc", "1700000000.5", "-1700000000", "1_700_000_000"])
def test_a_timestamp_that_is_not_an_integer_fails(stamp: str) -> None:
    with pytest.raises(WebhookVerificationError, match="not an integer") as caught:
        verify(BODY, headers(sign(BODY, SECRET), stamp), SECRET, now=NOW)
    assert TIMESTAMP_HEADER in str(caught.value)


def test_a_str_body_is_encoded_as_utf8() -> None:
    event = {"event_type": "voice.created", "event_data": {"name": "Zoë ✓"}}
    raw = json.dumps(event, ensure_ascii=False).encode("utf-8")
    assert verify(raw.decode("utf-8"), headers(sign(raw, SECRET)), SECRET, now=NOW) == event
    assert verify(raw, headers(sign(raw, SECRET)), SECRET, now=NOW) == event


def test_a_signed_body_that_is_not_a_json_object_fails() -> None:
    for raw in (b"not json", b"[1, 2]"):
        with pytest.raises(WebhookVerificationError, match="JSON"):
            verify(raw, headers(sign(raw, SECRET)), SECRET, now=NOW)


def test_an_empty_secret_is_a_configuration_error_not_a_bad_delivery() -> None:
    with pytest.raises(ValueError, match="secret is empty") as caught:
        verify(BODY, headers(sign(BODY, "")), "", now=NOW)
    assert not isinstance(caught.value, WebhookVerificationError)
