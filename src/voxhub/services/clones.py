"""Instant voice cloning: accept a sample at once, process it durably, delete on request.

``create`` checks the request, stores the sample and writes the voice (``processing``) and its
job in one transaction, then answers. ``run_jobs`` — a loop each serving process runs — leases
jobs, hands the audio work to the worker pool while extending the lease, and ends each job with
its voice's outcome in one transaction. A job whose process died is leased again when its lease
runs out; after ``MAX_ATTEMPTS`` leases, or past the processing deadline, the clone fails with a
message that says the service could not process it. A deleted clone's job loses its lease, and
its worker is stopped.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import time
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any

from voxhub.audio.sniff import sniff_audio
from voxhub.domain import Job, Voice
from voxhub.errors import (
    Forbidden,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    ResourceLimitExceeded,
    VoiceNotFound,
    WorkerFailed,
    WorkersBusy,
)
from voxhub.ids import is_voice_id, new_voice_id
from voxhub.services.assets import AssetService
from voxhub.services.cloning import (
    BaseVoice,
    CloneJob,
    CloneOutcome,
    measure_text,
    measure_voices,
    process_clone,
)
from voxhub.services.fetch import UrlFetcher
from voxhub.services.previews import preview_text
from voxhub.services.voices import OVERDUE_MESSAGE, VoiceService
from voxhub.services.workers import JobRunner
from voxhub.storage import Storage
from voxhub.store import Store

__all__ = ["CloneLimits", "CloneRequest", "CloneService"]

log = logging.getLogger(__name__)

MAX_SAMPLE_BYTES = 50 * 1024 * 1024
MAX_ATTEMPTS = 3
_NEURAL_FIRST = {"piper": 0, "kokoro": 0}
_COULD_NOT_PROCESS = (
    "The service could not process this sample (it was tried {attempts} times). Please try "
    "again later; if it keeps failing, try another recording."
)


@dataclass(frozen=True, slots=True)
class CloneLimits:
    voices_per_account: int = 100
    deadline_seconds: int = 600  # a clone still processing after this fails
    lease_seconds: float = 60.0  # a job whose process died is taken again after this

    @property
    def lease_ms(self) -> int:
        return int(self.lease_seconds * 1000)


@dataclass(frozen=True, slots=True)
class CloneRequest:
    voice_name: str
    source: str  # "url" | "asset_id" | "base64"
    value: str
    media_type: str | None = None
    language: str | None = None
    remove_background_noise: bool = True


class CloneService:
    def __init__(
        self,
        store: Store,
        storage: Storage,
        voices: VoiceService,
        assets: AssetService,
        runner: JobRunner,
        fetcher: UrlFetcher,
        limits: CloneLimits = CloneLimits(),
    ) -> None:
        self._store = store
        self._storage = storage
        self._voices = voices
        self._assets = assets
        self._runner = runner
        self._fetcher = fetcher
        self._limits = limits
        self._owner = f"{os.uname().nodename}:{os.getpid()}:{id(self):x}"

    # --- accepting a clone -------------------------------------------------------------

    async def create(self, account_id: str, request: CloneRequest) -> str:
        language = self._language(request.language)
        if await self._store.count_private_voices(account_id) >= self._limits.voices_per_account:
            raise ResourceLimitExceeded(
                f"This account has {self._limits.voices_per_account} cloned voices, the most "
                "it may have. Delete one to clone another."
            )
        audio = await self._audio(account_id, request)
        sniffed = sniff_audio(audio[:64])
        if sniffed is None:
            raise InvalidParameter(
                "audio is not an audio file voxhub accepts (wav, mp3, m4a/aac, ogg/opus, flac, "
                "webm); the type is read from the bytes.",
                param="audio",
            )
        voice_id = new_voice_id()
        sample_key = f"clones/{voice_id}/sample.{sniffed.extension}"
        await asyncio.to_thread(self._storage.put, sample_key, audio)
        now = time.time()
        voice = Voice(
            voice_id=voice_id, account_id=account_id, engine=language.engine,
            engine_voice=language.voice_key, name=request.voice_name,
            language=language.language, gender=None, locale=None, support_pause=True,
            support_locale=False, status="processing", created_at=int(now),
        )  # fmt: skip
        job = Job(
            job_id=new_voice_id(), kind="clone", voice_id=voice_id, account_id=account_id,
            payload=sample_key, created_at=int(now * 1000),
        )  # fmt: skip
        await self._store.insert_voice_with_job(voice, job, updated_at=time.time_ns() // 1000)
        return voice_id

    def _language(self, hint: str | None) -> BaseVoice:
        """The first candidate base voice for the language (English when none is given: no
        spoken-language identifier ships its weights here)."""
        candidates = self.candidates(hint or "en")
        if not candidates:
            raise InvalidParameter(f"No voice speaks the language {hint!r}.", param="language")
        return candidates[0]

    def candidates(self, language: str) -> tuple[BaseVoice, ...]:
        code = language.split("-", 1)[0].casefold()
        voices = [
            v for v in self._voices.public_voices
            if (v.locale or "").split("-", 1)[0].casefold() == code
            or v.language.casefold() == language.casefold()
        ]  # fmt: skip
        best = min((_NEURAL_FIRST.get(v.engine, 1) for v in voices), default=1)
        voices = sorted(
            (v for v in voices if _NEURAL_FIRST.get(v.engine, 1) == best), key=lambda v: v.name
        )
        return tuple(
            BaseVoice(v.engine, v.engine_voice, v.gender, v.language, measure_text(_code(v)))
            for v in voices
        )

    async def _audio(self, account_id: str, request: CloneRequest) -> bytes:
        if request.source == "asset_id":
            try:
                asset = await self._assets.get(account_id, request.value)
            except NotFound as exc:
                raise InvalidParameter("No asset with that id.", param="audio.asset_id") from exc
            data = await asyncio.to_thread(self._storage.read, asset.storage_key)
            if data is None:
                raise InvalidParameter("The asset's file is gone.", param="audio.asset_id")
            return data
        if request.source == "base64":
            return _decode_base64(request.value)
        return await self._fetcher.fetch(request.value)

    # --- deleting ----------------------------------------------------------------------

    async def delete(self, account_id: str, voice_id: str) -> None:
        if is_voice_id(voice_id) and self._voices.is_public(voice_id):
            raise Forbidden("Public voices cannot be deleted.")
        removed = (
            await self._store.delete_private_voice(voice_id, account_id)
            if is_voice_id(voice_id)
            else None
        )
        if removed is None:
            raise VoiceNotFound()
        await asyncio.to_thread(self._storage.delete_folder, f"clones/{voice_id}")

    # --- processing --------------------------------------------------------------------

    async def measure_base_voices(self) -> int:
        """Have the workers measure the neural base voices of every language now, so the first
        clone of a language does not wait for it (kept on disk: later starts find them)."""
        codes = {
            (v.locale or "").split("-", 1)[0].casefold()
            for v in self._voices.public_voices
            if v.engine in _NEURAL_FIRST
        }
        measured = 0
        for code in sorted(codes):
            while True:
                try:
                    measured += await self._runner.run(measure_voices, self.candidates(code))
                    break
                except WorkersBusy as busy:  # clones and speech come first
                    await asyncio.sleep(busy.retry_after)
        return measured

    async def run_jobs(self, idle_seconds: float = 0.5) -> None:
        """Lease and process clone jobs until cancelled (one at a time per process)."""
        while True:
            try:
                worked = await self.process_next()
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must outlive any one job; the job is retried
                log.exception("a clone job stopped unexpectedly")
                worked = False
            if not worked:
                await asyncio.sleep(idle_seconds)

    async def process_next(self) -> bool:
        """Lease one job and process it; False when none was ready."""
        now = int(time.time() * 1000)
        job = await self._store.lease_job(self._owner, now, now + self._limits.lease_ms)
        if job is None:
            return False
        await self._process(job, self._owner)
        return True

    async def _process(self, job: Job, owner: str) -> None:
        voice = await self._store.get_private_voice(job.voice_id, job.account_id)
        if voice is None:  # deleted while queued
            return
        too_old = time.time() - (voice.created_at or 0) > self._limits.deadline_seconds
        if job.attempts > MAX_ATTEMPTS or too_old:
            message = (
                OVERDUE_MESSAGE if too_old else _COULD_NOT_PROCESS.format(attempts=MAX_ATTEMPTS)
            )
            await self._finish(job, owner, replace(voice, status="failed", failure_message=message))
            return
        try:
            outcome = await self._with_lease(job, owner, self._outcome(job, voice))
        except LeaseLost:
            return
        except Exception as exc:  # worker died, pool busy, or a bug: try again (attempts count)
            if not isinstance(exc, (WorkerFailed, WorkersBusy)):
                log.exception("a clone job failed unexpectedly", extra={"job": job.job_id})
            await self._store.extend_job_lease(job.job_id, owner, 0)  # release it now
            return
        await self._finish(job, owner, await self._outcome_voice(voice, outcome))

    async def _outcome(self, job: Job, voice: Voice) -> CloneOutcome:
        audio = await asyncio.to_thread(self._storage.read, job.payload)
        if audio is None:
            return CloneOutcome(failure="The uploaded sample was lost. Please upload it again.")
        language = voice.language if voice.locale is None else voice.locale
        plan = CloneJob(audio, self.candidates(language), preview_text(voice))
        return await self._runner.run(process_clone, plan)

    async def _with_lease(
        self, job: Job, owner: str, work: Coroutine[Any, Any, CloneOutcome]
    ) -> CloneOutcome:
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self._limits.lease_seconds / 3)
                if done:
                    return task.result()
                until = int(time.time() * 1000) + self._limits.lease_ms
                if not await self._store.extend_job_lease(job.job_id, owner, until):
                    raise LeaseLost()
        finally:
            if not task.done():
                task.cancel()  # stops the worker's job: the pool kills that worker

    async def _outcome_voice(self, voice: Voice, outcome: CloneOutcome) -> Voice:
        if outcome.failure is not None or outcome.base is None:
            return replace(voice, status="failed", failure_message=outcome.failure)
        preview_key = f"clones/{voice.voice_id}/preview.mp3"
        await asyncio.to_thread(self._storage.put, preview_key, outcome.preview or b"")
        return replace(
            voice, status="complete", gender=outcome.gender, engine=outcome.base.engine,
            engine_voice=outcome.base.voice_key, language=outcome.base.language,
            preview_key=preview_key, profile=outcome.profile, failure_message=None,
        )  # fmt: skip

    async def _finish(self, job: Job, owner: str, voice: Voice) -> None:
        state = "done" if voice.status == "complete" else "failed"
        updated = time.time_ns() // 1000
        error = voice.failure_message
        if not await self._store.finish_job(job.job_id, owner, state, error, voice, updated):
            log.warning("a clone job ended after losing its lease", extra={"job": job.job_id})


def _code(voice: Voice) -> str:
    """The voice's primary language subtag (``en`` of ``en-US``)."""
    return (voice.locale or "").split("-", 1)[0].casefold()


class LeaseLost(Exception):
    """The job's lease was lost (the clone was deleted, or another worker took it)."""


def _decode_base64(data: str) -> bytes:
    if len(data) > (MAX_SAMPLE_BYTES * 4) // 3 + 4:
        raise PayloadTooLarge("audio.data is larger than 50 MB.", param="audio.data")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameter("audio.data is not valid base64.", param="audio.data") from exc
