"""Generate Speech: validate, plan, render in a worker, store, answer a signed URL."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass

from voxhub.domain import Voice
from voxhub.engines import VoiceProfile, profile_of, stored_parameters, with_stored
from voxhub.errors import InvalidParameter, VoiceNotFound
from voxhub.ids import is_voice_id
from voxhub.metrics import NO_METRICS, Metrics
from voxhub.services.files import FileService
from voxhub.services.streaming import SpeechStream, SpeechStreams
from voxhub.services.voices import VoiceService
from voxhub.storage.layout import SPEECH_FOLDER, speech_key
from voxhub.workers.pool import JobRunner
from voxhub.workers.render import NothingSpoken, RenderJob, WordTiming, render
from voxhub.workers.script import parse_input
from voxhub.workers.stream import STREAM_FORMATS

__all__ = ["SpeechRequest", "SpeechResult", "SpeechService"]

log = logging.getLogger(__name__)

_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    text: str
    voice_id: str
    input_type: str = "text"
    speed: float = 1.0
    language: str | None = None
    locale: str | None = None
    output_format: str = "mp3"


@dataclass(frozen=True, slots=True)
class SpeechResult:
    request_id: str
    audio_key: str
    duration: float
    words: list[WordTiming] | None


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0].casefold()


def check_language(voice: Voice, language: str | None, locale: str | None) -> None:
    """A voice speaks its own language; a language or locale it cannot speak is a 400."""
    spoken = _primary(voice.locale or "")
    for param, value in (("locale", locale), ("language", language)):
        if not value:
            continue
        if not _BCP47.match(value):
            raise InvalidParameter(
                f"{param} must be a language code such as 'en' or 'en-US'.", param=param
            )
        if spoken and _primary(value) != spoken:
            raise InvalidParameter(
                f"Voice '{voice.name}' speaks {voice.language} ({voice.locale}); "
                f"it cannot speak {param} '{value}'.",
                param=param,
            )


def _nothing_spoken(voice: Voice) -> InvalidParameter:
    return InvalidParameter(
        f"Voice {voice.voice_id} made no sound for this text: it cannot read the script or "
        "the digits it is written in. Write it out in words of the voice's language.",
        param="text",
    )


class SpeechService:
    def __init__(
        self,
        voices: VoiceService,
        pool: JobRunner,
        files: FileService,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._metrics = metrics
        self._voices = voices
        self._pool = pool
        self._files = files
        self.streams = SpeechStreams(pool)

    async def generate(self, account_id: str, request: SpeechRequest) -> SpeechResult:
        voice, job = await self._render_job(account_id, request)
        started = time.monotonic()
        try:
            result = await self._pool.run(render, job)
        except NothingSpoken as exc:
            raise _nothing_spoken(voice) from exc
        self._metrics.speech(voice.engine, result.duration, time.monotonic() - started)
        request_id = uuid.uuid4().hex
        day = time.strftime("%Y%m%d", time.gmtime())
        key = speech_key(day, request_id, request.output_format)
        await asyncio.to_thread(self._files.storage.put, key, result.audio)
        return SpeechResult(request_id, key, round(result.duration, 3), result.words)

    async def stream(
        self, account_id: str, request: SpeechRequest, output_rate: int | None = None
    ) -> SpeechStream:
        """The speech as it renders; errors (a full pool included) come before any audio."""
        if request.output_format not in STREAM_FORMATS:
            raise InvalidParameter(
                f"output_format must be one of {', '.join(STREAM_FORMATS)}.",
                param="output_format",
            )
        voice, job = await self._render_job(account_id, request)
        try:
            return await self.streams.open(job, output_rate)
        except NothingSpoken as exc:
            raise _nothing_spoken(voice) from exc

    async def find_voice(self, account_id: str, id_or_name: str) -> Voice:
        """A voice by id, or by name (any case): the caller's clones first, then public ones."""
        if is_voice_id(id_or_name):
            return await self._voices.get_voice(account_id, id_or_name)
        wanted = id_or_name.casefold()
        token: str | None = None
        while True:  # an account's clones are few (VOXHUB_CLONES_PER_ACCOUNT)
            page = await self._voices.list_voices(
                account_id, scope="private", limit=100, token=token
            )
            for voice in page.voices:
                if voice.name.casefold() == wanted:
                    return voice
            if page.next_token is None:
                break
            token = page.next_token
        for voice in self._voices.public_voices:
            if voice.name.casefold() == wanted:
                return voice
        raise VoiceNotFound(
            f"Voice '{id_or_name}' not found: give a voice id or name from GET /v3/voices.",
            param="voice",
        )

    async def _render_job(self, account_id: str, request: SpeechRequest) -> tuple[Voice, RenderJob]:
        voice = await self._voices.get_voice(account_id, request.voice_id)
        if not voice.is_public and voice.status != "complete":
            raise InvalidParameter(
                f"Voice {voice.voice_id} is {voice.status}: only a complete clone can speak.",
                param="voice_id",
            )
        check_language(voice, request.language, request.locale)
        script = parse_input(request.text, request.input_type, pauses=voice.support_pause)
        profile = await self._speaking_profile(voice)
        return voice, RenderJob(script, profile, request.speed, request.output_format)

    async def _speaking_profile(self, voice: Voice) -> VoiceProfile:
        """The voice's profile with the parameters its clone keeps as files read in. A file
        gone from storage costs what it adds (frame blending), never the voice: the
        transform speaks without it, and the loss is logged for the operator."""
        profile = profile_of(voice)
        stored = stored_parameters(profile)
        if not stored:  # every public voice, and most clones
            return profile
        files = {}
        for name, key in stored.items():
            data = await asyncio.to_thread(self._files.storage.read, key)
            if data is None:
                log.error("a clone's file is missing", extra={"voice_id": voice.voice_id,
                                                               "key": key})  # fmt: skip
            else:
                files[name] = data
        return with_stored(profile, files)

    async def purge_expired(self, now: float | None = None) -> int:
        """Remove speech files whose links have all expired."""
        cutoff = (time.time() if now is None else now) - self._files.max_link_age
        return await asyncio.to_thread(self._files.storage.delete_older_than, SPEECH_FOLDER, cutoff)
