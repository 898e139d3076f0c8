"""Design a Voice: the voices that best fit a description, found by meaning, not keywords.

Every voice has a description written from what was measured about its audio — pitch, pitch
range, pace, brightness (``audio/voicetraits.py``, measured once from its preview clip) — and
from its catalog facts: gender, language and accent, and whether its engine is neural or a
formant synthesizer. The description is a few short phrases, one per aspect ("extremely deep,
bass voice of a male", "slow, calm pace", "warm, dark, mellow tone", "English with a British
accent", ...). The prompt and the phrases are embedded by a sentence-embedding model in the
worker processes (``workers/embedding.py``); a voice scores the mean cosine similarity of the
prompt to its phrases, so every aspect counts the same and no long phrase drowns the others
(one embedding of a whole description ranked a mid-pitched voice first for "deep calm male
narrator"). Phrases are shared between voices, so there are few to embed.

A public voice whose preview has not been measured yet is still found: its description then
holds only its catalog facts (the job workers measure it once its preview exists; API
processes read new measurements every ``refresh_seconds`` in the background and use them once
their phrases are embedded). That warm-up is background work in the speech workers, which run
less nice than the job workers: it waits while a clone is waiting or processing, so that the
first clone after a start does not share the CPU with it. The ``gender`` and ``locale``
filters apply before ranking, so a prompt that matches nothing still answers the closest
voices. A caller's own complete clones take part; another account's never do.

The ranking is deterministic: scores are rounded before sorting and ties go to the voice id,
so the same prompt and seed give the same voices while the catalog and its measurements stay
the same. ``seed`` picks the batch: 0 the best three, 1 the next three, and so on.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import re
import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from voxhub.domain import BACKGROUND_PRIORITY, Job, Voice, VoiceQuery
from voxhub.errors import InvalidParameter, ServiceUnavailable
from voxhub.jobs import JobQueue, now_ms
from voxhub.services.previews import preview_key
from voxhub.services.voices import VoiceService
from voxhub.storage import Storage
from voxhub.store import Store
from voxhub.workers.design import EmbeddingUnavailable, embed_texts, measure_voice_audio
from voxhub.workers.embedding import EMBEDDING_DIMENSIONS
from voxhub.workers.pool import JobRunner
from voxhub.workers.state import BoundedCache

__all__ = [
    "BATCH_SIZE",
    "TRAITS_JOB",
    "DesignRequest",
    "DesignResult",
    "DesignService",
    "describe",
    "facets",
    "scores",
]

log = logging.getLogger(__name__)

TRAITS_JOB = "voice-traits"
TRAITS_VERSION = 1
BATCH_SIZE = 3
MAX_PROMPT_CHARS = 1000
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_CLONES_CONSIDERED = 1000
_SCORE_DECIMALS = 5
_CHUNK = 16  # texts embedded per worker job
_YIELD_POLL_SECONDS = 1.0
_MOST_YIELD_SECONDS = 600.0  # a warm-up chunk waits no longer for user work (a stalled queue)
Vector = np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True, slots=True)
class DesignRequest:
    prompt: str
    gender: str | None = None
    locale: str | None = None
    seed: int = 0


@dataclass(frozen=True, slots=True)
class DesignResult:
    voices: list[Voice]
    seed: int


# --- descriptions ------------------------------------------------------------------------

_REGIONS = {
    "US": "American", "GB": "British", "AU": "Australian", "CA": "Canadian", "IE": "Irish",
    "IN": "Indian", "NZ": "New Zealand", "ZA": "South African", "BR": "Brazilian",
    "PT": "European Portuguese", "ES": "Castilian", "MX": "Mexican", "419": "Latin American",
    "FR": "French", "BE": "Belgian", "CH": "Swiss", "DE": "German", "AT": "Austrian",
    "JP": "Japanese", "029": "Caribbean", "scotland": "Scottish",
}  # fmt: skip


# Words for a measure, by the first band whose upper limit it is under (else the last words).
_PITCH_WORDS = (
    (90.0, "extremely deep, bass voice"),
    (110.0, "very deep, low voice"),
    (140.0, "deep, low voice"),
    (200.0, "medium-pitched voice"),
    (260.0, "high-pitched voice"),
    (math.inf, "very high-pitched voice"),
)
_RANGE_WORDS = (
    (5.0, "monotone, flat delivery"),
    (8.0, "even, moderately varied delivery"),
    (math.inf, "expressive, lively delivery"),
)
_PACE_WORDS = ((3.6, "slow, calm pace"), (4.6, "moderate pace"), (math.inf, "fast, brisk pace"))
_TONE_WORDS = (
    (450.0, "warm, dark, mellow tone"),
    (750.0, "clear, balanced tone"),
    (math.inf, "bright, crisp, buzzy tone"),
)


def _banded(value: float, bands: tuple[tuple[float, str], ...]) -> str:
    return next((words for limit, words in bands if value < limit), bands[-1][1])


def _pitch_words(hz: float) -> str:
    return _banded(hz, _PITCH_WORDS)


def _range_words(semitones: float) -> str:
    return _banded(semitones, _RANGE_WORDS)


def _pace_words(rate: float) -> str:
    return _banded(rate, _PACE_WORDS)


def _tone_words(centroid_hz: float) -> str:
    return _banded(centroid_hz, _TONE_WORDS)


def _accent(locale: str | None, language: str) -> str:
    regions = [_REGIONS[p] for p in (locale or "").split("-")[1:] if p in _REGIONS]
    if regions:
        article = "an" if regions[-1][0] in "AEIOU" else "a"
        return f"{language} with {article} {regions[-1]} accent"
    return f"speaks {language}"


def facets(
    voice: Voice, traits: dict[str, Any] | None, *, neural: bool, locale: str | None
) -> list[str | None]:
    """What a person would hear, as short phrases, one per aspect, in a fixed order: gender,
    pitch, pitch range, pace, tone (None: not measured yet), accent, engine, name."""
    gender = voice.gender if voice.gender in ("male", "female") else None
    measured: list[str | None] = [None] * 4
    if traits:
        measured = [
            f"{_pitch_words(traits['pitch_hz'])} of a {gender or 'person'}",
            _range_words(traits["pitch_range_semitones"]),
            _pace_words(traits["syllables_per_second"]),
            _tone_words(traits["spectral_centroid_hz"]),
        ]
    engine = "natural, human-like neural voice" if neural else "robotic, synthetic formant voice"
    return [
        f"a {gender} voice" if gender else "a voice",
        *measured,
        _accent(locale, voice.language),
        engine,
        voice.name,
    ]


def describe(
    voice: Voice, traits: dict[str, Any] | None, *, neural: bool, locale: str | None
) -> str:
    """The voice's facets as one line, for people (the bench, logs)."""
    phrases = facets(voice, traits, neural=neural, locale=locale)
    return "; ".join(p for p in phrases if p is not None) + "."


