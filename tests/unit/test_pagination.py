from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxhub.errors import InvalidParameter
from voxhub.services.pagination import Cursor, decode_token, encode_token


@given(name=st.text(max_size=200), voice_id=st.text(max_size=40))
def test_tokens_round_trip(name: str, voice_id: str) -> None:
    cursor = Cursor("public", name, voice_id)
    assert decode_token(encode_token(cursor), "public") == cursor


@given(token=st.text(max_size=300))
def test_any_garbage_is_an_invalid_token_never_a_crash(token: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        decode_token(token, "public")
    assert raised.value.param == "token"


@pytest.mark.parametrize(
    "payload",
    [b'{"v":2,"s":"public","n":"a","i":"b"}', b'{"v":1,"s":"public","n":1,"i":"b"}', b"[1]"],
)
def test_well_formed_but_wrong_payloads_are_refused(payload: bytes) -> None:
    token = base64.urlsafe_b64encode(payload).decode()
    with pytest.raises(InvalidParameter):
        decode_token(token, "public")
