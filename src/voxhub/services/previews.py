"""Preview clips of the public voices: rendered once, by job workers, kept in storage.

A preview's storage key is fixed by the voice and the preview text, and so is its job's id: a
job worker starting enqueues a job for every public voice, and only those never asked for
before are recorded — a voice that cannot have a preview (it makes no sound for the text) is
remembered by its failed job, not tried again at every start. The jobs are background work:
clones and speech go first. API processes look for new clips now and then until every voice
that can have one has it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Protocol

from voxhub.domain import BACKGROUND_PRIORITY, Job, Voice
from voxhub.engines import profile_of
from voxhub.jobs import JobQueue, now_ms
from voxhub.services.voices import VoiceService
from voxhub.storage import Storage
from voxhub.storage.layout import public_preview_key
from voxhub.workers.pool import JobRunner
from voxhub.workers.render import NothingSpoken, RenderJob, render_preview
from voxhub.workers.script import parse_input

__all__ = [
    "PREVIEW_JOB",
    "PreviewService",
    "VoiceMeasurer",
    "preview_key",
    "preview_sentence",
    "preview_text",
]

PREVIEW_JOB = "preview"

log = logging.getLogger(__name__)

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


def preview_sentence(language_code: str) -> str:
    """What a preview says in a language (``en``, ``ja``…)."""
    return _SENTENCES.get(language_code.lower(), _NUMBERS)


def preview_text(voice: Voice) -> str:
    return preview_sentence((voice.locale or "").split("-")[0])


def preview_key(voice: Voice) -> str:
    version = hashlib.sha256(f"{voice.engine}\n{preview_text(voice)}".encode()).hexdigest()[:8]
    return public_preview_key(voice.voice_id, version)


class VoiceMeasurer(Protocol):
    """Measures a voice's audio for Design a Voice (services/design.py), never raising."""

    async def measure_quietly(self, voice_id: str, audio: bytes) -> None: ...


class PreviewService:
    max_attempts = 3  # leases of one preview job before it is given up

    def __init__(
        self,
        voices: VoiceService,
        pool: JobRunner,
        storage: Storage,
        traits: VoiceMeasurer | None = None,
    ) -> None:
        self._voices = voices
        self._pool = pool
        self._storage = storage
        self._traits = traits  # Design a Voice measures each preview once it is rendered

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

    async def watch(self, first_wait: float = 2.0, longest_wait: float = 300.0) -> None:
        """Find previews other processes render, checking less often while none appear."""
        wait = first_wait
        while self._missing():
            await asyncio.sleep(wait)
            found = await self.find_existing()
            wait = first_wait if found else min(longest_wait, wait * 2)

    async def enqueue_missing(self, queue: JobQueue) -> int:
        """A preview job for every public voice (neural voices first); how many are new."""
        now = now_ms()
        ordered = sorted(self._missing(), key=lambda v: not self._voices.is_neural(v))
        added = 0
        for position, voice in enumerate(ordered):
            key = preview_key(voice)
            job = Job(
                job_id=hashlib.sha256(key.encode()).hexdigest()[:32], kind=PREVIEW_JOB,
                subject_id=voice.voice_id, account_id=None, payload=json.dumps({"key": key}),
                created_at=now + position, priority=BACKGROUND_PRIORITY,
            )  # fmt: skip
            added += await queue.enqueue(job)
        return added

    # --- the job handler (voxhub.jobs.worker) ------------------------------------------

    async def run(self, job: Job) -> str | None:
        voice = self._voices.public_voice(job.subject_id or "")
        if voice is None:  # no engine offers it any more
            return None
        key = preview_key(voice)
        if await asyncio.to_thread(self._storage.exists, key):
            self._voices.set_preview(voice.voice_id, key)
            return None
        script = parse_input(preview_text(voice), "text", pauses=False)
        try:
            result = await self._pool.run(render_preview, RenderJob(script, profile_of(voice)))
        except NothingSpoken:  # it cannot read the preview text's digits: no preview, ever
            return "The voice makes no sound for the preview text."
        await asyncio.to_thread(self._storage.put, key, result.audio)
        self._voices.set_preview(voice.voice_id, key)
        if self._traits is not None:
            await self._traits.measure_quietly(voice.voice_id, result.audio)
        return None

    async def abandon(self, job: Job, reason: str) -> None:
        log.warning("a preview was given up", extra={"voice_id": job.subject_id})