def scores(similarity: list[list[float | None]]) -> list[float]:
    """Each voice's mean similarity over the aspects. A voice has every aspect's phrase but
    the measured ones before it is measured: there it gets that aspect's mean over the voices
    that have one, so that it is neither favoured by having fewer phrases nor pushed down."""
    aspects = len(similarity[0]) if similarity else 0
    means: list[float | None] = []
    for aspect in range(aspects):
        known = [row[aspect] for row in similarity if row[aspect] is not None]
        means.append(statistics.fmean(v for v in known if v is not None) if known else None)
    result = []
    for row in similarity:
        filled = [v if v is not None else means[i] for i, v in enumerate(row)]
        result.append(round(statistics.fmean(v for v in filled if v is not None), _SCORE_DECIMALS))
    return result


# --- the service -------------------------------------------------------------------------


class DesignService:
    max_attempts = 3  # leases of one measuring job before it is given up

    def __init__(
        self,
        store: Store,
        voices: VoiceService,
        runner: JobRunner,
        storage: Storage,
        *,
        refresh_seconds: float = 30.0,
        vectors_kept: int = 4096,
        yields_to: tuple[str, ...] = (),
    ) -> None:
        self._store = store
        self._voices = voices
        self._runner = runner
        self._storage = storage
        self._refresh_seconds = refresh_seconds
        self._public_traits: dict[str, dict[str, Any]] = {}
        self._read_at = float("-inf")
        self._vectors: BoundedCache[str, Vector] = BoundedCache(vectors_kept)
        self._embedding = asyncio.Lock()
        self._yields_to = yields_to  # job kinds a person waits for: the warm-up waits for them

    async def design(self, account_id: str, request: DesignRequest) -> DesignResult:
        prompt, gender, locale = _checked(request)
        candidates = await self._candidates(account_id)
        chosen = [
            (voice, traits) for voice, traits in candidates
            if (gender is None or voice.gender == gender)
            and (locale is None or _locale_matches(self._locale_of(voice), locale))
        ]  # fmt: skip
        if not chosen:
            return DesignResult([], request.seed)
        phrases = [self.facets(voice, traits) for voice, traits in chosen]
        unique = list(dict.fromkeys(p for row in phrases for p in row if p is not None))
        vectors = await self._embed([prompt, *unique])
        similarity = dict(zip(unique, (vectors[1:] @ vectors[0]).tolist(), strict=True))
        score = scores([[similarity[p] if p else None for p in row] for row in phrases])
        order = sorted(range(len(chosen)), key=lambda i: (-score[i], chosen[i][0].voice_id))
        start = request.seed * BATCH_SIZE
        return DesignResult([chosen[i][0] for i in order[start : start + BATCH_SIZE]], request.seed)

    def facets(self, voice: Voice, traits: dict[str, Any] | None) -> list[str | None]:
        locale = self._locale_of(voice)
        return facets(voice, traits, neural=self._voices.is_neural(voice), locale=locale)

    def description(self, voice: Voice, traits: dict[str, Any] | None) -> str:
        locale = self._locale_of(voice)
        return describe(voice, traits, neural=self._voices.is_neural(voice), locale=locale)

    async def candidates(self, account_id: str) -> list[tuple[Voice, dict[str, Any] | None]]:
        """Every voice the account may design from, with its measured traits (None: none)."""
        return await self._candidates(account_id)

    async def _candidates_public(self) -> list[tuple[Voice, dict[str, Any] | None]]:
        public = await self._public()
        return [(v, public.get(v.voice_id)) for v in self._voices.public_voices]

    async def _candidates(self, account_id: str) -> list[tuple[Voice, dict[str, Any] | None]]:
        voices = await self._candidates_public()
        query = VoiceQuery(account_id=account_id, limit=_CLONES_CONSIDERED)
        clones = [v for v in await self._store.list_voices(query) if v.status == "complete"]
        if clones:
            theirs = _parsed(await self._store.voice_traits(account_id))
            voices += [(v, theirs.get(v.voice_id)) for v in clones]
        return voices

    async def _public(self) -> dict[str, dict[str, Any]]:
        """The public voices' traits: as ``keep_warm`` last embedded them, else read now."""
        if self._read_at == float("-inf"):
            self._public_traits = _parsed(await self._store.voice_traits(None))
            self._read_at = time.monotonic()
        return self._public_traits

    def _locale_of(self, voice: Voice) -> str | None:
        """A clone has no locale of its own: it speaks with its base voice's (a base mixed
        from two voices, which is not listed, with theirs: its engine's in its language)."""
        if voice.locale or voice.is_public:
            return voice.locale
        kin = [b for b in self._voices.public_voices
               if b.engine == voice.engine and b.language == voice.language]  # fmt: skip
        base = next((b for b in kin if b.engine_voice == voice.engine_voice), None)
        base = base or (kin[0] if kin else None)
        return base.locale if base else None

    async def keep_warm(self) -> None:
        """An API process's background task: embed the public voices' facets before a request
        needs them, and again whenever new measurements are stored (read every
        ``refresh_seconds`` until every voice has them). Requests see new measurements only
        once their phrases are embedded, so they never wait for it."""
        while True:
            traits = _parsed(await self._store.voice_traits(None))
            voices = self._voices.public_voices
            rows = [self.facets(v, traits.get(v.voice_id)) for v in voices]
            phrases = list(dict.fromkeys(p for row in rows for p in row if p is not None))
            for start in range(0, len(phrases), _CHUNK):
                await self._after_user_work()
                await self._embed(phrases[start : start + _CHUNK], background=True)
            self._public_traits, self._read_at = traits, time.monotonic()
            if len(traits) >= len(voices):
                return
            await asyncio.sleep(self._refresh_seconds)

    async def _after_user_work(self) -> None:
        """Wait while jobs of the kinds a person waits for are unfinished (bounded)."""
        waited = 0.0
        while waited < _MOST_YIELD_SECONDS and await self._user_work_unfinished():
            await asyncio.sleep(_YIELD_POLL_SECONDS)
            waited += _YIELD_POLL_SECONDS

    async def _user_work_unfinished(self) -> bool:
        try:
            return any([await self._store.count_unfinished_jobs(k) for k in self._yields_to])
        except Exception:  # the database may be away for a moment: do not wait for it
            log.exception("could not count the unfinished jobs")
            return False

    async def _embed(self, texts: list[str], *, background: bool = False) -> Vector:
        """Unit vectors of the texts, from the bounded cache or the workers. One computation
        at a time: a request that arrives during the warm-up waits for it rather than doing
        it again. Chunks are small so that speech jobs queued meanwhile take turns."""
        found: dict[str, Vector] = {}
        async with self._embedding:
            for text in texts:
                vector = self._vectors.get(text)
                if vector is not None:
                    found[text] = vector
            missing = list(dict.fromkeys(t for t in texts if t not in found))
            for start in range(0, len(missing), _CHUNK):
                chunk = tuple(missing[start : start + _CHUNK])
                try:
                    run = self._runner.run_background if background else self._runner.run
                    computed = await run(embed_texts, chunk)
                except EmbeddingUnavailable as exc:
                    raise ServiceUnavailable(str(exc)) from exc
                for text, vector in zip(chunk, computed, strict=True):
                    self._vectors.put(text, vector)
                    found[text] = vector
        if not texts:
            return np.zeros((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
        return np.stack([found[t] for t in texts])

    # --- measuring (job workers) ---------------------------------------------------------

    async def measure(self, voice_id: str, audio: bytes) -> bool:
        """Measure a voice's preview clip in a worker and store what was measured."""
        traits = await self._runner.run(measure_voice_audio, audio)
        if traits is None:
            log.warning("a voice's preview had no speech to measure", extra={"voice_id": voice_id})
            return False
        stored = json.dumps({"version": TRAITS_VERSION, **traits}, sort_keys=True)
        await self._store.set_voice_traits(voice_id, stored, int(time.time()))
        return True

    async def measure_quietly(self, voice_id: str, audio: bytes) -> None:
        """Measure, logging rather than raising: a voice works without its description."""
        try:
            await self.measure(voice_id, audio)
        except Exception:
            log.exception(
                "could not measure a voice for Design a Voice", extra={"voice_id": voice_id}
            )

    async def enqueue_missing(self, queue: JobQueue) -> int:
        """A measuring job for every public voice not measured yet; how many are new."""
        measured = await self._store.voice_traits(None)
        now = now_ms()
        added = 0
        missing = [v for v in self._voices.public_voices if v.voice_id not in measured]
        for position, voice in enumerate(missing):
            name = f"{TRAITS_JOB}\n{voice.voice_id}\n{preview_key(voice)}\n{TRAITS_VERSION}"
            job = Job(
                job_id=hashlib.sha256(name.encode()).hexdigest()[:32], kind=TRAITS_JOB,
                subject_id=voice.voice_id, account_id=None, payload="{}",
                created_at=now + position, priority=BACKGROUND_PRIORITY,
            )  # fmt: skip
            added += await queue.enqueue(job)
        return added

    async def run(self, job: Job) -> str | None:
        """Measure a public voice whose preview exists; one still to be rendered is measured
        by its preview job when it is."""
        voice = self._voices.public_voice(job.subject_id or "")
        if voice is None:
            return None
        audio = await asyncio.to_thread(self._storage.read, preview_key(voice))
        if audio is None:
            return None
        if not await self.measure(voice.voice_id, audio):
            return "The voice's preview has no speech to measure."
        return None

    async def abandon(self, job: Job, reason: str) -> None:
        log.warning("a voice's measurement was given up", extra={"voice_id": job.subject_id})


def _checked(request: DesignRequest) -> tuple[str, str | None, str | None]:
    prompt = request.prompt.strip()
    if not prompt or len(request.prompt) > MAX_PROMPT_CHARS:
        raise InvalidParameter(
            f"prompt must be 1 to {MAX_PROMPT_CHARS} characters describing the voice.",
            param="prompt",
        )
    if request.seed < 0:
        raise InvalidParameter("seed must be an integer of 0 or more.", param="seed")
    gender = (request.gender or "").strip().casefold() or None
    if gender not in (None, "male", "female"):
        raise InvalidParameter("gender must be 'male' or 'female'.", param="gender")
    locale = (request.locale or "").strip() or None
    if locale is not None and not _LOCALE.match(locale):
        raise InvalidParameter(
            "locale must be a BCP-47 tag such as 'en-US' or 'pt-BR'.", param="locale"
        )
    return prompt, gender, locale


def _locale_matches(voice_locale: str | None, wanted: str) -> bool:
    """RFC 4647 basic filtering: 'en' matches en-US and en-GB; 'en-GB' matches en-GB-scotland."""
    if voice_locale is None:
        return False
    tag, prefix = voice_locale.casefold(), wanted.casefold()
    return tag == prefix or tag.startswith(prefix + "-")


def _parsed(stored: dict[str, str]) -> dict[str, dict[str, Any]]:
    traits: dict[str, dict[str, Any]] = {}
    for voice_id, text in stored.items():
        data = json.loads(text)
        if data.get("version") == TRAITS_VERSION:
            traits[voice_id] = data
    return traits
