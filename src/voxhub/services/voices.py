"""Reading voices: Get Voice (the hot path) and List Voices."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from voxhub.domain import Voice, VoicePage, VoiceQuery
from voxhub.errors import InvalidParameter, VoiceNotFound
from voxhub.services.identifiers import could_be_stored
from voxhub.services.pagination import Cursor, decode_token, encode_token
from voxhub.store import Store

__all__ = ["OVERDUE_MESSAGE", "STARFISH", "VoiceService", "voice_detail_data"]

OVERDUE_MESSAGE = (
    "The service could not process this sample in time. Please try again later; if it keeps "
    "failing, try another recording."
)
# The hosted API's speech engine; every voice our speech endpoint accepts answers to it.
STARFISH = "starfish"


def voice_detail_data(voice: Voice, preview_url: str | None) -> dict[str, Any]:
    """A voice as Get Voice shows it (``VoiceDetailV3``): the API's answer and webhook
    events' ``event_data`` alike."""
    return {
        "voice_id": voice.voice_id,
        "name": voice.name,
        "language": voice.language,
        "gender": voice.gender,
        "preview_audio_url": preview_url,
        "status": voice.status,
        "failure_message": voice.failure_message if voice.status == "failed" else None,
        "support_pause": voice.support_pause,
        "support_interactive_avatar": voice.support_interactive_avatar,
        "created_at": voice.created_at,
    }


class VoiceService:
    def __init__(
        self,
        store: Store,
        engine_names: Iterable[str],
        clone_deadline_seconds: int = 600,
        neural_engines: Iterable[str] = (),
    ) -> None:
        self._store = store
        self._deadline = clone_deadline_seconds
        self._engine_names = frozenset(engine_names)
        self._neural = frozenset(neural_engines)
        self._public: dict[str, Voice] = {}
        self._languages: dict[str, str] = {}

    async def load_catalog(self) -> None:
        """Hold the public catalog in memory: it changes only when the service starts."""
        public = await self._store.all_public_voices()
        self._public = {voice.voice_id: voice for voice in public}
        self._languages = {voice.language.casefold(): voice.language for voice in public}

    @property
    def public_voices(self) -> list[Voice]:
        return list(self._public.values())

    def is_neural(self, voice: Voice) -> bool:
        """Whether the voice's engine says it is neural (engine metadata, never its name)."""
        return voice.engine in self._neural

    def public_voice(self, voice_id: str) -> Voice | None:
        return self._public.get(voice_id)

    def is_public(self, voice_id: str) -> bool:
        return voice_id in self._public

    def set_preview(self, voice_id: str, key: str) -> None:
        """A public voice's preview file exists in storage under ``key``."""
        self._public[voice_id] = replace(self._public[voice_id], preview_key=key)

    @property
    def languages(self) -> list[str]:
        return sorted(self._languages.values())

    async def get_voice(self, account_id: str, voice_id: str) -> Voice:
        if not could_be_stored(voice_id, "voice_id"):
            raise VoiceNotFound()
        voice = self._public.get(voice_id)
        if voice is None:
            voice = await self._store.get_private_voice(voice_id, account_id)
        if voice is None:
            raise VoiceNotFound()
        if voice.status == "processing" and self._overdue(voice):
            return replace(voice, status="failed", failure_message=OVERDUE_MESSAGE)
        return voice

    def _overdue(self, voice: Voice) -> bool:
        """Past its deadline: its job fails it when next leased; readers see that already, so
        a clone processing for longer than the deadline is never shown."""
        return time.time() - (voice.created_at or 0) > self._deadline

    async def list_voices(
        self,
        account_id: str,
        *,
        scope: str = "public",
        engine: str | None = None,
        language: str | None = None,
        gender: str | None = None,
        limit: int = 20,
        token: str | None = None,
    ) -> VoicePage:
        cursor = decode_token(token, scope) if token else None
        query = VoiceQuery(
            account_id=account_id if scope == "private" else None,
            engine=self._engine_filter(engine),
            language=self._language_filter(language),
            gender=gender,
            after_name=cursor.name if cursor else None,
            after_id=cursor.voice_id if cursor else None,
            limit=limit + 1,
        )
        voices = [self._public.get(v.voice_id, v) for v in await self._store.list_voices(query)]
        if len(voices) <= limit:
            return VoicePage(voices=voices, next_token=None)
        last = voices[limit - 1]
        next_token = encode_token(Cursor(scope=scope, name=last.name, voice_id=last.voice_id))
        return VoicePage(voices=voices[:limit], next_token=next_token)

    def _engine_filter(self, engine: str | None) -> str | None:
        if engine is None or engine == "" or engine == STARFISH:
            return None
        if engine not in self._engine_names:
            known = ", ".join(sorted(self._engine_names | {STARFISH}))
            raise InvalidParameter(
                f"Unknown engine {engine!r}; use one of: {known}.", param="engine"
            )
        return engine

    def _language_filter(self, language: str | None) -> str | None:
        if not language:
            return None
        canonical = self._languages.get(language.strip().casefold())
        if canonical is None:
            raise InvalidParameter(
                f"Unknown language {language!r}; use a language name such as 'English'.",
                param="language",
            )
        return canonical
