"""Get Voice under load, against the same stack answering a constant body (the baseline).

Starts ``voxhub serve --api-processes P`` as a user would (embedded default: SQLite, local
files, production settings, logs on; P API processes on one port and a job worker) and the
baseline (``bench/baseline_app.py``) with as many uvicorn worker processes under the same
supervisor, seeds processing clones, and drives Get Voice with wrk (a separate load process,
keep-alive connections) over a mix of public voices, processing clones and 404s.

Two phases:

- at rest: once the job worker has rendered every preview and measured the base voices, each
  kind of request and the mix, each wrk run paired with a baseline run just before it;
- workers busy: the mix again while every speech worker speaks a long text (two requests per
  speech worker kept in flight, each on a new connection so that every API process gets its
  share) and clone jobs wait for every job worker; each run paired with a baseline run under
  the same background load (a control: how much the machine itself slows down).

Each scenario runs ``--rounds`` times; medians are printed. Servers run on every core but the
first, wrk (and this script) on the first.

    apt-get install wrk       # the load generator
    python bench/get_voice.py [--duration 8] [--connections 64] [--rounds 2]
                              [--api-processes P] [--database-url postgresql://...]
                              [--data-dir DIR]   # reuse: start-up work is done once
    python bench/get_voice.py --compare-metrics [--rounds 6]

``--compare-metrics`` measures only what metrics cost: two ``voxhub serve`` on one data dir, one
with metrics on (the default) and one with ``VOXHUB_METRICS=off``, the mix driven at each in
turn (the order alternating each round), paired ratios' medians printed. No previews are
rendered and no base voices measured there (both would only wait longer for rest): Get Voice
then signs no preview link, does less work per request, and metrics weigh a little more in it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
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
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from voxhub.domain import Voice
from voxhub.ids import new_voice_id, public_voice_id
from voxhub.store import open_store

HERE = Path(__file__).parent
VOXHUB = str(Path(sys.executable).parent / "voxhub")
CORES = os.cpu_count() or 1
LOAD_CPUS = "0"  # wrk and this script
SERVER_CPUS = "1" if CORES <= 2 else f"1-{CORES - 1}"
PIN = {"on": True}  # --no-pin turns it off
BUSY_VOICE = public_voice_id("piper", "en_US-joe-medium")  # Joe: the speech bench's voice


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # HTTP processes' CPU time per request: steadier than throughput
    errors: int
    # CPU seconds each other process of the server used during the run: pid -> (role, s)
    others: dict[int, tuple[str, float]] = field(default_factory=dict)
    seconds: float = 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def pinned(command: list[str], cpus: int | str) -> list[str]:
    """Servers on their cores, wrk on the other, so that they do not take each other's time."""
    if PIN["on"] and shutil.which("taskset") and CORES >= 2:
        return ["taskset", "-c", str(cpus), *command]
    return command


def start(
    command: list[str], env: dict[str, str], log: Path, ready: str
) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        process = subprocess.Popen(pinned(command, SERVER_CPUS), env=env, stdout=sink, stderr=sink)
    wait_ready(ready, process)
    return process


# --- the servers' processes (Linux /proc) ---------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """``root`` and every process under it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue += children.get(pid, [])
    return found


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(parts[9])
    return inodes


def _holds(pid: int, sockets: set[str]) -> bool:
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in sockets:
                return True
    except OSError:
        pass
    return False


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def server_cpu(root: int, port: int) -> dict[int, tuple[str, float]]:
    """CPU seconds of every process of a server, by role: "http" (holds the listening socket:
    the API processes and their supervisor), "job" (the job worker and its pool), "speech"
    (the API processes' worker pools) or "other" (multiprocessing's resource trackers)."""
    sockets = _listening_inodes(port)
    tree = process_tree(root)
    job_roots = {pid for pid in tree if "worker" in _cmdline(pid)[1:4] and pid != root}
    job = {pid for start_pid in job_roots for pid in process_tree(start_pid)}
    snapshot = {}
    for pid in tree:
        if pid in job:
            role = "job"
        elif _holds(pid, sockets):
            role = "http"
        elif any("resource_tracker" in part for part in _cmdline(pid)):
            role = "other"
        else:
            role = "speech"
        try:
            snapshot[pid] = (role, cpu_seconds(pid))
        except (OSError, IndexError, ValueError):
            continue
    return snapshot


