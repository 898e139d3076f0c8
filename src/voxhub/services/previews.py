"""Preview clips of the public voices: rendered once by the workers, kept in storage.

A preview's storage key is fixed by the voice and the preview text, so a restart (or another
API process) finds the clips already made and renders only what is missing. Neural voices come
first; the eSpeak NG voices, which render in milliseconds, after.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from voxhub.domain import Voice
from voxhub.errors import WorkersBusy
from voxhub.services.render import NothingSpoken, RenderJob, render
from voxhub.services.script import parse_input
from voxhub.services.speech import profile_of
from voxhub.services.voices import VoiceService
from voxhub.services.workers import JobRunner
from voxhub.storage import Storage

__all__ = ["PreviewService", "preview_key", "preview_text"]

log = logging.getLogger(__name__)

PREVIEW_FOLDER = "previews/public"
_SENTENCES = {
    "en": "Hello! This is how I sound. I can read anything you write for me.",
    "ja": "こんにちは。これが私の声です。書いた文章を何でも読み上げます。",
    "es": "¡Hola! Así suena mi voz. Puedo leer cualquier texto que escribas.",
    "fr": "Bonjour ! Voici ma voix. Je peux lire tout ce que vous écrivez.",
    "de": "Hallo! So klingt meine Stimme. Ich lese alles vor, was Sie schreiben.",
    "it": "Ciao! Questa è la mia voce. Posso leggere tutto ciò che scrivi.",
    "pt": "Olá! Esta é a minha voz. Posso ler tudo o que você escrever.",
}
# Other languages: eSpeak NG reads numbers in the voice's own language.
_NUMBERS = "1, 2, 3, 4, 5. 6, 7, 8, 9, 10."


def preview_text(voice: Voice) -> str:
    return _SENTENCES.get((voice.locale or "").split("-")[0].lower(), _NUMBERS)


def preview_key(voice: Voice) -> str:
    version = hashlib.sha256(f"{voice.engine}\n{preview_text(voice)}".encode()).hexdigest()[:8]
    return f"{PREVIEW_FOLDER}/{voice.voice_id}-{version}.mp3"


class PreviewService:
    def __init__(self, voices: VoiceService, pool: JobRunner, storage: Storage) -> None:
        self._voices = voices
        self._pool = pool
        self._storage = storage

    def _missing(self) -> list[Voice]:
        return [v for v in self._voices.public_voices if v.preview_key is None]

    async def find_existing(self) -> int:
        """Point every public voice at its preview where the file is already stored."""
        keys = {v.voice_id: preview_key(v) for v in self._missing()}
        found = await asyncio.to_thread(
            lambda: [vid for vid, key in keys.items() if self._storage.exists(key)]
        )
        for voice_id in found:
            self._voices.set_preview(voice_id, keys[voice_id])
        return len(found)

    async def render_missing(self) -> int:
        """Render every missing preview, one job at a time; return how many were made."""
        await self.find_existing()
        missing = sorted(self._missing(), key=lambda v: v.engine == "espeak")
        made = 0
        for voice in missing:
            try:
                await self._render(voice)
                made += 1
            except asyncio.CancelledError:
                raise
            except NothingSpoken:  # it cannot read the preview text's digits: no preview
                log.info("no sound for a preview", extra={"voice_id": voice.voice_id})
            except Exception:
                log.exception("could not render a preview", extra={"voice_id": voice.voice_id})
        return made

    async def _render(self, voice: Voice) -> None:
        key = preview_key(voice)
        script = parse_input(preview_text(voice), "text", pauses=False)
        while True:
            try:
                result = await self._pool.run(render, RenderJob(script, profile_of(voice)))
                break
            except WorkersBusy as busy:  # users' requests come first
                await asyncio.sleep(busy.retry_after)
        await asyncio.to_thread(self._storage.put, key, result.audio)
        self._voices.set_preview(voice.voice_id, key)
