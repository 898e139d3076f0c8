"""Clone throughput by job workers, and what the first minutes after a start cost.

Everything goes through the HTTP API of ``voxhub serve`` (embedded default: SQLite, local
files), started afresh for each measurement:

1. Throughput: clones completed per minute with 1, 2 and 4 job worker processes
   (``VOXHUB_JOB_WORKERS``). Steady state: previews off, and one warm data dir shared by
   every run (one clone made first, untimed, so the base voices are measured and kept); after
   each start, as many clones as job workers are made first, untimed, so that every pool
   process has loaded its models. Then K clones of a speech-like sample are posted at once
   and each is polled (Get Voice, every 0.5 s) until it is complete or failed; clones a
   minute = K / (last one settled - first posted).
2. First clone: ``voxhub serve`` with its defaults, as a user gets it (previews rendered and
   base voices measured in the background), one clone posted as soon as /readyz answers on a
   fresh data dir, timed from POST until complete; then the same after a restart on the
   now-warm data dir.
3. Generate Speech in the first minute: a short English sentence in Piper's "Joe" every ~5 s
   for 60 s right after a fresh start (defaults, as in 2), POST to answer; then the same after
   a restart on the now-warm data dir.

The rate limit is raised (the polling would pass 600/minute) and the clone deadline lifted
to an hour (K clones queued behind one worker may wait past the default 600 s); every other
setting is voxhub's default unless named above.

    python -m bench.clone_throughput [--clones 8] [--workers 1,2,4] [--sample-seconds 15]
                                     [--first-clone-after 0]
                                     [--window 60] [--interval 5]
                                     [--parts throughput,first-clone,speech]
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
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from bench.clone import clone
from bench.get_voice import clone_sample, free_port, stop
from bench.speech import ENGLISH, VOXHUB, Server, speak
from voxhub.ids import public_voice_id

JOE = public_voice_id("piper", "en_US-joe-medium")
# Every run's settings besides the data dir: voxhub's defaults, but for these.
COMMON = {"VOXHUB_RATE_LIMIT": "100000/second", "VOXHUB_CLONE_DEADLINE_SECONDS": "3600"}
STEADY = {"VOXHUB_RENDER_PREVIEWS": "false", "VOXHUB_MEASURE_BASE_VOICES": "false"}
POLL_SECONDS = 0.5


@dataclass
class Started:
    server: Server
    ready_seconds: float  # from the process's start until /readyz answered


def launch(data_dir: Path, logs: Path, label: str, key: str = "", **settings: str) -> Started:
    """``voxhub serve`` on ``data_dir``; on a fresh data dir (no ``key``) the key it prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXHUB_")}
    env |= COMMON | settings
    port = free_port()
    command = [VOXHUB, "serve", "--data-dir", str(data_dir), "--port", str(port)]
    with (logs / f"{label}.log").open("ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stderr=log, stdout=subprocess.DEVNULL if key else subprocess.PIPE
        )
    if not key:
        assert process.stdout is not None
        while not key.startswith("vxk_"):
            line = process.stdout.readline()
            if not line:
                raise SystemExit(f"voxhub serve exited ({label}): see {logs / label}.log")
            key = line.decode().strip()
    url = f"http://127.0.0.1:{port}"
    while True:
        if process.poll() is not None:
            raise SystemExit(f"voxhub serve exited ({label}): see {logs / label}.log")
        try:
            if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return Started(Server(process, url, key), time.perf_counter() - started)


# --- 1. throughput ----------------------------------------------------------------------------


@dataclass
class Batch:
    workers: int
    posted: int
    statuses: dict[str, int]
    seconds: float  # first POST to the last clone settled
    each: list[float]  # POST to settled, per clone

    @property
    def per_minute(self) -> float:
        return self.posted / self.seconds * 60


