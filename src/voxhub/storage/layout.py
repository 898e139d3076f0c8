"""Where each kind of file lives in storage: every key voxhub makes is made here.

Keys are folders of lowercase ids, so one clone's files go with one ``delete_folder`` and
expired speech with one ``delete_older_than``.
"""

from __future__ import annotations

__all__ = [
    "ASSET_FOLDER",
    "MEDIA_TYPES",
    "PUBLIC_PREVIEW_FOLDER",
    "SPEECH_FOLDER",
    "asset_key",
    "clone_folder",
    "clone_preview_key",
    "clone_sample_key",
    "media_type",
    "public_preview_key",
    "speech_key",
]

# The type of every file voxhub stores, by its key's extension (all audio the sniffer knows:
# a test holds the two tables together).
MEDIA_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "webm": "audio/webm",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
}
ASSET_FOLDER = "assets"
SPEECH_FOLDER = "speech"
PUBLIC_PREVIEW_FOLDER = "previews/public"


def asset_key(asset_id: str, extension: str) -> str:
    return f"{ASSET_FOLDER}/{asset_id}.{extension}"


def speech_key(day: str, request_id: str, extension: str) -> str:
    """Speech files by day (``20261130``), so expired ones are found by folder."""
    return f"{SPEECH_FOLDER}/{day}/{request_id}.{extension}"


def clone_folder(voice_id: str) -> str:
    return f"clones/{voice_id}"


def clone_sample_key(voice_id: str, extension: str) -> str:
    return f"{clone_folder(voice_id)}/sample.{extension}"


def clone_preview_key(voice_id: str) -> str:
    return f"{clone_folder(voice_id)}/preview.mp3"


def public_preview_key(voice_id: str, version: str) -> str:
    """A public voice's preview; ``version`` changes with what it says and who says it."""
    return f"{PUBLIC_PREVIEW_FOLDER}/{voice_id}-{version}.mp3"


def media_type(key: str) -> str:
    return MEDIA_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")
