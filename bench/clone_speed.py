"""Speech speed against closeness, by the engines a clone may be based on.

``VOXHUB_CLONE_BASE_ENGINES`` trades one for the other: Kokoro's English voices are usually
closer to a speaker than Piper's Joe, and slower. For each setting (any engine, then ``piper``)
this starts a server on a fresh data dir, clones the first samples of ``bench/clone.py``'s set
(human recordings, ``bench/recordings.py``), speaks the same English text in each clone and
prints, per clone: its base voice and conversion, seconds to complete, speech RTF, WER
(Whisper tiny.en) and the similarity of its speech to the speaker's held-out speech by
voxhub's own encoder and by the two judges (``bench/judges.py``). Unlike ``bench/clone.py``
it measures no public voice, so it takes minutes, not an hour.

    python -m bench.clone_speed [--samples 3] [--base-engines any piper]   # voxhub[bench]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
from contextlib import closing
from pathlib import Path

from bench.clone import TEXT, _transform, base_voice_id, clone
from bench.judges import JUDGES
from bench.recordings import RECORDINGS, held_out, sample_wav
from bench.speech import Recogniser, decode_16k, speak, start_server, word_error_rate
from voxhub.audio.speaker import cosine, speaker_embedding

SETTINGS = ("", "piper")  # VOXHUB_CLONE_BASE_ENGINES: any engine, then Piper only


def measure(setting: str, samples: int, port: int, recogniser: Recogniser) -> list[list[str]]:
    rows = []
    with tempfile.TemporaryDirectory() as data:
        environ = {"VOXHUB_CLONE_BASE_ENGINES": setting}
        server = start_server(Path(data), port, VOXHUB_MEASURE_BASE_VOICES="true", **environ)
        try:
            for recording in RECORDINGS[:samples]:
                held = held_out(recording)
                voice_id, status, _, completed = clone(
                    server, recording.name, sample_wav(recording)
                )
                if status != "complete":
                    rows.append(
                        [setting or "(any)", recording.name, status] + ["–"] * (6 + len(JUDGES))
                    )
                    continue
                spoken, elapsed, audio = speak(server, voice_id, TEXT)
                speech = decode_16k(audio)
                _, profile = base_voice_id(Path(data), voice_id)
                judged = {
                    name: cosine(judge(speech), judge(held)) for name, judge in JUDGES.items()
                }
                base = _base_voice(Path(data), voice_id)
                row = [
                    setting or "(any)", recording.name, f"{base} ({_transform(profile)})",
                    f"{completed:.1f}", f"{elapsed / spoken['duration']:.3f}",
                    f"{word_error_rate(TEXT, recogniser.transcribe(audio)):.1%}",
                    f"{cosine(speaker_embedding(speech), speaker_embedding(held)):.3f}",
                    *(f"{judged[name]:.3f}" for name in JUDGES),
                ]  # fmt: skip
                rows.append(row)
                print(" | ".join(row), file=sys.stderr, flush=True)
        finally:
            server.stop()
    return rows


def _base_voice(data: Path, voice_id: str) -> str:
    with closing(sqlite3.connect(data / "voxhub.db")) as db:
        row = db.execute(
            "SELECT engine, engine_voice FROM voices WHERE voice_id = ?", (voice_id,)
        ).fetchone()
    return f"{row[0]} {row[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--port", type=int, default=18791)
    parser.add_argument("--base-engines", nargs="+", default=list(SETTINGS),
                        help="the settings compared (default: any engine, then piper)")  # fmt: skip
    args = parser.parse_args()
    recogniser = Recogniser()
    settings = ["" if s in ("", "any") else s for s in args.base_engines]
    rows = [row for s in settings for row in measure(s, args.samples, args.port, recogniser)]
    judges = " | ".join(JUDGES)
    print(f"| base engines | sample | base voice (conversion) | complete s | speech RTF | WER "
          f"| own encoder | {judges} |")  # fmt: skip
    print("|---" * (7 + len(JUDGES)) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for setting in settings:
        done = [r for r in rows if r[0] == (setting or "(any)") and r[3] != "–"]
        if done:
            means = [statistics.mean(float(r[i]) for r in done) for i in range(6, 7 + len(JUDGES))]
            rtf = statistics.median(float(r[4]) for r in done)
            print(f"{setting or '(any)'}: median RTF {rtf:.3f}, mean similarity "
                  + ", ".join(f"{m:.3f}" for m in means))  # fmt: skip
    blend = os.environ.get("VOXHUB_CLONE_FRAME_BLEND", "0.6 (default)")
    print(f"VOXHUB_CLONE_FRAME_BLEND={blend}; machine: {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
