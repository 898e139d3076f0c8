"""Audio types come from the bytes: every accepted format is recognised, nothing else is."""

from __future__ import annotations

import pytest

from tests.audio_fixtures import PNG_HEADER, encoded, tone, video
from voxhub.audio.sniff import AUDIO_TYPES, VIDEO_TYPES, refused_document, sniff_audio, sniff_media
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
    # A WebM is served as audio, whatever it holds: only its sound is used.
    videos = {kind.extension: kind.media_type for kind in VIDEO_TYPES.values()}
    audio = {kind.extension: kind.media_type for kind in AUDIO_TYPES.values()}
    assert {**videos, **audio} == MEDIA_TYPES


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("mp4", "video/mp4"), ("mov", "video/quicktime"), ("webm", "video/webm")],
)
def test_a_video_is_a_video_with_sound_or_without(name: str, media_type: str) -> None:
    with_sound = sniff_media(video(name, tone(0.5, 16000)))
    silent = sniff_media(video(name))
    assert with_sound is not None
    assert silent is not None
    assert (with_sound.media_type, with_sound.kind) == (media_type, "video")
    assert silent.media_type == media_type


@pytest.mark.parametrize("name", ["m4a", "webm"])
def test_sound_alone_in_a_video_container_is_audio(name: str) -> None:
    sniffed = sniff_media(encoded(name))
    assert sniffed is not None
    assert sniffed.kind == "audio"


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (PNG_HEADER, "a PNG image"),
        (b"\xff\xd8\xff\xe0" + bytes(60), "a JPEG image"),
        (b"GIF89a" + bytes(58), "a GIF image"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a WebP image"),
        (b"%PDF-1.7\n", "a PDF document"),
        (b"PK\x03\x04" + bytes(60), "a zip archive"),
        (encoded("wav")[:64], None),
    ],
)
def test_documents_voxhub_refuses_are_named(head: bytes, what: str | None) -> None:
    assert refused_document(head) == what
