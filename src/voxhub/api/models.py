"""Request and response shapes, named as the hosted API's OpenAPI document names them."""

from __future__ import annotations

from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from voxhub.domain import Voice
from voxhub.services.voices import voice_detail_data

__all__ = [
    "AssetDetail",
    "AssetUploaded",
    "DeleteAssetResponse",
    "DeletedAsset",
    "ErrorResponse",
    "GenerateSpeechData",
    "GenerateSpeechRequest",
    "GenerateSpeechResponse",
    "GetAssetResponse",
    "GetVoiceResponse",
    "ListVoicesResponse",
    "StandardAPIError",
    "StreamSpeechRequest",
    "UploadAssetResponse",
    "VoiceDetailV3",
    "VoiceListItem",
    "WordTimestamp",
    "voice_detail",
    "voice_detail_json",
    "voice_list_item",
]


class VoiceDetailV3(BaseModel):
    """Response payload for GET /v3/voices/{voice_id}."""

    model_config = ConfigDict(title="VoiceDetailV3")

    voice_id: str = Field(title="Voice Id", description="Unique voice identifier.")
    name: str | None = Field(
        default=None,
        title="Name",
        description="Display name of the voice. Only present when the voice record exists.",
    )
    language: str | None = Field(
        default=None,
        title="Language",
        description="Primary language of the voice. Only present when the voice record exists.",
    )
    gender: str | None = Field(
        default=None,
        title="Gender",
        description="Gender of the voice (e.g., 'male', 'female'). "
        "Only present when the voice record exists.",
    )
    preview_audio_url: str | None = Field(
        default=None,
        title="Preview Audio Url",
        description="URL to a short preview audio clip. Only present for completed voices.",
    )
    status: Literal["processing", "complete", "failed"] | None = Field(
        default=None, title="Status", description="Clone status. Only present for cloned voices."
    )
    failure_message: str | None = Field(
        default=None,
        title="Failure Message",
        description="Error description. Only present when status is 'failed'.",
    )
    support_pause: bool = Field(
        title="Support Pause", description="Whether the voice supports SSML pause/break tags."
    )
    support_interactive_avatar: bool = Field(
        default=False,
        title="Support Interactive Avatar",
        description="Whether the voice supports interactive avatar streaming.",
    )
    created_at: int | None = Field(
        default=None, title="Created At", description="Unix timestamp when the voice was created."
    )


class GetVoiceResponse(BaseModel):
    data: VoiceDetailV3


class StandardAPIError(BaseModel):
    code: str = Field(description="Machine-readable error code", examples=["invalid_parameter"])
    message: str = Field(description="Human-readable error message", examples=["Voice not found."])
    param: str | None = Field(default=None, description="Which request field caused the error")
    doc_url: str | None = Field(default=None, description="Link to error documentation")


class ErrorResponse(BaseModel):
    error: StandardAPIError


class VoiceListItem(BaseModel):
    """A single voice in the listing response."""

    voice_id: str = Field(description="Unique voice identifier.")
    name: str = Field(description="Display name of the voice.")
    language: str = Field(description="Primary language of the voice.")
    gender: str = Field(description="Gender of the voice; 'unknown' until a clone is analysed.")
    preview_audio_url: str | None = Field(description="URL to a short audio preview of the voice.")
    support_pause: bool = Field(description="Whether the voice supports SSML pause/break tags.")
    support_locale: bool = Field(description="Whether the voice supports locale variants.")
    type: Literal["public", "private"] = Field(description="Public or private (a clone).")
    status: Literal["processing", "complete", "failed"] | None = Field(
        default=None, description="Clone status (voxhub addition; null for public voices)."
    )


class ListVoicesResponse(BaseModel):
    data: list[VoiceListItem]
    has_more: bool = Field(description="Whether more pages are available")
    next_token: str | None = Field(description="Opaque cursor for the next page")


def voice_detail(voice: Voice, preview_url: str | None = None) -> VoiceDetailV3:
    return VoiceDetailV3(
        voice_id=voice.voice_id,
        name=voice.name,
        language=voice.language,
        gender=voice.gender,
        preview_audio_url=preview_url,
        status=voice.status,
        failure_message=voice.failure_message if voice.status == "failed" else None,
        support_pause=voice.support_pause,
        support_interactive_avatar=voice.support_interactive_avatar,
        created_at=voice.created_at,
    )


