"""What kind of audio or video file some bytes are, from the bytes alone (never a name or a
header).

Videos are taken for the sound in them (a clone uses the audio track), so an MP4, MOV or WebM
with a video track is a video asset, and without one it is audio. The types the hosted API also
stores but voxhub does not (images, PDF, archives) are recognised only to say so plainly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "AUDIO_TYPES",
    "VIDEO_TYPES",
    "SniffedType",
    "family",
    "refused_document",
    "sniff_audio",
    "sniff_media",
]


@dataclass(frozen=True, slots=True)
class SniffedType:
    media_type: str
    extension: str

    @property
    def kind(self) -> str:
        """``audio`` or ``video``: an asset's ``type``."""
        return family(self.media_type)


AUDIO_TYPES = {
    "wav": SniffedType("audio/wav", "wav"),
    "mp3": SniffedType("audio/mpeg", "mp3"),
    "flac": SniffedType("audio/flac", "flac"),
    "ogg": SniffedType("audio/ogg", "ogg"),
    "webm": SniffedType("audio/webm", "webm"),
    "m4a": SniffedType("audio/mp4", "m4a"),
    "aac": SniffedType("audio/aac", "aac"),
}
VIDEO_TYPES = {
    "mp4": SniffedType("video/mp4", "mp4"),
    "mov": SniffedType("video/quicktime", "mov"),
    "webm": SniffedType("video/webm", "webm"),
}
_MP4_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"mp42", b"isom", b"mp41", b"iso2", b"dash", b"3gp")
_MP4_VIDEO_BRANDS = (b"avc1", b"iso4", b"iso5", b"iso6", b"M4V ", b"mp71", b"MSNV", b"qt  ")
# A track handler box: "hdlr", version and flags, the QuickTime component type (or zero), then
# the handler type, which is "vide" for a video track.
_VIDEO_HANDLER = re.compile(rb"hdlr.{4}(?:mhlr|\x00{4})vide", re.DOTALL)
# Matroska/WebM codec ids of video tracks (the Tracks element comes early in the file).
_MATROSKA_VIDEO = re.compile(rb"V_(?:VP8|VP9|AV1|MPEG4|MPEGH|MPEG1|MPEG2|THEORA|MS/)")
_DOCUMENTS = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive"),
    (b"<svg", "an SVG image"),
    (b"<?xml", "an XML document"),
)


def _is_mp3_frame(head: bytes) -> bool:
    # An MPEG audio frame header: 11 sync bits, a valid version, layer III, a usable bit rate.
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version, layer, bitrate = (head[1] >> 3) & 3, (head[1] >> 1) & 3, head[2] >> 4
    return version != 1 and layer == 1 and bitrate not in (0, 15)


def _is_adts(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0


def family(media_type: str) -> str:
    """``video`` for a video media type, else ``audio``."""
    return "video" if media_type.startswith("video/") else "audio"


def refused_document(head: bytes) -> str | None:
    """What a file voxhub will not store is ("a PNG image"), or None if it is not one of those."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    for magic, name in _DOCUMENTS:
        if head.startswith(magic):
            return name
    return None


def sniff_media(data: bytes) -> SniffedType | None:
    """The audio or video type of a whole file (videos need more than the first bytes: the
    track list decides), or None if it is neither."""
    head = data[:64]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if _VIDEO_HANDLER.search(data) is not None:
            return VIDEO_TYPES["mov" if brand == b"qt  " else "mp4"]
        if brand in _MP4_VIDEO_BRANDS:
            return AUDIO_TYPES["m4a"]  # an MP4 or MOV holding sound only
    if head[:4] == b"\x1a\x45\xdf\xa3" and _MATROSKA_VIDEO.search(data[: 1 << 20]) is not None:
        return VIDEO_TYPES["webm"]
    return sniff_audio(head)


def sniff_audio(head: bytes) -> SniffedType | None:
    """The audio type of a file from its first bytes (64 are enough), or None."""
    kind: str | None = None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        kind = "wav"
    elif head[:3] == b"ID3" or _is_mp3_frame(head):
        kind = "mp3"
    elif head[:4] == b"fLaC":
        kind = "flac"
    elif head[:4] == b"OggS":
        kind = "ogg"
    elif head[:4] == b"\x1a\x45\xdf\xa3":
        kind = "webm"
    elif head[4:8] == b"ftyp" and head[8:12] in _MP4_AUDIO_BRANDS:
        kind = "m4a"
    elif _is_adts(head):
        kind = "aac"
    return AUDIO_TYPES[kind] if kind else None
