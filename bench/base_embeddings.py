"""Write the shipped neural voices' measurements: ``src/voxhub/workers/base_embeddings.json``
(their embeddings) and ``src/voxhub/workers/base_measurements/*.flac`` (their renderings).

Each neural base voice (Piper's Joe, Kokoro's English and Japanese styles) is rendered as a
clone job renders it — its language's measurement text — and embedded by the speaker encoder;
both are written under the names the clone job looks up, so a clone on a fresh install renders
nothing but its preview. Run again when an engine, a measurement text or the encoder changes
(names hold the text's hash and the measurement version; a stale one is simply not found and
the voice is rendered at clone time). Files of older versions are removed.

    python -m bench.base_embeddings        # from the repository root
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.recordings import cache_dir
from voxhub.audio.encode import FORMATS, StreamingEncoder
from voxhub.engines import installed_engines
from voxhub.workers.cloning import (
    BaseVoice,
    _render_measurement,
    measure_text,
    shipped_key,
    shipped_rendering_name,
)
from voxhub.workers.state import init_worker

TARGET = Path(__file__).parent.parent / "src/voxhub/workers/base_embeddings.json"
RENDERINGS = TARGET.parent / "base_measurements"
_CODES = {"English": "en", "Japanese": "ja"}


def _flac(samples: object, rate: int) -> bytes:
    encoder = StreamingEncoder(FORMATS["flac"], rate)
    encoder.add(samples)  # type: ignore[arg-type]
    return encoder.finish()


def main() -> None:
    init_worker(str(cache_dir().parent / "models"))
    table = {}
    RENDERINGS.mkdir(exist_ok=True)
    for old in RENDERINGS.glob("*.flac"):
        old.unlink()
    for engine in installed_engines(None):
        if engine.name == "espeak":
            continue
        for voice in engine.voices():
            code = _CODES[voice.language]
            base = BaseVoice(engine.name, voice.key, voice.gender, voice.language,
                             measure_text(code))  # fmt: skip
            measured = _render_measurement(base)
            table[shipped_key(base)] = [round(float(v), 5) for v in measured.embedding]
            (RENDERINGS / shipped_rendering_name(base)).write_bytes(
                _flac(measured.samples, measured.rate)
            )
            print(shipped_key(base), flush=True)
    lines = [f"{json.dumps(key)}: {json.dumps(table[key])}" for key in sorted(table)]
    TARGET.write_text("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
