"""Cloning human voices through the HTTP API: time to complete, speaker similarity, WER, speed.

The samples are human recordings from Debian packages (``bench/recordings.py`` cites each). For
every sample: POST a 30 s clone (``language: en``), poll Get Voice until it is complete, then
speak an English text in the clone (none of it in the sample or in the text base voices are
measured on). Similarity is the cosine of speaker embeddings (the d-vector model voxhub ships)
between that speech and *held-out* recordings of the same speaker (prompts not in the sample);
the same is measured for every public voice, each speaking a text in its own language. The
baseline the clone must beat is the closest public voice that can speak the clone's text
(English); the closest of any language is printed beside it. WER: Whisper tiny.en
(``voxhub[bench]``).

The same speech is also scored by two independent judges (``bench/judges.py``: resemblyzer and
CAM++), which the pipeline never uses: for each, the clone's similarity to the held-out speech,
beside the best English public voice's (the floor to beat) and the clone's base voice's,
unconverted (read from the clone's profile in the server's database).

    python -m bench.clone [--samples 6]      # from the repository root; needs apt-get (Debian)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import httpx2 as httpx

from bench.judges import JUDGES
from bench.recordings import RECORDINGS, held_out, sample_wav
from bench.speech import (
    ENGLISH,
    JAPANESE,
    Recogniser,
    Server,
    decode_16k,
    speak,
    start_server,
    word_error_rate,
)
from voxhub.audio.speaker import cosine, speaker_embedding
from voxhub.ids import public_voice_id

TEXT = " ".join(ENGLISH)  # about 45 s of speech
_OWN_LANGUAGE = {"English": TEXT, "Japanese": "".join(JAPANESE[:3])}
_NUMBERS = ", ".join(str(n) for n in range(1, 31)) + "."


def _get(server: Server, path: str) -> Any:
    response = httpx.get(server.url + path, headers={"x-api-key": server.key}, timeout=60)
    response.raise_for_status()
    return response.json()


def public_voices(server: Server) -> list[dict[str, Any]]:
    voices, token = [], ""
    while True:
        page = _get(server, f"/v3/voices?type=public&limit=100{token}")
        voices += page["data"]
        if not page["has_more"]:
            return voices
        token = f"&token={page['next_token']}"


def public_embeddings(server: Server) -> tuple[list[tuple[str, str, Any]], dict[str, Any]]:
    """Every public voice speaking a text of its own language (numbers where we have none):
    (name, language, embedding); and each English voice's judges' embeddings by voice id
    (``{"name": ..., judge: embedding}``)."""
    embedded, judged = [], {}
    for voice in public_voices(server):
        text = _OWN_LANGUAGE.get(voice["language"].split(" (")[0], _NUMBERS)
        try:
            _, _, audio = speak(server, voice["voice_id"], text)
            samples = decode_16k(audio)
            embedding = speaker_embedding(samples)
            embedded.append((voice["name"], voice["language"], embedding))
        except (httpx.HTTPStatusError, av.FFmpegError) as exc:
            print(f"skipped {voice['name']}: {exc}", file=sys.stderr)
            continue
        if voice["language"].startswith("English"):
            judges = {name: judge(samples) for name, judge in JUDGES.items()}
            judged[voice["voice_id"]] = {"name": voice["name"], **judges}
    return embedded, judged


def base_voice_id(data: Path, voice_id: str) -> tuple[str, str, dict[str, Any]]:
    """The public voice a clone was built on (its id: none is listed for a mix of two), its
    engine's key, and the clone's profile, from the server's database."""
    with sqlite3.connect(data / "voxhub.db") as db:
        engine, engine_voice, profile = db.execute(
            "SELECT engine, engine_voice, profile FROM voices WHERE voice_id = ?", (voice_id,)
        ).fetchone()
    return public_voice_id(engine, engine_voice), engine_voice, json.loads(profile or "{}")


def judge_scores(
    clone_samples: Any, held: Any, judged: dict[str, Any], base_id: str, base_key: str
) -> dict[str, dict[str, Any]]:
    """Per judge: the clone's similarity to the held-out speech, the best English public
    voice's (name, score) and the base voice's (name, score; no score for a mix, which
    cannot be asked to speak through the API)."""
    scores = {}
    for name, judge in JUDGES.items():
        reference = judge(held)
        ranked = sorted(((cosine(v[name], reference), v["name"]) for v in judged.values()),
                        reverse=True)  # fmt: skip
        base = judged.get(base_id)
        scores[name] = {
            "clone": cosine(judge(clone_samples), reference),
            "floor": ranked[0],
            "base": (cosine(base[name], reference), base["name"])
            if base
            else (float("nan"), f"{base_key} (a mix)"),
        }
    return scores


