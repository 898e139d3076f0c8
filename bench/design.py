"""Design a Voice through the HTTP API: what 20 prompts find, with each voice's measurements.

A fresh server renders every public voice's preview in its job worker and measures it
(pitch, pitch range, syllables per second, spectral centroid); once every preview job has
ended, each prompt is POSTed to /v3/voices twice: once new (its embedding is computed in a
speech worker) and once repeated (from the cache). Printed: a Markdown table of the three
voices each prompt answers, with what was measured about them, and the request latencies.

    python -m bench.design            # from the repository root
"""

from __future__ import annotations

import json
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from bench.speech import Server, start_server

PROMPTS = [
    "deep calm male narrator",
    "bright young female voice, British",
    "warm, confident female narrator",
    "a very low, slow, gravelly male voice",
    "high-pitched, cheerful and energetic woman",
    "monotone robotic computer voice",
    "natural, human-sounding American man",
    "soft, gentle, soothing female voice for meditation",
    "fast-talking excited sports commentator",
    "Japanese woman with a clear voice",
    "Scottish accent",
    "French speaker for an audiobook",
    "expressive, animated storyteller for children",
    "serious news anchor with a steady delivery",
    "a mellow, dark voice",
    "crisp, sharp voice for announcements",
    "Spanish from Latin America",
    "German male voice",
    "elderly wise grandfather telling a story",
    "a whisper",
]
PREVIEW_KINDS = ("preview", "voice-traits")


def _jobs_pending(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        marks = ",".join("?" for _ in PREVIEW_KINDS)
        row = conn.execute(
            f"SELECT COUNT(*) FROM jobs WHERE kind IN ({marks})"
            " AND state NOT IN ('done', 'failed')",
            PREVIEW_KINDS,
        ).fetchone()
        return int(row[0])


def _traits(db: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT voice_id, traits FROM voice_traits").fetchall()
    return {voice_id: json.loads(text) for voice_id, text in rows}


def _voices(db: Path) -> dict[str, tuple[str | None, str]]:
    """Locale and engine of every public voice."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT voice_id, locale, engine FROM voices WHERE account_id IS NULL"
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _preview_jobs(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'preview'").fetchone()[0])


def _wait_for_measurements(db: Path, public: int) -> float:
    """Until the job worker has enqueued a preview job per public voice and ended them all."""
    started = time.perf_counter()
    while _preview_jobs(db) < public or _jobs_pending(db):
        time.sleep(2)
    return time.perf_counter() - started


def _design(server: Server, prompt: str) -> tuple[list[dict[str, Any]], float]:
    started = time.perf_counter()
    response = httpx.post(
        server.url + "/v3/voices",
        json={"prompt": prompt},
        headers={"x-api-key": server.key},
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    voices: list[dict[str, Any]] = response.json()["data"]["voices"]
    return voices, elapsed


def _row(prompt: str, rank: int, voice: dict[str, Any], facts: Any, traits: Any) -> str:
    locale, engine = facts
    kind = "formant" if engine == "espeak" else "neural"
    if traits:
        measured = (
            f"{traits['pitch_hz']:.0f} | {traits['pitch_range_semitones']:.1f} | "
            f"{traits['syllables_per_second']:.1f} | {traits['spectral_centroid_hz']:.0f}"
        )
    else:
        measured = "– | – | – | –"
    shown = prompt if rank == 1 else ""
    return (
        f"| {shown} | {rank} | {voice['name']} | {voice['gender']} | {locale or '–'} | "
        f"{kind} | {measured} |"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        db = data_dir / "voxhub.db"
        server = start_server(
            data_dir, _free_port(), VOXHUB_RENDER_PREVIEWS="true", VOXHUB_API_PROCESSES="1"
        )
        try:
            public = len(_voices(db))
            measuring = _wait_for_measurements(db, public)
            # API processes read new measurements every 30 s, embedding them in the background.
            time.sleep(31)
            _, first = _design(server, "a voice")
            new = [_design(server, p) for p in PROMPTS]
            repeated = [_design(server, p)[1] for p in PROMPTS]
            traits, voices = _traits(db), _voices(db)
        finally:
            server.process.terminate()
            server.process.wait(timeout=60)
    print(f"{len(traits)} of {public} voices measured in {measuring:.0f} s (previews rendered)\n")
    columns = "prompt | # | voice | gender | locale | engine | pitch Hz | range st | syll/s"
    print(f"| {columns} | centroid Hz |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for prompt, (answer, _) in zip(PROMPTS, new, strict=True):
        for rank, voice in enumerate(answer, 1):
            vid = voice["voice_id"]
            print(_row(prompt, rank, voice, voices[vid], traits.get(vid)))
    new_ms = sorted(1000 * s for _, s in new)
    repeat_ms = sorted(1000 * s for s in repeated)
    print()
    print("| request | median ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    for label, values in (("new prompt", new_ms), ("repeated prompt", repeat_ms)):
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        print(f"| {label} | {statistics.median(values):.1f} | {p95:.1f} | {values[-1]:.1f} |")
    label = "first request after the measurements"
    print(f"| {label} | {1000 * first:.0f} | | |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