def cpu_used(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[int, tuple[str, float]]:
    return {
        pid: (role, cpu - before.get(pid, (role, 0.0))[1]) for pid, (role, cpu) in after.items()
    }


def _started(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def stop(process: subprocess.Popen[bytes], grace: float = 45) -> None:
    """SIGTERM; after ``grace`` seconds, SIGKILL it and what is left of its process tree."""
    tree = [(pid, _started(pid)) for pid in process_tree(process.pid)[1:]]
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
        return
    except subprocess.TimeoutExpired:
        print(f"pid {process.pid} still running after {grace} s: killed", file=sys.stderr)
        process.kill()
        process.wait()
    for pid, started in tree:
        if started is not None and _started(pid) == started:  # the same process, not a reuse
            os.kill(pid, signal.SIGKILL)


# --- the load ---------------------------------------------------------------------------------


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
    """``target``: (base URL, pid of the server's root process)."""
    base, pid = target
    port = int(base.rsplit(":", 1)[1])
    before = server_cpu(pid, port)
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections),
               "-d", f"{args.duration}s", "--latency", "-s", str(script), base]  # fmt: skip
    started = time.monotonic()
    output = subprocess.run(
        pinned(command, LOAD_CPUS), capture_output=True, text=True, check=True
    ).stdout
    seconds = time.monotonic() - started
    used = cpu_used(before, server_cpu(pid, port))
    cpu = sum(seconds for role, seconds in used.values() if role == "http")

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
        int(number(r"Non-2xx or 3xx responses:\s+(\d+)"))
        + int(number(r"Socket errors:.*?timeout (\d+)")),
        {p: used[p] for p in used if used[p][0] != "http"},
        seconds,
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