def clone_batch(
    server: Server, wav: bytes, count: int, label: str
) -> tuple[float, list[float], dict[str, int]]:
    """Post ``count`` clones at once, poll each until settled: (seconds for all, seconds for
    each, how many ended in each status)."""
    audio = {"type": "base64", "media_type": "audio/wav", "data": base64.b64encode(wav).decode()}
    headers = {"x-api-key": server.key}
    with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
        started = time.perf_counter()
        posted: dict[str, float] = {}
        for number in range(count):
            body = {"audio": audio, "voice_name": f"{label} {number}", "language": "en"}
            answer = client.post("/v3/voices/clone", json=body)
            answer.raise_for_status()
            posted[answer.json()["data"]["voice_clone_id"]] = time.perf_counter()
        settled: dict[str, float] = {}
        statuses: dict[str, int] = {}
        while len(settled) < len(posted):
            time.sleep(POLL_SECONDS)
            for voice_id in posted.keys() - settled.keys():
                answer = client.get(f"/v3/voices/{voice_id}")
                answer.raise_for_status()
                status = answer.json()["data"]["status"]
                if status != "processing":
                    settled[voice_id] = time.perf_counter()
                    statuses[status] = statuses.get(status, 0) + 1
        finish = max(settled.values())
    return finish - started, [settled[v] - posted[v] for v in posted], statuses


def throughput(args: argparse.Namespace, wav: bytes, root: Path, logs: Path) -> list[Batch]:
    data = root / "throughput"
    first = launch(data, logs, "throughput-warm-up", **STEADY)
    try:
        print("warming the data dir: one clone (base voices measured)…", file=sys.stderr)
        clone_batch(first.server, wav, 1, "Warm-up")
    finally:
        stop(first.server.process)
    batches = []
    for workers in args.workers:
        started = launch(
            data, logs, f"throughput-{workers}", key=first.server.key,
            VOXHUB_JOB_WORKERS=str(workers), **STEADY,
        )  # fmt: skip
        try:
            print(f"{workers} job worker(s): {workers} untimed clone(s), then {args.clones}…",
                  file=sys.stderr, flush=True)  # fmt: skip
            clone_batch(started.server, wav, workers, "Warm-up")
            seconds, each, statuses = clone_batch(started.server, wav, args.clones, "Batch")
        finally:
            stop(started.server.process)
        batches.append(Batch(workers, args.clones, statuses, seconds, each))
        print(f"  {batches[-1].per_minute:.1f} clones/min {statuses}", file=sys.stderr)
    return batches


# --- 2. the first clone -----------------------------------------------------------------------


@dataclass
class FirstClone:
    label: str
    ready_seconds: float
    status: str
    accepted: float
    completed: float


def first_clone(wav: bytes, root: Path, logs: Path, after: float = 0.0) -> list[FirstClone]:
    """Posted ``after`` seconds after the server is ready (0: at once)."""
    data, rows, key = root / "first-clone", [], ""
    for label in ("fresh data dir", "warm data dir (restarted)"):
        started = launch(data, logs, f"first-clone-{label.split()[0]}", key=key)
        key = started.server.key
        try:
            print(f"first clone, {label}, {after:g} s after ready…", file=sys.stderr, flush=True)
            time.sleep(after)
            _, status, accepted, completed = clone(started.server, "First clone", wav)
        finally:
            stop(started.server.process)
        rows.append(FirstClone(label, started.ready_seconds, status, accepted, completed))
    return rows


# --- 3. Generate Speech in the first minute ---------------------------------------------------


@dataclass
class Probe:
    label: str
    ready_seconds: float
    latencies: list[float]
    errors: list[str]


def speech_probe(server: Server, window: float, interval: float) -> tuple[list[float], list[str]]:
    """A short sentence every ``interval`` seconds (or at once after a slower answer) for
    ``window`` seconds: (POST-to-answer seconds of each, errors)."""
    latencies, errors = [], []
    started = time.monotonic()
    for number in range(max(1, round(window / interval))):
        time.sleep(max(0.0, started + number * interval - time.monotonic()))
        try:
            _, elapsed, _ = speak(server, JOE, ENGLISH[number % len(ENGLISH)])
            latencies.append(elapsed)
        except httpx.HTTPError as exc:
            errors.append(str(exc)[:80])
    return latencies, errors


