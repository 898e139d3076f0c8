"""Cloning through the HTTP API: time from POST to complete, and speech in the clone.

A first version: the samples are synthetic speakers (eSpeak NG variants, about 30 s each) — the
fallback the issue allows — because the set of human recordings from packages is not built yet,
and no speaker-similarity or WER column is printed yet (see the README, "Cloning a voice").

    python -m bench.clone [--samples 3]      # from the repository root (uses tests/audio_fixtures)
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
from tests.audio_fixtures import SENTENCES, other_speaker

VOXHUB = str(Path(sys.executable).parent / "voxhub")
SPEAKERS = ["gmw/en-GB-x-rp", "gmw/en-US", "gmw/en-GB-scotland", "gmw/en-029", "gmw/en-GB-x-gbclan"]
TEXT = " ".join(SENTENCES * 8)  # about 90 s of speech


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "VOXHUB_RENDER_PREVIEWS": "false",
            "VOXHUB_RATE_LIMIT": "100000/minute",
        }
        server = subprocess.Popen(
            [VOXHUB, "serve", "--data-dir", data, "--port", "18790"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        assert server.stdout is not None
        key = ""
        while not key.startswith("vxk_"):
            key = server.stdout.readline().decode().strip()
        base, headers = "http://127.0.0.1:18790", {"x-api-key": key}
        for _ in range(300):
            try:
                if httpx.get(base + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        rows = []
        try:
            for voice in SPEAKERS[: args.samples]:
                data64 = base64.b64encode(other_speaker(30.0, voice=voice)).decode()
                body = {"audio": {"type": "base64", "media_type": "audio/wav", "data": data64},
                        "voice_name": voice}  # fmt: skip
                started = time.perf_counter()
                voice_id = httpx.post(base + "/v3/voices/clone", json=body, headers=headers,
                                      timeout=60).json()["data"]["voice_clone_id"]  # fmt: skip
                accepted = time.perf_counter() - started
                while (status := httpx.get(f"{base}/v3/voices/{voice_id}", headers=headers)
                       .json()["data"]["status"]) == "processing":  # fmt: skip
                    time.sleep(0.1)
                completed = time.perf_counter() - started
                started = time.perf_counter()
                speech = {"text": TEXT, "voice_id": voice_id}
                url = base + "/v3/voices/speech"
                spoken = httpx.post(url, headers=headers, timeout=600, json=speech).json()["data"]
                rtf = (time.perf_counter() - started) / spoken["duration"]
                rows.append((voice, status, accepted, completed, spoken["duration"], rtf))
                print(rows[-1], file=sys.stderr, flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        "| sample (30 s, synthetic) | status | POST answered s | complete after s "
        "| speech audio s | speech RTF in the clone |"
    )
    print("|---|---|---|---|---|---|")
    for voice, status, accepted, completed, duration, rtf in rows:
        cells = [voice, status, f"{accepted:.2f}", f"{completed:.1f}", f"{duration:.0f}"]
        print("| " + " | ".join([*cells, f"{rtf:.3f}"]) + " |")
    print(f"\nmedian time to complete: {statistics.median(r[3] for r in rows):.1f} s")


if __name__ == "__main__":
    main()
