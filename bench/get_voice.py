"""Get Voice under load, against the same stack answering a constant body (the baseline).

Starts ``voxhub serve`` as a user would (embedded default: SQLite, local files, production
settings, logs on), seeds processing clones, and drives Get Voice with wrk (a separate load
process, keep-alive connections) over a mix of public voices, processing clones and 404s.
Each scenario runs ``--rounds`` times, alternating with the baseline; medians are printed.

    apt-get install wrk       # the load generator
    python bench/get_voice.py [--duration 8] [--connections 64] [--rounds 2]
                              [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from voxhub.domain import Voice
from voxhub.ids import new_voice_id
from voxhub.store import open_store

HERE = Path(__file__).parent
VOXHUB = str(Path(sys.executable).parent / "voxhub")


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # server CPU time per request: steadier than throughput on a shared machine
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def pinned(command: list[str], cpu: int) -> list[str]:
    """Servers on one core, wrk on the other, so that they do not take each other's time."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu), *command]
    return command


def start(
    command: list[str], env: dict[str, str], log: Path, ready: str
) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        process = subprocess.Popen(pinned(command, 1), env=env, stdout=sink, stderr=sink)
    wait_ready(ready, process)
    return process


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


async def seed_clones(database_url: str, account_id: str, count: int) -> list[str]:
    store = open_store(database_url)
    await store.open()
    ids = []
    try:
        for i in range(count):
            voice = Voice(
                voice_id=new_voice_id(), account_id=account_id, engine="espeak",
                engine_voice="gmw/en-US", name=f"Bench clone {i}", language="English",
                gender=None, locale="en-US", support_pause=True, support_locale=False,
                status="processing", created_at=int(time.time()),
            )  # fmt: skip
            await store.insert_voice(voice, updated_at=time.time_ns() // 1000)
            ids.append(voice.voice_id)
    finally:
        await store.close()
    return ids


def wrk_script(label: str, paths: list[str], key: str, directory: Path) -> Path:
    lua = directory / f"{label}.lua"
    quoted = ",".join(json.dumps(p) for p in paths)
    lua.write_text(
        f'wrk.headers["x-api-key"] = "{key}"\n'
        f"local paths = {{{quoted}}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        '  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n'
    )
    return lua


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(name: str, target: tuple[str, int], script: Path, args: argparse.Namespace) -> Result:
    base, pid = target
    cpu_before = cpu_seconds(pid)
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections),
               "-d", f"{args.duration}s", "--latency", "-s", str(script), base]  # fmt: skip
    output = subprocess.run(pinned(command, 0), capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - cpu_before

    def latency(percent: str) -> float:
        found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        return float(found.group(1)) * _UNITS[found.group(2)] if found else float("nan")

    def number(pattern: str) -> float:
        found = re.search(pattern, output)
        return float(found.group(1)) if found else 0.0

    requests = number(r"(\d+) requests in")
    return Result(
        name,
        number(r"Requests/sec:\s+([\d.]+)"),
        latency("50"),
        latency("99"),
        cpu / requests * 1e6 if requests else float("nan"),
        int(number(r"Non-2xx or 3xx responses:\s+(\d+)")),
    )


def median_result(results: list[Result]) -> Result:
    return Result(
        results[0].name,
        statistics.median(r.rps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        statistics.median(r.cpu_us for r in results),
        sum(r.errors for r in results),
    )


def create_key(env: dict[str, str]) -> str:
    created = subprocess.run(
        [VOXHUB, "keys", "create", "--account", "bench", "--rate-limit", "100000000/second"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return created.stdout.strip().splitlines()[-1]


def wait_for_previews(base: str, key: str, timeout: float = 600) -> None:
    """Until every public voice's preview is rendered (the workers then idle), so that Get Voice
    is measured signing real preview links and no rendering competes for the CPU."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        token, pending = "", 0
        while True:
            url = f"{base}/v3/voices?limit=100" + (f"&token={token}" if token else "")
            request = urllib.request.Request(url, headers={"x-api-key": key})
            with urllib.request.urlopen(request) as response:
                page = json.load(response)
            pending += sum(1 for item in page["data"] if item["preview_audio_url"] is None)
            token = page["next_token"] or ""
            if not token:
                break
        if pending == 0:
            return
        time.sleep(2)
    raise SystemExit("previews were not rendered in time")


def voice_ids(base: str, key: str, count: int) -> list[str]:
    request = urllib.request.Request(f"{base}/v3/voices?limit={count}", headers={"x-api-key": key})
    with urllib.request.urlopen(request) as response:
        return [item["voice_id"] for item in json.load(response)["data"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="voxhub-bench-"))
    env = {**os.environ, "VOXHUB_DATA_DIR": str(work / "data"), "VOXHUB_SPEECH_WORKERS": "1"}
    if args.database_url:
        env["VOXHUB_DATABASE_URL"] = args.database_url
    port, baseline_port = free_port(), free_port()
    base, baseline = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{baseline_port}"

    server = start(
        [VOXHUB, "serve", "--port", str(port)], env, work / "voxhub.log", base + "/readyz"
    )
    key = create_key(env)
    wait_for_previews(base, key)
    public = voice_ids(base, key, 20)
    assert len(public) == 20, "the catalog has fewer than 20 public voices"
    from voxhub.settings import load_settings

    settings = load_settings(environ=env)
    account = subprocess.run(
        [VOXHUB, "keys", "list"], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()[-1].split("\t")[1]  # fmt: skip
    clones = asyncio.run(seed_clones(settings.database_url, account, 20))
    missing = [new_voice_id() for _ in range(20)]
    sample = urllib.request.Request(f"{base}/v3/voices/{public[0]}", headers={"x-api-key": key})
    with urllib.request.urlopen(sample) as response:
        body_bytes = len(response.read())
    baseline_server = start(
        [sys.executable, str(HERE / "baseline_app.py"), "--port", str(baseline_port),
         "--body-bytes", str(body_bytes)],
        env, work / "baseline.log", f"{baseline}/v3/voices/x",
    )  # fmt: skip

    paths = {
        "mix": [f"/v3/voices/{v}" for v in public[:12] + clones[:6] + missing[:2]],  # 60/30/10
        "public": [f"/v3/voices/{v}" for v in public],
        "clones": [f"/v3/voices/{v}" for v in clones],
        "missing": [f"/v3/voices/{v}" for v in missing],
    }
    voxhub, reference = (base, server.pid), (baseline, baseline_server.pid)
    # The baseline gets the very same requests, key header included, and ignores the key.
    baseline_script = wrk_script("baseline", paths["mix"], key, work)
    scenarios = [
        ("Get Voice: public voices", "public"),
        ("Get Voice: processing clones", "clones"),
        ("Get Voice: 404 voice_not_found", "missing"),
        ("Get Voice mix (60% public/30% processing/10% 404)", "mix"),
    ]
    scripts = {name: wrk_script(label, paths[label], key, work) for name, label in scenarios}
    # Each Get Voice run is paired with a baseline run just before it; a ratio is taken per
    # pair and the median reported, so that drifts of the machine's speed cancel out.
    pairs: dict[str, list[tuple[Result, Result]]] = {name: [] for name, _ in scenarios}
    try:
        warm_up = argparse.Namespace(**{**vars(args), "duration": 2})
        run_wrk("warm-up", reference, baseline_script, warm_up)
        for name, _ in scenarios:
            run_wrk(name, voxhub, scripts[name], warm_up)
        for _ in range(args.rounds):
            for name, _ in scenarios:
                before = run_wrk("baseline", reference, baseline_script, args)
                pairs[name].append((before, run_wrk(name, voxhub, scripts[name], args)))
    finally:
        stop(server)
        stop(baseline_server)
    store = "PostgreSQL" if args.database_url else "SQLite (embedded default)"
    print(
        f"\nGet Voice benchmark — store: {store}; wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s; {args.rounds} rounds; response body {body_bytes} bytes\n"
    )
    print_table(pairs)
    print(f"\nlogs and scripts: {work}")


def print_table(pairs: dict[str, list[tuple[Result, Result]]]) -> None:
    baselines = median_result([b for runs in pairs.values() for b, _ in runs])
    print(
        "| scenario                                           | req/s | p50 ms | p99 ms "
        "| CPU us/req | req/s vs baseline (range) |"
    )
    print(f"|{'-' * 52}|-------|--------|--------|------------|---------------------------|")
    rows = [("baseline: same stack, constant JSON, no auth/db", baselines, [1.0])]
    for name, runs in pairs.items():
        rows.append((name, median_result([r for _, r in runs]), [r.rps / b.rps for b, r in runs]))
    for name, r, ratios in rows:
        spread = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        print(
            f"| {name:<50} | {r.rps:>5.0f} | {r.p50_ms:>6.1f} | {r.p99_ms:>6.0f} "
            f"| {r.cpu_us:>10.0f} | {spread:>25} |"
        )


if __name__ == "__main__":
    main()
