"""Write the shipped neural voices' measurements: ``src/voxhub/workers/base_embeddings.json``
(their embeddings), ``src/voxhub/workers/base_renderings/*.flac`` (their renderings of the
measurement text, and of each preview sentence of their language: what a clone's preview and
a public voice's preview read instead of speaking) and
``src/voxhub/workers/gender_references.json`` (the English ones at the neutral pitch, what a
clone's gender is told against).

Each neural base voice (Piper's Joe, Kokoro's English and Japanese styles, and the mixes of
two styles Kokoro makes) is rendered as a clone job renders it — its language's measurement
text — and embedded by the speaker encoder; both are written under the names the clone job
looks up, so a clone on a fresh install renders nothing. Run with ``--all`` when an engine, a
measurement text or the encoder changes (names hold the text's hash and the measurement
version; a stale one is simply not found and the voice is rendered at clone time, a mix not
tried). Files of older versions are removed.

    python -m bench.base_embeddings                       # what is missing (from the repo root)
    python -m bench.base_embeddings --all                 # everything again
    python -m bench.base_embeddings --gender-references   # from the shipped renderings
    python -m bench.base_embeddings --previews            # the preview sentences only
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.recordings import cache_dir
from voxhub.audio.analysis import ANALYSIS_RATE, resample
from voxhub.audio.encode import FORMATS, StreamingEncoder
from voxhub.audio.gender import neutral_pitch_embedding
from voxhub.engines import installed_engines
from voxhub.services.previews import preview_sentence
from voxhub.workers.cloning import (
    BaseVoice,
    _measure,
    _render_measurement,
    measure_text,
    shipped_key,
    shipped_rendering_name,
)
from voxhub.workers.render import engine_named
from voxhub.workers.render import shipped_rendering_name as piece_rendering_name
from voxhub.workers.script import Piece, parse_input
from voxhub.workers.state import init_worker

TARGET = Path(__file__).parent.parent / "src/voxhub/workers/base_embeddings.json"
RENDERINGS = TARGET.parent / "base_renderings"
GENDER_TARGET = TARGET.parent / "gender_references.json"
_CODES = {"English": "en", "Japanese": "ja"}


def _flac(samples: object, rate: int) -> bytes:
    encoder = StreamingEncoder(FORMATS["flac"], rate)
    encoder.add(samples)  # type: ignore[arg-type]
    return encoder.finish()


def _text(language: str) -> str:
    return measure_text(_CODES[language])


def neural_voices() -> list[BaseVoice]:
    """The neural engines' voices, then the mixes each engine makes of a language's voices
    (``Engine.mixes``: a clone may start from one only where its measurement ships)."""
    voices = []
    for engine in installed_engines(None):
        if engine.name == "espeak":
            continue
        listed = engine.voices()
        voices += [BaseVoice(engine.name, v.key, v.gender, v.language, _text(v.language))
                   for v in listed]  # fmt: skip
        for language in dict.fromkeys(v.language for v in listed):
            keys = [v.key for v in listed if v.language == language]
            voices += [BaseVoice(engine.name, key, None, language, _text(language))
                       for key in engine.mixes(keys)]  # fmt: skip
    return voices


def _json_lines(table: dict[str, object]) -> str:
    lines = [f"{json.dumps(key)}: {json.dumps(table[key])}" for key in sorted(table)]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def gender_reference(base: BaseVoice) -> list[float]:
    """A base voice's embedding at the neutral pitch, from its (shipped) measurement."""
    measured = _measure(base)
    speech = resample(measured.samples, measured.rate, ANALYSIS_RATE)
    return [round(float(v), 5) for v in neutral_pitch_embedding(speech)]


def write_gender_references() -> None:
    english = [v for v in neural_voices() if v.language == "English" and v.gender]
    table: dict[str, object] = {
        f"{base.engine}/{base.voice_key}": {
            "gender": base.gender,
            "embedding": gender_reference(base),
        }
        for base in english
    }
    GENDER_TARGET.write_text(_json_lines(table))


def write_previews(fresh: bool = True) -> set[str]:
    """Each neural voice's rendering of each preview sentence of its language, as the engine
    speaks it (before silence is trimmed); with ``fresh`` false, only those missing. The
    names of all of them."""
    names = set()
    for base in neural_voices():
        script = parse_input(preview_sentence(_CODES[base.language]), "text", pauses=True)
        for piece in (part for part in script.parts if isinstance(part, Piece)):
            name = piece_rendering_name(base.engine, base.voice_key, piece.text)
            names.add(name)
            if fresh or not (RENDERINGS / name).exists():
                spoken = engine_named(base.engine).synthesize(piece.text, base.voice_key, 1.0)
                (RENDERINGS / name).write_bytes(_flac(spoken.samples, spoken.sample_rate))
        print(f"{base.engine}/{base.voice_key}: preview", flush=True)
    return names


def write_measurements(fresh: bool) -> set[str]:
    """Each neural voice's rendering of its measurement text and its embedding; with
    ``fresh`` false, only those not shipped yet. The renderings' names."""
    shipped = {} if fresh or not TARGET.exists() else json.loads(TARGET.read_text())
    table, names = {}, set()
    for base in neural_voices():
        key, name = shipped_key(base), shipped_rendering_name(base)
        names.add(name)
        if key in shipped and (RENDERINGS / name).exists():
            table[key] = shipped[key]
            continue
        measured = _render_measurement(base)
        table[key] = [round(float(v), 5) for v in measured.embedding]
        (RENDERINGS / name).write_bytes(_flac(measured.samples, measured.rate))
        print(key, flush=True)
    TARGET.write_text(_json_lines(table))
    return names


def main() -> None:
    init_worker(str(cache_dir().parent / "models"))
    if "--gender-references" in sys.argv[1:]:
        write_gender_references()
        return
    fresh = "--all" in sys.argv[1:]
    RENDERINGS.mkdir(exist_ok=True)
    if "--previews" in sys.argv[1:]:
        write_previews(fresh)
        return
    current = write_measurements(fresh) | write_previews(fresh)
    for old in RENDERINGS.glob("*.flac"):
        if old.name not in current:
            old.unlink()
    write_gender_references()


if __name__ == "__main__":
    main()