def clone(server: Server, name: str, wav: bytes) -> tuple[str, str, float, float]:
    """(voice id, final status, seconds until the POST was answered, seconds until done)."""
    audio = {"type": "base64", "media_type": "audio/wav", "data": base64.b64encode(wav).decode()}
    body = {"audio": audio, "voice_name": name, "language": "en"}
    headers = {"x-api-key": server.key}
    started = time.perf_counter()
    answer = httpx.post(server.url + "/v3/voices/clone", json=body, headers=headers, timeout=60)
    answer.raise_for_status()
    accepted = time.perf_counter() - started
    voice_id = answer.json()["data"]["voice_clone_id"]
    while (status := _get(server, f"/v3/voices/{voice_id}")["data"]["status"]) == "processing":
        time.sleep(0.05)
    return voice_id, status, accepted, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=len(RECORDINGS))
    parser.add_argument("--port", type=int, default=18790)
    args = parser.parse_args()
    recogniser = Recogniser()
    rows = []
    with tempfile.TemporaryDirectory() as data:
        server = start_server(Path(data), args.port, VOXHUB_MEASURE_BASE_VOICES="true")
        try:
            print("embedding every public voice…", file=sys.stderr, flush=True)
            public, judged = public_embeddings(server)
            for recording in RECORDINGS[: args.samples]:
                held = held_out(recording)
                reference = speaker_embedding(held)
                wav = sample_wav(recording)
                voice_id, status, accepted, completed = clone(server, recording.name, wav)
                if status != "complete":
                    rows.append((recording, status, accepted, completed, None))
                    continue
                spoken, elapsed, audio = speak(server, voice_id, TEXT)
                clone_samples = decode_16k(audio)
                base_id, base_key, profile = base_voice_id(Path(data), voice_id)
                english = [p for p in public if p[1].startswith("English")]
                closest = max(english, key=lambda named: cosine(named[2], reference))
                anywhere = max(public, key=lambda named: cosine(named[2], reference))
                measured = {
                    "ceiling": cosine(speaker_embedding(decode_16k(wav)), reference),
                    "public": cosine(closest[2], reference),
                    "public_name": closest[0],
                    "any": cosine(anywhere[2], reference),
                    "any_name": anywhere[0]
                    if "(" in anywhere[0]
                    else f"{anywhere[0]} ({anywhere[1]})",
                    "clone": cosine(speaker_embedding(clone_samples), reference),
                    "judges": judge_scores(clone_samples, held, judged, base_id, base_key),
                    "transform": _transform(profile),
                    "wer": word_error_rate(TEXT, recogniser.transcribe(audio)),
                    "rtf": elapsed / spoken["duration"],
                }
                rows.append((recording, status, accepted, completed, measured))
                print(recording.name, status, f"{completed:.1f}", measured, file=sys.stderr)
        finally:
            server.stop()
    print_table(rows)


def print_table(rows: list[tuple[Any, str, float, float, dict[str, Any] | None]]) -> None:
    print(
        "| sample (30 s, human) | status | POST s | complete s | same speaker, other prompts "
        "| closest English public voice | its similarity | clone similarity | gain | WER "
        "| speech RTF | closest public voice, any language |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for recording, status, accepted, completed, m in rows:
        cells = [recording.name, status, f"{accepted:.2f}", f"{completed:.1f}"]
        if m is None:
            cells += ["–"] * 8
        else:
            cells += [f"{m['ceiling']:.3f}", m["public_name"], f"{m['public']:.3f}",
                      f"{m['clone']:.3f}", f"{m['clone'] - m['public']:+.3f}",
                      f"{m['wer']:.1%}", f"{m['rtf']:.3f}",
                      f"{m['any_name']} {m['any']:.3f}"]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    done = [(c, m) for _, _, _, c, m in rows if m is not None]
    for name, default in (("FRAME_BLEND", "0.6 (default)"), ("BASE_ENGINES", "(any)")):
        print(f"VOXHUB_CLONE_{name}={os.environ.get('VOXHUB_CLONE_' + name, default)}")
    print(f"median time to complete: {statistics.median(c for c, _ in done):.1f} s")
    print(f"median speech RTF: {statistics.median(m['rtf'] for _, m in done):.3f}")
    gains = [m["clone"] - m["public"] for _, m in done]
    print(f"mean similarity gain over the closest public voice: {statistics.mean(gains):+.3f}")
    print(f"mean WER: {statistics.mean(m['wer'] for _, m in done):.1%}")
    print_judges(rows)
    for recording in RECORDINGS:
        print(f"- {recording.name}: {recording.credit}; Debian package {recording.package} "
              f"({recording.licence})")  # fmt: skip


def _transform(profile: dict[str, Any]) -> str:
    """How the clone converts its base voice, in a few words."""
    transform = profile.get("transform")
    parameters = profile.get("parameters") or {}
    if transform != "world":
        return transform or "none"
    blend = parameters.get("blend", 0.0)
    return f"world {parameters.get('strength', 1.0):g}" + (f", blend {blend:g}" if blend else "")


def print_judges(rows: list[tuple[Any, str, float, float, dict[str, Any] | None]]) -> None:
    done = [(recording, m) for recording, _, _, _, m in rows if m is not None]
    print("\nIndependent judges (never used by the pipeline), clone speech against held-out "
          "speech:\n")  # fmt: skip
    print("| sample | judge | best English public voice | its similarity (floor) "
          "| base voice, unconverted | clone (conversion) | clone − floor |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for recording, m in done:
        for judge, s in m["judges"].items():
            cells = [recording.name, judge, s["floor"][1], f"{s['floor'][0]:.3f}",
                     f"{s['base'][1]} {s['base'][0]:.3f}".replace(" nan", ""),
                     f"{s['clone']:.3f} ({m['transform']})",
                     f"{s['clone'] - s['floor'][0]:+.3f}"]  # fmt: skip
            print("| " + " | ".join(cells) + " |")
    for judge in JUDGES:
        clone = statistics.mean(m["judges"][judge]["clone"] for _, m in done)
        floor = statistics.mean(m["judges"][judge]["floor"][0] for _, m in done)
        bases = [m["judges"][judge]["base"][0] for _, m in done]
        listed = [b for b in bases if b == b]  # a mix has none (nan)
        base = statistics.mean(listed) if listed else float("nan")
        print(
            f"{judge}: mean clone {clone:.3f} (target ≥ 0.72), best public voice {floor:.3f}, "
            f"base voice {base:.3f} ({len(listed)} listed), clone − floor {clone - floor:+.3f}"
        )


if __name__ == "__main__":
    main()
