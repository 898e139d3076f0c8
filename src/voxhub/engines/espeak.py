"""eSpeak NG: a formant synthesizer for 100+ languages, shipped as a wheel (espeakng-loader).

Its voices are the language definitions in ``espeak-ng-data/lang``: each file names the
language (``name English (America)``) and the codes it answers to (``language en-us``).
eSpeak NG honours SSML ``<break>``, so every voice supports pauses.
"""

from __future__ import annotations

import ctypes
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from voxhub.engines.base import Engine, EngineVoice, PieceAudio, Samples, SpokenSpan

__all__ = ["EspeakEngine", "dictionary_of", "espeak_data_dir", "parse_language_file"]

_REGION = re.compile(r"^[a-z]{2}$|^\d{3}$")


def espeak_data_dir() -> Path:
    import espeakng_loader

    return Path(espeakng_loader.get_data_path())


def bcp47(code: str) -> str:
    """``en-us`` -> ``en-US``; ``en-gb-x-rp`` -> ``en-GB-x-rp``; ``cmn`` -> ``cmn``."""
    parts = code.split("-")
    out = [parts[0].lower()]
    private = False
    for part in parts[1:]:
        private = private or part.lower() == "x"
        out.append(part.upper() if not private and _REGION.match(part.lower()) else part)
    return "-".join(out)


def dictionary_of(text: str) -> str:
    """The pronunciation dictionary a language file names (by default its language's code)."""
    fields = [line.split("//", 1)[0].split() for line in text.splitlines()]
    named = [f[1] for f in fields if len(f) >= 2 and f[0] == "dictionary"]
    codes = [f[1] for f in fields if len(f) >= 2 and f[0] == "language"]
    return named[0] if named else (codes[0].split("-", 1)[0] if codes else "")


def parse_language_file(key: str, text: str) -> EngineVoice | None:
    name = ""
    codes: list[str] = []
    gender = "male"  # eSpeak NG's language voices are male unless a variant says otherwise
    for raw in text.splitlines():
        fields = raw.split("//", 1)[0].split()
        if len(fields) < 2:
            continue
        if fields[0] == "name" and not name:
            name = " ".join(fields[1:])
        elif fields[0] == "language":
            codes.append(fields[1])
        elif fields[0] == "gender" and fields[1] in ("male", "female"):
            gender = fields[1]
    if not name or not codes:
        return None
    return EngineVoice(
        engine="espeak",
        key=key,
        name=name,
        language=name.split(" (", 1)[0].strip(),
        gender=gender,
        locale=bcp47(codes[0]),
        support_pause=True,
        support_locale=False,
    )


class EspeakEngine(Engine):
    name = "espeak"
    aligns = True

    def __init__(self, data_dir: Path | None = None) -> None:
        self._data_dir = data_dir
        self._library: _Library | None = None

    def synthesize(self, text: str, voice_key: str, speed: float) -> PieceAudio:
        if self._library is None:
            self._library = _Library()
        rate = round(min(_MAX_RATE, max(_MIN_RATE, _NORMAL_RATE * speed)))
        samples, words = self._library.speak(text, voice_key, rate)
        rate_hz = self._library.sample_rate
        return PieceAudio(samples, rate_hz, _spans(words, len(samples), rate_hz))

    def voices(self) -> list[EngineVoice]:
        """Every language voice whose pronunciation dictionary ships too (without it eSpeak NG
        speaks nothing but silence)."""
        data_dir = self._data_dir or espeak_data_dir()
        found = []
        for path in sorted(p for p in (data_dir / "lang").rglob("*") if p.is_file()):
            key = path.relative_to(data_dir / "lang").as_posix()
            text = path.read_text(encoding="utf-8", errors="replace")
            voice = parse_language_file(key, text)
            if voice is not None and (data_dir / f"{dictionary_of(text)}_dict").is_file():
                found.append(voice)
        return found


# --- synthesis through libespeak-ng (ctypes; the library ships in the espeakng-loader wheel) ---

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_RATE = 1
_EVENT_END_OF_LIST = 0
_EVENT_WORD = 1
_NORMAL_RATE = 175  # words per minute, eSpeak NG's default
_MIN_RATE, _MAX_RATE = 80, 450


_WordEvent = tuple[int, int, int]  # (character position from 0, length, first sample)


class _Event(ctypes.Structure):
    _fields_: ClassVar = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class _Library:
    """libespeak-ng, initialised once per process for synchronous synthesis."""

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = int(self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0))
        if self.sample_rate <= 0:
            raise RuntimeError("eSpeak NG failed to initialise")
        self._chunks: list[npt.NDArray[np.int16]] = []
        self._words: list[_WordEvent] = []
        self._callback = _Callback(self._collect)
        self._lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != _EVENT_END_OF_LIST:
            event = events[i]
            if event.type == _EVENT_WORD:
                self._words.append((event.text_position - 1, event.length, event.sample))
            i += 1
        return 0

    def speak(self, text: str, voice_key: str, rate: int) -> tuple[Samples, list[_WordEvent]]:
        if self._lib.espeak_SetVoiceByName(voice_key.encode()) != 0:
            raise ValueError(f"eSpeak NG has no voice {voice_key!r}")
        self._lib.espeak_SetParameter(_RATE, rate, 0)
        self._chunks, self._words = [], []
        data = text.encode()
        self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return (pcm.astype(np.float32) / 32768.0), self._words


def _spans(words: list[_WordEvent], total: int, rate: int) -> list[SpokenSpan]:
    """A word is heard from its event's sample to the next word's (or the end)."""
    spans = []
    for index, (position, length, sample) in enumerate(words):
        end = max(sample, words[index + 1][2] if index + 1 < len(words) else total)
        spans.append(SpokenSpan(position, position + length, sample / rate, end / rate))
    return spans