def create_key(env: dict[str, str], account: str) -> tuple[str, str]:
    """A key for a new account: (the key, the account's id)."""
    created = subprocess.run(
        [VOXHUB, "keys", "create", "--account", account, "--rate-limit", "100000000/second"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    key_id = created.stderr.split("created key ", 1)[1].split()[0]
    listed = subprocess.run(
        [VOXHUB, "keys", "list"], env=env, capture_output=True, text=True, check=True
    ).stdout
    account_id = next(
        line.split("\t")[1] for line in listed.splitlines() if line.split("\t")[0] == key_id
    )
    return created.stdout.strip().splitlines()[-1], account_id


def public_voices(base: str, key: str) -> list[dict[str, Any]]:
    voices, token = [], ""
    while True:
        url = f"{base}/v3/voices?type=public&limit=100" + (f"&token={token}" if token else "")
        request = urllib.request.Request(url, headers={"x-api-key": key})
        with urllib.request.urlopen(request) as response:
            page = json.load(response)
        voices += page["data"]
        token = page["next_token"] or ""
        if not token:
            return voices


def _without_preview(base: str, key: str) -> int:
    return sum(1 for voice in public_voices(base, key) if voice["preview_audio_url"] is None)


def wait_at_rest(base: str, key: str, pid: int, timeout: float = 3600) -> None:
    """Until the job worker is done with its start-up work (every preview rendered, then the
    base voices measured while idle): no process of the server but the HTTP ones uses CPU for
    5 s in a row, and the API processes have found every preview there is (a few voices get
    none: they make no sound for the preview text)."""
    print("waiting for the job worker's start-up work (previews, base voice measurements)…",
          file=sys.stderr, flush=True)  # fmt: skip
    started = last_report = time.monotonic()
    port, quiet = int(base.rsplit(":", 1)[1]), 0
    while quiet < 5:
        if time.monotonic() - started > timeout:
            raise SystemExit("the job worker did not come to rest in time")
        before = server_cpu(pid, port)
        time.sleep(1)
        used = cpu_used(before, server_cpu(pid, port))
        quiet = quiet + 1 if sum(s for r, s in used.values() if r != "http") < 0.03 else 0
        if time.monotonic() - last_report > 30:
            last_report = time.monotonic()
            print(f"  {time.monotonic() - started:.0f} s: {_without_preview(base, key)} public "
                  "voices without a preview so far", file=sys.stderr, flush=True)  # fmt: skip
    counts = [_without_preview(base, key)]
    while len(counts) < 3 or len(set(counts[-3:])) > 1:  # the API processes look every 2 s
        time.sleep(2)
        counts.append(_without_preview(base, key))
    print(f"  at rest after {time.monotonic() - started:.0f} s ({counts[-1]} public voices "
          "have no preview)", file=sys.stderr, flush=True)  # fmt: skip


def clone_sample(seconds: float = 15.0) -> bytes:
    """A speech-like WAV of a speaker no base voice is (the tests' clone reference)."""
    sys.path.insert(0, str(HERE.parent))
    from tests.audio_fixtures import other_speaker

    return other_speaker(seconds)


def long_text(words: int) -> str:
    sys.path.insert(0, str(HERE.parent))
    from bench.speech import ENGLISH, text_of

    return text_of(ENGLISH, f"{words}w")


class BusyLoad:
    """Keeps every worker busy: ``speakers`` Generate Speech requests of ``text`` in flight
    (each on a new connection) and ``backlog`` clones waiting or running (finished ones are
    deleted and replaced)."""

    def __init__(
        self, base: str, key: str, text: str, sample: bytes, speakers: int, backlog: int
    ) -> None:
        self.base, self.headers, self.text = base, {"x-api-key": key}, text
        audio = {
            "type": "base64",
            "media_type": "audio/wav",
            "data": base64.b64encode(sample).decode(),
        }
        self.clone_body: dict[str, Any] = {"audio": audio, "language": "en"}
        self.speakers, self.backlog = speakers, backlog
        self.stopping = threading.Event()
        self.measuring = False  # while set, the clone backlog's low point is recorded
        self.lowest_backlog: int | None = None
        self.spoken, self.speech_errors = 0, Counter[str]()
        self.cloned, self.clone_errors = Counter[str](), Counter[str]()
        self.pending: list[str] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._speak, daemon=True, name=f"speak-{i}")
            for i in range(speakers)
        ] + [threading.Thread(target=self._clone, daemon=True, name="clones")]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _speak(self) -> None:
        body = {"text": self.text, "voice_id": BUSY_VOICE}
        while not self.stopping.is_set():
            try:
                answer = httpx.post(
                    self.base + "/v3/voices/speech", json=body, headers=self.headers, timeout=3600
                )
            except httpx.HTTPError as exc:
                if self.stopping.is_set():
                    return
                with self._lock:
                    self.speech_errors[type(exc).__name__] += 1
                time.sleep(1)
                continue
            with self._lock:
                if answer.status_code == 200:
                    self.spoken += 1
                else:
                    self.speech_errors[str(answer.status_code)] += 1
            if answer.status_code != 200:
                time.sleep(1)

    def _clone(self) -> None:
        number = 0
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=60) as client:
            while not self.stopping.is_set():
                try:
                    still = []
                    for voice_id in self.pending:
                        status = client.get(f"/v3/voices/{voice_id}").json()["data"]["status"]
                        if status == "processing":
                            still.append(voice_id)
                        else:
                            self.cloned[status] += 1
                            client.delete(f"/v3/voices/{voice_id}")
                    self.pending = still
                    if self.measuring:
                        low = len(still) if self.lowest_backlog is None else self.lowest_backlog
                        self.lowest_backlog = min(low, len(still))
                    while len(self.pending) < self.backlog:
                        number += 1
                        body = {**self.clone_body, "voice_name": f"Busy clone {number}"}
                        answer = client.post("/v3/voices/clone", json=body)
                        if answer.status_code != 200:
                            self.clone_errors[str(answer.status_code)] += 1
                            break
                        self.pending.append(answer.json()["data"]["voice_clone_id"])
                except httpx.HTTPError as exc:
                    self.clone_errors[type(exc).__name__] += 1
                self.stopping.wait(1.0)

    def stop(self) -> None:
        """Stop adding work, delete the clones still waiting (so that a reused data dir starts
        at rest); speech requests in flight end with the server."""
        self.stopping.set()
        self._threads[-1].join(timeout=60)
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=60) as client:
            for voice_id in self.pending:
                with contextlib.suppress(httpx.HTTPError):
                    client.delete(f"/v3/voices/{voice_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default="", help="default: SQLite in the data dir")
    parser.add_argument(
        "--api-processes",
        type=int,
        default=CORES,
        help="voxhub's API processes and the baseline's uvicorn workers (default: cores)",
    )
    parser.add_argument("--speech-workers", type=int, default=1, help="per API process")
    parser.add_argument("--job-workers", type=int, default=1)
    parser.add_argument(
        "--busy-speech",
        type=int,
        default=0,
        help="speech requests kept in flight (default: 2 per speech worker)",
    )
    parser.add_argument(
        "--busy-clones",
        type=int,
        default=0,
        help="clones kept waiting or running (default: job workers + 2)",
    )
    parser.add_argument("--busy-words", type=int, default=400, help="each speech request's text")
    parser.add_argument(
        "--busy-settle",
        type=float,
        default=10,
        help="seconds between starting the background load and measuring",
    )
    parser.add_argument(
        "--data-dir",
        default="",
        help="voxhub's data dir, kept: a second run skips the start-up work (default: a new "
        "one in a temp dir)",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let the servers and wrk run on any core (default: wrk on the first, servers on "
        "the others)",
    )
    parser.add_argument(
        "--compare-metrics",
        action="store_true",
        help="only compare the mix with metrics on and off (VOXHUB_METRICS)",
    )
    args = parser.parse_args()
    PIN["on"] = not args.no_pin
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    processes = args.api_processes
    speech_workers = processes * args.speech_workers
    busy_speech = args.busy_speech or 2 * speech_workers
    busy_clones = args.busy_clones or args.job_workers + 2
    if PIN["on"] and CORES >= 2:
        os.sched_setaffinity(0, {int(LOAD_CPUS)})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the servers are stopped then

    work = Path(tempfile.mkdtemp(prefix="voxhub-bench-"))
    data_dir = Path(args.data_dir).resolve() if args.data_dir else work / "data"
    env = {
        **os.environ,
        "VOXHUB_DATA_DIR": str(data_dir),
        "VOXHUB_SPEECH_WORKERS": str(args.speech_workers),
        "VOXHUB_JOB_WORKERS": str(args.job_workers),
    }
    if args.database_url:
        env["VOXHUB_DATABASE_URL"] = args.database_url
    port, baseline_port = free_port(), free_port()
    base, baseline = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{baseline_port}"
    sample = clone_sample()
    text = long_text(args.busy_words)

    if args.compare_metrics:
        compare_metrics(args, env, work)
        return
    command = [VOXHUB, "serve", "--port", str(port), "--api-processes", str(processes)]
    server = start(command, env, work / "voxhub.log", base + "/readyz")
    baseline_server = None
    try:
        key, account = create_key(env, f"bench-{time.time_ns()}")
        wait_at_rest(base, key, server.pid)
        # Public voices with a preview, so that Get Voice is measured signing real links.
        public = [v["voice_id"] for v in public_voices(base, key) if v["preview_audio_url"]][:20]
        assert len(public) == 20, "fewer than 20 public voices have a preview"
        from voxhub.settings import load_settings

        settings = load_settings(environ=env)
        clones = asyncio.run(seed_clones(settings.database_url, account, 20))
        missing = [new_voice_id() for _ in range(20)]
        request = urllib.request.Request(
            f"{base}/v3/voices/{public[0]}", headers={"x-api-key": key}
        )
        with urllib.request.urlopen(request) as response:
            body_bytes = len(response.read())
        baseline_server = start(
            [sys.executable, str(HERE / "baseline_app.py"), "--port", str(baseline_port),
             "--body-bytes", str(body_bytes), "--workers", str(processes)],
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
            (MIX, "mix"),
        ]
        scripts = {name: wrk_script(label, paths[label], key, work) for name, label in scenarios}
        # Each Get Voice run is paired with a baseline run just before it; a ratio is taken per
        # pair and the median reported, so that drifts of the machine's speed cancel out.
        pairs: dict[str, list[tuple[Result, Result]]] = {name: [] for name, _ in scenarios}
        warm_up = argparse.Namespace(**{**vars(args), "duration": 2})
        run_wrk("warm-up", reference, baseline_script, warm_up)
        for name, _ in scenarios:
            run_wrk(name, voxhub, scripts[name], warm_up)
        for _ in range(args.rounds):
            for name, _ in scenarios:
                before = run_wrk("baseline", reference, baseline_script, args)
                pairs[name].append((before, run_wrk(name, voxhub, scripts[name], args)))

        print(f"workers busy: {busy_speech} speech requests of {len(text.split())} words in "
              f"flight, {busy_clones} clones queued…", file=sys.stderr, flush=True)  # fmt: skip
        load = BusyLoad(base, key, text, sample, busy_speech, busy_clones)
        load.start()
        busy: list[tuple[Result, Result]] = []
        try:
            time.sleep(args.busy_settle)
            load.measuring = True
            for _ in range(args.rounds):
                before = run_wrk("baseline, workers busy", reference, baseline_script, args)
                busy.append((before, run_wrk(BUSY_MIX, voxhub, scripts[MIX], args)))
            load.measuring = False
        finally:
            load.stop()
    finally:
        stop(server)
        if baseline_server is not None:
            stop(baseline_server)
    store = "PostgreSQL" if args.database_url else "SQLite (embedded default)"
    print(
        f"\nGet Voice benchmark — store: {store}; {processes} API processes (voxhub "
        f"--api-processes, baseline uvicorn workers), {args.speech_workers} speech worker(s) "
        f"each, {args.job_workers} job worker(s); wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s; {args.rounds} rounds; response body {body_bytes} bytes; "
        + (f"servers on CPU {SERVER_CPUS}, wrk on CPU {LOAD_CPUS}" if PIN["on"] else "not pinned")
        + "\n"
    )
    print_table(pairs, busy)
    print_busy_summary(pairs, busy, load, speech_workers, args.job_workers)
    print(f"\nlogs and scripts: {work}")


def compare_metrics(args: argparse.Namespace, env: dict[str, str], work: Path) -> None:
    """The mix against two servers on one data dir, metrics on and off, in turns."""
    env = {**env, "VOXHUB_RENDER_PREVIEWS": "false", "VOXHUB_MEASURE_BASE_VOICES": "false"}
    servers: dict[str, subprocess.Popen[bytes]] = {}
    bases: dict[str, str] = {}
    try:
        for label, value in (("on", "on"), ("off", "off")):
            port = free_port()
            bases[label] = f"http://127.0.0.1:{port}"
            command = [VOXHUB, "serve", "--port", str(port),
                       "--api-processes", str(args.api_processes)]  # fmt: skip
            log = work / f"voxhub-metrics-{label}.log"
            ready = bases[label] + "/readyz"
            servers[label] = start(command, {**env, "VOXHUB_METRICS": value}, log, ready)
        key, account = create_key(env, f"bench-{time.time_ns()}")
        for label in servers:
            wait_at_rest(bases[label], key, servers[label].pid)
        from voxhub.settings import load_settings

        public = [v["voice_id"] for v in public_voices(bases["on"], key)][:12]
        clones = asyncio.run(seed_clones(load_settings(environ=env).database_url, account, 6))
        paths = [f"/v3/voices/{v}" for v in public + clones + [new_voice_id(), new_voice_id()]]
        script = wrk_script("mix", paths, key, work)
        targets = {label: (bases[label], servers[label].pid) for label in servers}
        warm_up = argparse.Namespace(**{**vars(args), "duration": 2})
        for label in targets:
            run_wrk(label, targets[label], script, warm_up)
        pairs: list[tuple[Result, Result]] = []
        for round_number in range(args.rounds):
            order = ["on", "off"] if round_number % 2 == 0 else ["off", "on"]
            results = {label: run_wrk(label, targets[label], script, args) for label in order}
            pairs.append((results["on"], results["off"]))
    finally:
        for server in servers.values():
            stop(server)
    sys.path.insert(0, str(HERE.parent))
    from bench.metrics_cost import in_process_cost

    inside = in_process_cost(env, key, paths, args.rounds)
    print(
        f"\nGet Voice mix, metrics on and off — {args.api_processes} API processes each; wrk "
        f"-t{args.threads} -c{args.connections} -d{args.duration}s; {args.rounds} rounds, "
        "the order alternating\n"
    )
    print("| server             | req/s | p50 ms | p99 ms | CPU us/req |")
    print("|--------------------|-------|--------|--------|------------|")
    for name, runs in (("metrics on", [on for on, _ in pairs]),
                       ("VOXHUB_METRICS=off", [off for _, off in pairs])):  # fmt: skip
        r = median_result(runs)
        print(f"| {name:<18} | {r.rps:>5.0f} | {r.p50_ms:>6.1f} | {r.p99_ms:>6.0f} "
              f"| {r.cpu_us:>10.0f} |")  # fmt: skip
    for name, ratios in (
        ("req/s, on / off", [on.rps / off.rps for on, off in pairs]),
        ("CPU us/req, on / off", [on.cpu_us / off.cpu_us for on, off in pairs]),
    ):
        print(f"\n- {name}: {statistics.median(ratios):.3f} "
              f"(rounds: {', '.join(f'{x:.3f}' for x in ratios)})", end="")  # fmt: skip
    extra = [on - off for on, off in inside]
    server_cpu = statistics.median(off.cpu_us for _, off in pairs)
    print(
        f"\n- inside one API process (the app called through ASGI, no server, no access log): "
        f"{statistics.median(on for on, _ in inside):.1f} µs CPU per Get Voice with metrics, "
        f"{statistics.median(off for _, off in inside):.1f} without; metrics add "
        f"{statistics.median(extra):.2f} µs (rounds: {', '.join(f'{x:.2f}' for x in extra)}), "
        f"{statistics.median(extra) / server_cpu:.1%} of the served request's "
        f"{server_cpu:.0f} µs (metrics off, above)",
        end="",
    )
    print(f"\n\nlogs and scripts: {work}")


MIX = "Get Voice mix (60% public/30% processing/10% 404)"
BUSY_MIX = "workers busy: Get Voice mix"


def print_table(
    pairs: dict[str, list[tuple[Result, Result]]], busy: list[tuple[Result, Result]] | None = None
) -> None:
    baselines = median_result([b for runs in pairs.values() for b, _ in runs])
    print(
        "| scenario                                           | req/s | p50 ms | p99 ms "
        "| CPU us/req | req/s vs baseline (range) |"
    )
    print(f"|{'-' * 52}|-------|--------|--------|------------|---------------------------|")
    rows = [("baseline: same stack, constant JSON, no auth/db", baselines, [1.0])]
    for name, runs in pairs.items():
        rows.append((name, median_result([r for _, r in runs]), [r.rps / b.rps for b, r in runs]))
    if busy:  # against the baseline at rest: what a client gets while the workers work
        for name, runs in (("baseline, voxhub's workers busy (control)", [b for b, _ in busy]),
                           (BUSY_MIX + " *", [r for _, r in busy])):  # fmt: skip
            rows.append((name, median_result(runs), [r.rps / baselines.rps for r in runs]))
    for name, r, ratios in rows:
        spread = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        print(
            f"| {name:<50} | {r.rps:>5.0f} | {r.p50_ms:>6.1f} | {r.p99_ms:>6.0f} "
            f"| {r.cpu_us:>10.0f} | {spread:>25} |"
        )
    if busy:
        print(
            "\n\\* while every speech worker speaks and clone jobs wait for every job worker; "
            "both busy rows' ratios are to the baseline at rest. CPU us/req: the HTTP "
            "processes' only (API processes and their supervisor)."
        )


def print_busy_summary(
    pairs: dict[str, list[tuple[Result, Result]]],
    busy: list[tuple[Result, Result]],
    load: BusyLoad,
    speech_workers: int,
    job_workers: int,
) -> None:
    rest = median_result([r for _, r in pairs[MIX]])
    ratio = statistics.median(r.rps / b.rps for b, r in pairs[MIX])
    busy_mix = median_result([r for _, r in busy])
    p99 = busy_mix.p99_ms / rest.p99_ms

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(
        f"\n- at rest, the mix's req/s vs the baseline: {ratio:.2f} "
        f"(target ≥ 0.5: {met(ratio >= 0.5)})"
    )
    print(f"- p99 with every worker busy / p99 at rest (the mix): {busy_mix.p99_ms:.0f} / "
          f"{rest.p99_ms:.0f} ms = {p99:.2f} (target ≤ 2: {met(p99 <= 2)})")  # fmt: skip
    # Were the workers busy? A worker counts as busy in a run if it used ≥ 5% of a core.
    speaking = min(
        sum(1 for role, s in r.others.values() if role == "speech" and s >= 0.05 * r.seconds)
        for _, r in busy
    )
    job_cores = statistics.median(
        sum(s for role, s in r.others.values() if role == "job") / r.seconds for _, r in busy
    )
    speech_cores = statistics.median(
        sum(s for role, s in r.others.values() if role == "speech") / r.seconds for _, r in busy
    )
    print(
        f"- busy check: speech workers using CPU in every busy run: {speaking} of "
        f"{speech_workers} ({speech_cores:.2f} cores in all); clones waiting or running at "
        f"the busy runs' emptiest: {load.lowest_backlog} for {job_workers} job worker(s) "
        f"(they used {job_cores:.2f} cores, at their lower priority)"
    )
    errors = dict(load.speech_errors) | {f"clone {k}": v for k, v in load.clone_errors.items()}
    print(
        f"- background load: {load.spoken} speech requests answered, clones "
        f"{dict(load.cloned) or 'none finished'}, errors {errors or 'none'}"
    )


if __name__ == "__main__":
    main()
