"""Instant voice cloning: accept a sample at once, process it durably, delete on request.

``create`` checks the request, stores the sample and writes the voice (``processing``) and its
job in one transaction, hands the job to the queue, and answers. A job worker — in any process
on any host — leases the job and calls ``run``: the audio work goes to the worker pool, and the
outcome is written to the voice only while it is still ``processing`` (the first worker to
finish settles it; a slower duplicate changes nothing). A job tried too often, or past the
processing deadline, is abandoned: the clone fails with a message that says the service could
not process it. A deleted clone's job loses its lease, and its worker is stopped.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from voxhub.domain import USER_PRIORITY, Job, Voice
from voxhub.errors import (
    Forbidden,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    ResourceLimitExceeded,
    VoiceNotFound,
    WorkersBusy,
)
from voxhub.ids import new_voice_id
from voxhub.jobs import JobQueue
from voxhub.metrics import NO_METRICS, Metrics
from voxhub.services.assets import AssetService, stored_type
from voxhub.services.fetch import UrlFetcher
from voxhub.services.identifiers import could_be_stored
from voxhub.services.previews import VoiceMeasurer, preview_sentence
from voxhub.services.voices import OVERDUE_MESSAGE, VoiceService
from voxhub.services.webhooks import WebhookService
from voxhub.storage import Storage
from voxhub.storage.layout import clone_folder, clone_preview_key, clone_sample_key
from voxhub.store import Store
from voxhub.workers.cloning import (
    BaseVoice,
    CloneJob,
    CloneOutcome,
    measure_text,
    measure_voices,
    process_clone,
)
from voxhub.workers.pool import JobRunner

__all__ = ["CLONE_JOB", "CloneLimits", "CloneRequest", "CloneService", "sample_key_of"]

log = logging.getLogger(__name__)

MAX_SAMPLE_BYTES = 50 * 1024 * 1024
MAX_ATTEMPTS = 3
CLONE_JOB = "clone"
_COULD_NOT_PROCESS = (
    "The service could not process this sample (it was tried {attempts} times). Please try "
    "again later; if it keeps failing, try another recording."
)


@dataclass(frozen=True, slots=True)
class CloneLimits:
    voices_per_account: int = 100
    deadline_seconds: int = 600  # a clone still processing after this fails
    lease_seconds: float = 60.0  # a job whose process died is taken again after this
    frame_blend: float = 0.6  # the most a conversion blends toward the speaker's frames
    base_engines: tuple[str, ...] = ()  # engines a clone may be based on (none named: any)

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
    max_attempts = MAX_ATTEMPTS  # leases of one clone job before it fails

    def __init__(
        self,
        store: Store,
        storage: Storage,
        voices: VoiceService,
        assets: AssetService,
        runner: JobRunner,
        fetcher: UrlFetcher,
        queue: JobQueue,
        limits: CloneLimits = CloneLimits(),
        webhooks: WebhookService | None = None,
        metrics: Metrics = NO_METRICS,
        traits: VoiceMeasurer | None = None,
    ) -> None:
        self._metrics = metrics
        self._store = store
        self._storage = storage
        self._voices = voices
        self._assets = assets
        self._runner = runner
        self._fetcher = fetcher
        self._queue = queue
        self._limits = limits
        self._webhooks = webhooks
        self._traits = traits  # Design a Voice measures a clone's preview once it is complete

    # --- accepting a clone -------------------------------------------------------------

    async def create(self, account_id: str, request: CloneRequest) -> str:
        language = self._language(request.language)
        if await self._store.count_private_voices(account_id) >= self._limits.voices_per_account:
            raise ResourceLimitExceeded(
                f"This account has {self._limits.voices_per_account} cloned voices, the most "
                "it may have. Delete one to clone another."
            )
        audio = await self._audio(account_id, request)
        sniffed = stored_type(audio, "audio")
        voice_id = new_voice_id()
        sample_key = clone_sample_key(voice_id, sniffed.extension)
        await asyncio.to_thread(self._storage.put, sample_key, audio)
        now = time.time()
        voice = Voice(
            voice_id=voice_id, account_id=account_id, engine=language.engine,
            engine_voice=language.voice_key, name=request.voice_name,
            language=language.language, gender=None, locale=None, support_pause=True,
            support_locale=False, status="processing", created_at=int(now),
        )  # fmt: skip
        job = Job(
            job_id=new_voice_id(), kind=CLONE_JOB, subject_id=voice_id, account_id=account_id,
            payload=json.dumps({"sample_key": sample_key}), created_at=int(now * 1000),
            priority=USER_PRIORITY,
        )  # fmt: skip
        await self._store.insert_voice_with_job(voice, job, updated_at=time.time_ns() // 1000)
        await self._dispatch(job)
        return voice_id

    async def _dispatch(self, job: Job) -> None:
        try:
            await self._queue.dispatch(job)
        except Exception:  # recorded with its voice: the queue's recovery hands it over
            log.exception("could not dispatch a job now", extra={"job": job.job_id})

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
        allowed = [v for v in voices if v.engine in self._limits.base_engines]
        voices = allowed or voices  # a language no allowed engine speaks keeps them all
        if any(self._voices.is_neural(v) for v in voices):
            voices = [v for v in voices if self._voices.is_neural(v)]
        voices = sorted(voices, key=lambda v: v.name)
        return tuple(
            BaseVoice(v.engine, v.engine_voice, v.gender, v.language, measure_text(_code(v)))
            for v in voices
        )

    def _preview_text(self, language: str) -> str:
        """What a clone's preview says: the preview sentence of its language (a clone has no
        locale of its own; its language's public voices have)."""
        codes = [_code(v) for v in self._voices.public_voices
                 if v.language.casefold() == language.casefold() and v.locale]  # fmt: skip
        return preview_sentence(codes[0] if codes else language.split("-", 1)[0])

    async def _audio(self, account_id: str, request: CloneRequest) -> bytes:
        if request.source == "asset_id":
            try:
                asset = await self._assets.get(account_id, request.value)
            except NotFound as exc:
                raise InvalidParameter("No asset with that id.", param="audio.asset_id") from exc
            if asset.status != "completed":
                raise InvalidParameter(
                    "The asset's upload is not complete: PUT its bytes to the upload_url, then "
                    "POST /v3/assets/{asset_id}/complete.",
                    param="audio.asset_id",
                )
            data = await asyncio.to_thread(self._storage.read, asset.storage_key)
            if data is None:
                raise InvalidParameter("The asset's file is gone.", param="audio.asset_id")
            return data
        if request.source == "base64":
            return _decode_base64(request.value)
        return await self._fetcher.fetch(request.value)

    # --- deleting ----------------------------------------------------------------------

    async def delete(self, account_id: str, voice_id: str) -> None:
        if not could_be_stored(voice_id, "voice_id"):
            raise VoiceNotFound()
        if self._voices.is_public(voice_id):
            raise Forbidden("Public voices cannot be deleted.")
        removed = await self._store.delete_private_voice(voice_id, account_id)
        if removed is None:
            raise VoiceNotFound()
        await asyncio.to_thread(self._storage.delete_folder, clone_folder(voice_id))

    # --- processing (a job handler: see voxhub.jobs.worker) --------------------------------

    async def measure_base_voices(
        self,
        until_idle: Callable[[], Awaitable[None]] | None = None,
        first_language_measured: Callable[[], None] | None = None,
    ) -> int:
        """Have the workers measure the neural base voices of every language (English first,
        ``first_language_measured`` called after it), one voice at a time and each once
        ``until_idle`` returns (the job worker has had nothing to do for a while), so the
        first clone of a language does not wait for it (kept on disk: later starts find
        them)."""
        codes = {_code(v) for v in self._voices.public_voices if self._voices.is_neural(v)}
        measured = 0
        for code in sorted(codes, key=lambda c: (c != "en", c)):
            for candidate in self.candidates(code):
                if until_idle is not None:
                    await until_idle()
                while True:
                    try:
                        measured += await self._runner.run(measure_voices, (candidate,))
                        log.debug(
                            "base voice measured: %s %s", candidate.engine, candidate.voice_key
                        )
                        break
                    except WorkersBusy as busy:
                        await asyncio.sleep(busy.retry_after)
            if first_language_measured is not None:
                first_language_measured()
                first_language_measured = None
        return measured

    async def run(self, job: Job) -> str | None:
        voice = await self._clone_of(job)
        if voice is None:  # deleted while queued
            return None
        if voice.status != "processing":  # settled by a worker that died before ending the job
            return voice.failure_message
        if time.time() - (voice.created_at or 0) > self._limits.deadline_seconds:
            await self._settle(replace(voice, status="failed", failure_message=OVERDUE_MESSAGE))
            return OVERDUE_MESSAGE
        outcome = await self._outcome(job, voice)
        settled = await self._outcome_voice(voice, outcome)
        await self._settle(settled)
        if self._traits is not None and settled.status == "complete" and outcome.preview:
            await self._traits.measure_quietly(settled.voice_id, outcome.preview)
        return settled.failure_message

    async def abandon(self, job: Job, reason: str) -> None:
        voice = await self._clone_of(job)
        if voice is not None and voice.status == "processing":
            message = _COULD_NOT_PROCESS.format(attempts=MAX_ATTEMPTS)
            await self._settle(replace(voice, status="failed", failure_message=message))

    async def _clone_of(self, job: Job) -> Voice | None:
        if job.subject_id is None or job.account_id is None:
            return None
        return await self._store.get_private_voice(job.subject_id, job.account_id)

    async def _outcome(self, job: Job, voice: Voice) -> CloneOutcome:
        audio = await asyncio.to_thread(self._storage.read, sample_key_of(job))
        if audio is None:
            return CloneOutcome(failure="The uploaded sample was lost. Please upload it again.")
        language = voice.language if voice.locale is None else voice.locale
        plan = CloneJob(audio, self.candidates(language), self._preview_text(language),
                        self._limits.frame_blend, clone_folder(voice.voice_id))  # fmt: skip
        return await self._runner.run(process_clone, plan)

    async def _outcome_voice(self, voice: Voice, outcome: CloneOutcome) -> Voice:
        if outcome.failure is not None or outcome.base is None:
            return replace(voice, status="failed", failure_message=outcome.failure)
        preview_key = clone_preview_key(voice.voice_id)
        # The files its profile names first: a complete voice never points at a missing one.
        for key, data in outcome.files.items():
            await asyncio.to_thread(self._storage.put, key, data)
        await asyncio.to_thread(self._storage.put, preview_key, outcome.preview or b"")
        return replace(
            voice, status="complete", gender=outcome.gender, engine=outcome.base.engine,
            engine_voice=outcome.base.voice_key, language=outcome.base.language,
            preview_key=preview_key, profile=outcome.profile, failure_message=None,
        )  # fmt: skip

    async def _settle(self, voice: Voice) -> None:
        """Write the outcome and, in its transaction, the webhook deliveries it sets off."""
        outbox = self._webhooks.clone_outbox(voice) if self._webhooks else None
        jobs = await self._store.settle_voice(voice, time.time_ns() // 1000, outbox)
        if jobs is None:
            log.info("a clone was settled already", extra={"voice_id": voice.voice_id})
            return
        self._metrics.clone_settled(voice.status or "failed", time.time() - (voice.created_at or 0))
        for job in jobs:
            await self._dispatch(job)


def sample_key_of(job: Job) -> str:
    """The clone job's sample (older jobs carried the key itself as their payload)."""
    if job.payload.startswith("{"):
        return str(json.loads(job.payload)["sample_key"])
    return job.payload


def _code(voice: Voice) -> str:
    """The voice's primary language subtag (``en`` of ``en-US``)."""
    return (voice.locale or "").split("-", 1)[0].casefold()


def _decode_base64(data: str) -> bytes:
    if len(data) > (MAX_SAMPLE_BYTES * 4) // 3 + 4:
        raise PayloadTooLarge("audio.data is larger than 50 MB.", param="audio.data")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameter("audio.data is not valid base64.", param="audio.data") from exc
