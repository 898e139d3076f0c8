"""What kind of audio file some bytes are, from the bytes alone (never a name or a header)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AUDIO_TYPES", "SniffedType", "sniff_audio"]


@dataclass(frozen=True, slots=True)
class SniffedType:
    media_type: str
    extension: str


AUDIO_TYPES = {
    "wav": SniffedType("audio/wav", "wav"),
    "mp3": SniffedType("audio/mpeg", "mp3"),
    "flac": SniffedType("audio/flac", "flac"),
    "ogg": SniffedType("audio/ogg", "ogg"),
    "webm": SniffedType("audio/webm", "webm"),
    "m4a": SniffedType("audio/mp4", "m4a"),
    "aac": SniffedType("audio/aac", "aac"),
}
_MP4_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"mp42", b"isom", b"mp41", b"iso2", b"dash", b"3gp")


def _is_mp3_frame(head: bytes) -> bool:
    # An MPEG audio frame header: 11 sync bits, a valid version, layer III, a usable bit rate.
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version, layer, bitrate = (head[1] >> 3) & 3, (head[1] >> 1) & 3, head[2] >> 4
    return version != 1 and layer == 1 and bitrate not in (0, 15)


def _is_adts(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0


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
