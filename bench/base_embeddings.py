"""Write ``src/voxhub/workers/base_embeddings.json``: the shipped neural voices' embeddings.

Each neural base voice (Piper's Joe, Kokoro's English and Japanese styles) is measured as a
clone job measures it — its rendering of its language's measurement text, embedded by the
speaker encoder — and the embedding is written under the key the clone job looks up, so a
clone on a fresh install renders only the base voice it chooses. Run again when an engine, a
measurement text or the encoder changes (the key holds the text's hash and the measurement
version; a stale entry is simply not found and the voice is measured at clone time).

    python -m bench.base_embeddings        # from the repository root
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.recordings import cache_dir
from voxhub.engines import installed_engines
from voxhub.workers.cloning import BaseVoice, _measure, measure_text, shipped_key
from voxhub.workers.state import init_worker

TARGET = Path(__file__).parent.parent / "src/voxhub/workers/base_embeddings.json"
_CODES = {"English": "en", "Japanese": "ja"}


def main() -> None:
    init_worker(str(cache_dir().parent / "models"))
    table = {}
    for engine in installed_engines(None):
        if engine.name == "espeak":
            continue
        for voice in engine.voices():
            code = _CODES[voice.language]
            base = BaseVoice(engine.name, voice.key, voice.gender, voice.language,
                             measure_text(code))  # fmt: skip
            table[shipped_key(base)] = [round(float(v), 5) for v in _measure(base).embedding]
            print(shipped_key(base), flush=True)
    lines = [f"{json.dumps(key)}: {json.dumps(table[key])}" for key in sorted(table)]
    TARGET.write_text("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
