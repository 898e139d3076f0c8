"""Speech engines.

The engines that ship with voxhub are eSpeak NG, Piper and Kokoro. An operator adds an engine of
their own (say, a neural model whose weights sit on local disk) by installing a package that
declares an entry point in the ``voxhub.engines`` group: a callable that takes the model
directory (a ``pathlib.Path``) and returns an ``Engine``. Its voices join the catalog at the
next start.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from voxhub.engines.base import Engine, EngineVoice, PieceAudio, Samples, SpokenSpan
from voxhub.engines.espeak import EspeakEngine
from voxhub.engines.kokoro import KokoroEngine
from voxhub.engines.piper import PiperEngine
from voxhub.engines.profile import (
    VoiceProfile,
    apply_transform,
    profile_json,
    profile_of,
    register_transform,
    stored_parameters,
    with_stored,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Engine",
    "EngineVoice",
    "EspeakEngine",
    "KokoroEngine",
    "PieceAudio",
    "PiperEngine",
    "Samples",
    "SpokenSpan",
    "VoiceProfile",
    "apply_transform",
    "installed_engines",
    "profile_json",
    "profile_of",
    "register_transform",
    "stored_parameters",
    "with_stored",
]

ENTRY_POINT_GROUP = "voxhub.engines"


def installed_engines(model_dir: Path | None = None) -> list[Engine]:
    """The engines of this installation, in catalog order: the neural ones first, then any
    plug-in engines, then eSpeak NG for the many languages the neural voices lack."""
    plugins = [ep.load()(model_dir) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    engines: list[Engine] = [PiperEngine(), KokoroEngine(model_dir), *plugins, EspeakEngine()]
    return [engine for engine in engines if isinstance(engine, Engine)]