def voice_detail_json(voice: Voice, preview_url: str | None = None) -> bytes:
    """The Get Voice body, exactly GetVoiceResponse's JSON (a unit test holds them equal).

    Written with orjson rather than through the pydantic models: this runs on every poll.
    """
    return orjson.dumps({"data": voice_detail_data(voice, preview_url)})


def voice_list_item(voice: Voice, preview_url: str | None = None) -> VoiceListItem:
    return VoiceListItem(
        voice_id=voice.voice_id,
        name=voice.name,
        language=voice.language,
        gender=voice.gender or "unknown",
        preview_audio_url=preview_url,
        support_pause=voice.support_pause,
        support_locale=voice.support_locale,
        type="public" if voice.is_public else "private",
        status=voice.status,
    )


class GenerateSpeechRequest(BaseModel):
    """Request body for text-to-speech generation."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(
        min_length=1, max_length=5000, description="Text to synthesize (1-5000 characters)."
    )
    voice_id: str = Field(description="Voice ID to use (GET /v3/voices?engine=starfish).")
    input_type: Literal["text", "ssml"] = Field(
        default="text", description="'text' for plain text, 'ssml' for SSML markup."
    )
    speed: float = Field(default=1.0, ge=0.5, le=2.0, description="Speed multiplier (0.5-2.0).")
    language: str | None = Field(
        default=None, description="Base language code (e.g. 'en'); must be the voice's language."
    )
    locale: str | None = Field(
        default=None, description="BCP-47 locale tag (e.g. 'en-US'); must be the voice's language."
    )
    output_format: Literal["mp3", "wav", "flac"] = Field(
        default="mp3", description="voxhub extension: the audio file's format (default mp3)."
    )


class WordTimestamp(BaseModel):
    """Word-level timing data from TTS generation."""

    word: str = Field(description="The word.")
    start: float = Field(description="Start time in seconds.")
    end: float = Field(description="End time in seconds.")


class GenerateSpeechData(BaseModel):
    """Response payload for text-to-speech generation."""

    audio_url: str = Field(description="Signed, expiring URL of the generated audio file.")
    duration: float = Field(description="Duration of the audio in seconds.")
    request_id: str | None = Field(description="Unique identifier for this generation request.")
    word_timestamps: list[WordTimestamp] | None = Field(
        description="Word-level timing data; null for engines that cannot align."
    )


class GenerateSpeechResponse(BaseModel):
    data: GenerateSpeechData


class AssetUploaded(BaseModel):
    """Response from uploading an asset via POST /v3/assets."""

    asset_id: str = Field(description="Unique asset identifier.")
    url: str = Field(description="Signed, expiring URL of the uploaded file.")
    mime_type: str = Field(description="MIME type detected from the file's bytes.")
    size_bytes: int = Field(description="File size in bytes.")


class UploadAssetResponse(BaseModel):
    data: AssetUploaded


class AssetDetail(BaseModel):
    """Response payload for GET /v3/assets/{asset_id}."""

    id: str = Field(description="Unique asset identifier.")
    name: str = Field(description="Display name of the asset (the uploaded file's name).")
    type: str = Field(description="Asset file type: 'audio'.")
    owner: str = Field(description="The owning account's id.")
    space_id: str = Field(description="The space the asset belongs to: the account's id.")
    uploaded_at: int = Field(description="Unix timestamp (seconds) of the upload.")
    url: str | None = Field(description="Signed, expiring URL of the file.")
    folder_id: str | None = Field(default=None, description="Always null: no folders.")


class GetAssetResponse(BaseModel):
    data: AssetDetail


class DeletedAsset(BaseModel):
    id: str = Field(description="ID of the deleted asset.")


class DeleteAssetResponse(BaseModel):
    data: DeletedAsset


class StreamSpeechRequest(GenerateSpeechRequest):
    """Request body of Stream Speech: Generate Speech's, with the stream's formats."""

    output_format: Literal["mp3", "pcm", "opus", "aac", "flac", "wav"] = Field(  # type: ignore[assignment]
        default="mp3",
        description="mp3, pcm (16-bit little-endian mono at the voice's rate: X-Sample-Rate), "
        "opus (in Ogg), aac (ADTS), flac, or wav (sizes unknown: 0xFFFFFFFF).",
    )
