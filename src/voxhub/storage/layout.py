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
    "UPLOAD_FOLDER",
    "asset_key",
    "clone_folder",
    "clone_preview_key",
    "clone_sample_key",
    "media_type",
    "public_preview_key",
    "speech_key",
    "upload_key",
]

# The type of every file voxhub stores, by its key's extension (all audio and video the sniffer
# knows: a test holds the tables together; a WebM is served as audio whatever it holds).
MEDIA_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
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
UPLOAD_FOLDER = "uploads"
PUBLIC_PREVIEW_FOLDER = "previews/public"


def asset_key(asset_id: str, extension: str) -> str:
    return f"{ASSET_FOLDER}/{asset_id}.{extension}"


def upload_key(asset_id: str) -> str:
    """Where a direct upload's bytes land until it is completed (never served)."""
    return f"{UPLOAD_FOLDER}/{asset_id}.bin"


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
