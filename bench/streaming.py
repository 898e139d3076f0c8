"""Stream Speech against Generate Speech: time to the first audio byte, and to the last.

Starts ``voxhub serve`` with one speech worker (free between requests), warms each voice,
then for each voice and text size runs, in turn and ``--repeats`` times: Generate Speech
(POST to its JSON answer, then the file fetched), Stream Speech as MP3 and as PCM (POST to
the first audio byte, and to the last), and the OpenAI-compatible route as MP3. Prints
medians in seconds, and the audio's duration.

    python -m bench.streaming [--voices piper,espeak,kokoro] [--sizes 40w,400w] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx

from bench.get_voice import free_port
from bench.speech import ENGLISH, JAPANESE, Server, start_server, text_of
from voxhub.engines import installed_engines
from voxhub.ids import public_voice_id
from voxhub.workers.script import Piece, parse_input

VOICES = {
    "piper": ("en_US-joe-medium", ENGLISH),
    "espeak": ("gmw/en-US", ENGLISH),
    "kokoro": ("jf_alpha", JAPANESE),
}


def generate(server: Server, voice_id: str, text: str) -> tuple[float, float, float]:
    """(seconds to the JSON answer, seconds to the file downloaded, audio seconds)."""
    started = time.perf_counter()
    response = httpx.post(
        server.url + "/v3/voices/speech",
        json={"text": text, "voice_id": voice_id},
        headers={"x-api-key": server.key},
        timeout=1800,
    )
    response.raise_for_status()
    answered = time.perf_counter() - started
    data = response.json()["data"]
    httpx.get(data["audio_url"], timeout=60).raise_for_status()
    return answered, time.perf_counter() - started, float(data["duration"])


def streamed(server: Server, path: str, body: dict[str, object]) -> tuple[float, float]:
    """(seconds to the first audio byte, seconds to the last)."""
    started = time.perf_counter()
    first = 0.0
    with httpx.stream(
        "POST",
        server.url + path,
        json=body,
        headers={"authorization": f"Bearer {server.key}"},
        timeout=1800,
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            if chunk and not first:
                first = time.perf_counter() - started
    return first, time.perf_counter() - started


def first_piece_seconds(engine_name: str, voice: str, text: str, repeats: int) -> float:
    """How long the engine alone takes to speak the text's first piece, in this process: the
    part of the time to the first byte that streaming cannot save."""
    with tempfile.TemporaryDirectory() as model_dir:
        engine = next(e for e in installed_engines(Path(model_dir)) if e.name == engine_name)
        engine.synthesize("Warm up.", voice, 1.0)
        first = next(
            p for p in parse_input(text, "text", pauses=True).parts if isinstance(p, Piece)
        )
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            engine.synthesize(first.text, voice, 1.0)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}"


def bench_voice(server: Server, engine: str, size: str, repeats: int) -> str:
    key, sentences = VOICES[engine]
    voice_id = public_voice_id(engine, key)
    text = text_of(sentences, size)
    runs: dict[str, list[float]] = {}

    def record(name: str, measure: Callable[[], tuple[float, ...]]) -> None:
        for index, value in enumerate(measure()):
            runs.setdefault(f"{name}{index}", []).append(value)

    v3 = {"text": text, "voice_id": voice_id}
    pcm = {**v3, "output_format": "pcm"}
    openai = {"model": "tts-1", "voice": voice_id, "input": text}
    for _ in range(repeats):
        record("generate", lambda: generate(server, voice_id, text))
        record("mp3", lambda: streamed(server, "/v3/voices/speech/stream", v3))
        record("pcm", lambda: streamed(server, "/v3/voices/speech/stream", pcm))
        record("openai", lambda: streamed(server, "/v1/audio/speech", openai))
    alone = first_piece_seconds(engine, key, text, repeats)
    return (
        f"| {engine} | {size} | {median(runs['generate2'])} | {alone:.2f} | "
        f"{median(runs['generate0'])} | "
        f"{median(runs['generate1'])} | {median(runs['mp30'])} / {median(runs['mp31'])} | "
        f"{median(runs['pcm0'])} / {median(runs['pcm1'])} | "
        f"{median(runs['openai0'])} / {median(runs['openai1'])} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voices", default="piper,espeak,kokoro")
    parser.add_argument("--sizes", default="40w,400w")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        server = start_server(Path(data_dir), free_port())
        try:
            print(
                "| voice | text | audio s | first piece, engine alone s "
                "| Generate Speech: answer s | + file s "
                "| stream MP3: first byte / last s | stream PCM: first / last s "
                "| /v1/audio/speech MP3: first / last s |"
            )
            print("|---|---|---|---|---|---|---|---|---|")
            for engine in args.voices.split(","):
                key, _ = VOICES[engine]
                generate(server, public_voice_id(engine, key), "Warming up.")  # model loaded
                for size in args.sizes.split(","):
                    print(bench_voice(server, engine, size, args.repeats), flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
