"""How much the web stack itself costs: the baseline app served with a plain Starlette route
against the same app with an ordinary FastAPI route (path parameter parsed and validated).

This is the measurement behind serving Get Voice as a plain route (README, "Design").

    apt-get install wrk
    python bench/stack.py [--duration 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from get_voice import HERE, Result, free_port, run_wrk, start, stop, wrk_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="voxhub-stack-"))
    script = wrk_script("constant", ["/v3/voices/" + "0" * 32], "unused", work)
    servers = {}
    for route in ("starlette", "fastapi"):
        port = free_port()
        command = [sys.executable, str(HERE / "baseline_app.py"), "--port", str(port),
                   "--route", route]  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        ready = url + "/v3/voices/x"
        servers[route] = (url, start(command, dict(os.environ), work / f"{route}.log", ready))
    runs: dict[str, list[Result]] = {route: [] for route in servers}
    try:
        for _ in range(args.rounds):
            for route, (url, process) in servers.items():
                runs[route].append(run_wrk(route, (url, process.pid), script, args))
    finally:
        for _, process in servers.values():
            stop(process)
    print("\n| route (same app, middleware, uvicorn, logging) | req/s | p50 ms | CPU us/req |")
    print("|---|---|---|---|")
    for route, results in runs.items():
        rps = statistics.median(r.rps for r in results)
        p50 = statistics.median(r.p50_ms for r in results)
        cpu = statistics.median(r.cpu_us for r in results)
        print(f"| {route} | {rps:.0f} | {p50:.1f} | {cpu:.0f} |")


if __name__ == "__main__":
    main()
