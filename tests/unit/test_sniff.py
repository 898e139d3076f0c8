"""Audio types come from the bytes: every accepted format is recognised, nothing else is."""

from __future__ import annotations

import pytest

from tests.audio_fixtures import PNG_HEADER, encoded
from voxhub.audio.sniff import AUDIO_TYPES, sniff_audio
from voxhub.storage.layout import MEDIA_TYPES

EXPECTED = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "webm": "audio/webm",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
}


@pytest.mark.parametrize(("name", "media_type"), EXPECTED.items())
def test_each_accepted_format_is_recognised(name: str, media_type: str) -> None:
    sniffed = sniff_audio(encoded(name)[:64])
    assert sniffed is not None
    assert sniffed.media_type == media_type


@pytest.mark.parametrize(
    "head",
    [
        PNG_HEADER,
        b"",
        b"\xff",
        b"RIFF\x00\x00\x00\x00AVI ",
        b"%PDF-1.7\n",
        b"<speak>hello</speak>",
        b"\xff\xff\xff\xff",  # sync bits but no valid MPEG header
        b"\x00" * 64,
    ],
)
def test_other_bytes_are_not_audio(head: bytes) -> None:
    assert sniff_audio(head) is None


def test_every_sniffed_type_is_stored_with_its_media_type() -> None:
    assert {kind.extension: kind.media_type for kind in AUDIO_TYPES.values()} == MEDIA_TYPES