def first_minute(args: argparse.Namespace, root: Path, logs: Path) -> list[Probe]:
    data, rows, key = root / "first-minute", [], ""
    for label in ("fresh data dir", "warm data dir (restarted)"):
        started = launch(data, logs, f"speech-{label.split()[0]}", key=key)
        key = started.server.key
        try:
            print(f"Generate Speech for {args.window:.0f} s, {label}…", file=sys.stderr, flush=True)
            latencies, errors = speech_probe(started.server, args.window, args.interval)
        finally:
            stop(started.server.process)
        rows.append(Probe(label, started.ready_seconds, latencies, errors))
    return rows


# --- the report -------------------------------------------------------------------------------


def print_throughput(batches: list[Batch], args: argparse.Namespace) -> None:
    print(
        f"\n### Clone throughput — {args.clones} clones of a {args.sample_seconds:.0f} s sample "
        "posted at once; previews off, base voices measured beforehand\n"
    )
    print(
        "| job workers | settled | all settled, s | clones/min | each: median s | each: max s "
        "| vs 1 worker |"
    )
    print("|---|---|---|---|---|---|---|")
    one = next((b.per_minute for b in batches if b.workers == 1), None)
    for b in batches:
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(b.statuses.items()))
        gain = f"{b.per_minute / one:.2f}×" if one else "–"
        print(
            f"| {b.workers} | {statuses} | {b.seconds:.1f} | {b.per_minute:.1f} "
            f"| {statistics.median(b.each):.1f} | {max(b.each):.1f} | {gain} |"
        )


def print_first_clone(rows: list[FirstClone]) -> None:
    print("\n### First clone after a start — `voxhub serve` defaults (previews, measurement on)\n")
    print("| data dir | start to ready, s | status | POST answered, s | POST to complete, s |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.label} | {r.ready_seconds:.1f} | {r.status} | {r.accepted:.2f} "
            f"| {r.completed:.1f} |"
        )


def print_first_minute(rows: list[Probe], args: argparse.Namespace) -> None:
    print(
        f"\n### Generate Speech in the first {args.window:.0f} s after a start — a short "
        f'sentence in "Joe" (Piper) every {args.interval:.0f} s; defaults\n'
    )
    print("| data dir | start to ready, s | requests | first s | median s | max s | errors |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r.latencies:
            cells = (f"{r.latencies[0]:.2f} | {statistics.median(r.latencies):.2f} "
                     f"| {max(r.latencies):.2f}")  # fmt: skip
        else:
            cells = "– | – | –"
        print(
            f"| {r.label} | {r.ready_seconds:.1f} | {len(r.latencies)} | {cells} "
            f"| {len(r.errors)}{': ' + r.errors[0] if r.errors else ''} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clones", type=int, default=8, help="K: clones posted at once")
    parser.add_argument(
        "--workers", type=lambda s: [int(n) for n in s.split(",")], default=[1, 2, 4],
        help="job worker counts, comma-separated",
    )  # fmt: skip
    parser.add_argument("--sample-seconds", type=float, default=15.0)
    parser.add_argument(
        "--first-clone-after", type=float, default=0.0, help="first clone: seconds after ready"
    )
    parser.add_argument("--window", type=float, default=60, help="Generate Speech: seconds")
    parser.add_argument("--interval", type=float, default=5, help="Generate Speech: every")
    parser.add_argument(
        "--parts", default="throughput,first-clone,speech",
        help="which measurements, comma-separated",
    )  # fmt: skip
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    logs = Path(tempfile.mkdtemp(prefix="voxhub-clone-throughput-"))
    wav = clone_sample(args.sample_seconds)
    batches: list[Batch] = []
    firsts: list[FirstClone] = []
    probes: list[Probe] = []
    with tempfile.TemporaryDirectory(prefix="voxhub-data-") as tmp:
        root = Path(tmp)
        if "throughput" in parts:
            batches = throughput(args, wav, root, logs)
        if "first-clone" in parts:
            firsts = first_clone(wav, root, logs, args.first_clone_after)
        if "speech" in parts:
            probes = first_minute(args, root, logs)
    print(f"\nClone throughput and first minutes — {os.cpu_count()} cores; server logs: {logs}")
    if batches:
        print_throughput(batches, args)
    if firsts:
        print_first_clone(firsts)
    if probes:
        print_first_minute(probes, args)


if __name__ == "__main__":
    main()
