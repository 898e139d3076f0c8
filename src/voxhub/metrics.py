"""Prometheus metrics, recorded by every process of a run, answered by any API process (or on
a port of their own, VOXHUB_METRICS_PORT).

``voxhub serve`` is a tree of processes (API processes under uvicorn's supervisor, a job
worker, worker pools), so the client library runs in its multi-process mode: each process
writes its values to memory-mapped files in one directory and a scrape merges them. voxhub
makes that directory itself, empty, at each start (``use_multiprocess_directory``), before any
child starts. The library picks its storage when it is first imported, so it is imported here
only when a process builds its ``PrometheusMetrics``, after the directory is named.

``Metrics`` itself records nothing (metrics off, unit tests that do not look): the services
call the same methods either way.

Requests are counted on the hottest path (Get Voice): an observation written through the
library costs ~5 µs here (two locked writes to the process's file, each asking the kernel for
the pid), ~5% of a served Get Voice's CPU. So a request only adds to this process's tallies
(0.2 µs) and ``flush`` writes them out, once a second (``FLUSH_INTERVAL_SECONDS``) and before a
scrape.
"""

from __future__ import annotations

import glob
import math
import os
import re
import shutil
from bisect import bisect_left
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = [
    "CONTENT_TYPE",
    "FLUSH_INTERVAL_SECONDS",
    "MULTIPROCESS_VARIABLE",
    "NO_METRICS",
    "UNMATCHED_ROUTE",
    "Metrics",
    "PrometheusMetrics",
    "serve_metrics_port",
    "use_multiprocess_directory",
]

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Requests are written out this often: a scrape is at most this far behind another process.
FLUSH_INTERVAL_SECONDS = 1.0
# The route label of a request no route matched: paths are not labels (unbounded series).
UNMATCHED_ROUTE = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Get Voice answers in well under a millisecond; speech and clones take minutes.
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                    2.5, 5.0, 10.0, 30.0, 60.0, 300.0)  # fmt: skip
_LONG_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
_RTF_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0)
_LIVE_GAUGE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


def use_multiprocess_directory(directory: Path) -> None:
    """Record this run's metrics under ``directory``, emptied first: called by the process
    that starts the others, before it starts them (they inherit the variable) and before any
    metric exists here."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS_VARIABLE] = str(directory)


class Metrics:
    """What the service records; this base records nothing."""

    enabled = False
    answered_here = False  # GET /metrics on the API port

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """An HTTP request answered, by route template."""

    def speech(self, engine: str, audio_seconds: float, render_seconds: float) -> None:
        """Speech rendered: its real-time factor (render time / audio time)."""

    def job_ended(self, kind: str, outcome: str, seconds: float) -> None:
        """A job's run ended: done, failed, retried or abandoned."""

    def clone_settled(self, outcome: str, seconds: float) -> None:
        """A clone became complete or failed, ``seconds`` after it was accepted."""

    def pool(self, pool: str, size: int, busy: int, queued: int) -> None:
        """A worker pool's state: processes, processes at work, jobs waiting for one."""

    def worker_restart(self, pool: str, reason: str) -> None:
        """A worker process was replaced (it died, overran its time, or the pool broke)."""

    def pool_refusal(self, pool: str) -> None:
        """A job refused because every worker was busy and the queue full (429)."""

    def rate_limited(self) -> None:
        """A request refused by its key's rate limit (429)."""

    def flush(self) -> None:
        """Write out what was tallied in this process (from its event loop's thread)."""

    def exposition(self, jobs: Iterable[tuple[str, str, int]] = ()) -> bytes:
        """The Prometheus text of every process of this run, with the store's job counts
        (kind, state, count)."""
        raise NotImplementedError("metrics are off")


NO_METRICS = Metrics()


class PrometheusMetrics(Metrics):
    enabled = True

    def __init__(self, *, answered_here: bool = True) -> None:
        import prometheus_client as prom  # after MULTIPROCESS_VARIABLE is set: see above

        #: False when the run's metrics have a port of their own (VOXHUB_METRICS_PORT).
        self.answered_here = answered_here
        self._directory = os.environ.get(MULTIPROCESS_VARIABLE) or None
        self.registry = prom.CollectorRegistry()
        r = self.registry
        self._requests = prom.Histogram(
            "voxhub_http_request_duration_seconds",
            "HTTP requests by route template, method and status, and their latency.",
            ["route", "method", "status"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        # per (route, method, status): [sum of seconds, count in bucket 0, 1, ..., +Inf]
        self._tallies: dict[tuple[str, str, int], list[float]] = {}
        self._bounds = (*_LATENCY_BUCKETS, math.inf)
        self._rtf = prom.Histogram(
            "voxhub_speech_real_time_factor",
            "Seconds of rendering per second of speech, by engine (below 1: faster than "
            "real time); waiting for a worker included.",
            ["engine"], buckets=_RTF_BUCKETS, registry=r,
        )  # fmt: skip
        self._speech_seconds = prom.Counter(
            "voxhub_speech_audio_seconds", "Seconds of speech rendered, by engine.",
            ["engine"], registry=r,
        )  # fmt: skip
        self._jobs = prom.Histogram(
            "voxhub_job_duration_seconds",
            "Job runs by kind and outcome (done, failed, retried, abandoned) and how long "
            "each took.",
            ["kind", "outcome"], buckets=_LONG_BUCKETS, registry=r,
        )  # fmt: skip
        self._clones = prom.Histogram(
            "voxhub_clone_duration_seconds",
            "Clones by outcome (complete, failed): from accepted to settled.",
            ["outcome"], buckets=_LONG_BUCKETS, registry=r,
        )  # fmt: skip
        self._workers = prom.Gauge(
            "voxhub_workers", "Worker processes, by pool (speech, jobs).",
            ["pool"], multiprocess_mode="livesum", registry=r,
        )  # fmt: skip
        self._busy = prom.Gauge(
            "voxhub_workers_busy", "Worker processes at work, by pool.",
            ["pool"], multiprocess_mode="livesum", registry=r,
        )  # fmt: skip
        self._queued = prom.Gauge(
            "voxhub_worker_queue_depth", "Jobs waiting for a worker process, by pool.",
            ["pool"], multiprocess_mode="livesum", registry=r,
        )  # fmt: skip
        self._restarts = prom.Counter(
            "voxhub_worker_restarts", "Worker processes replaced, by pool and reason.",
            ["pool", "reason"], registry=r,
        )  # fmt: skip
        self._refusals = prom.Counter(
            "voxhub_worker_refusals",
            "Jobs refused with 429 because every worker was busy and the queue full.",
            ["pool"], registry=r,
        )  # fmt: skip
        self._rate_limited = prom.Counter(
            "voxhub_rate_limit_refusals", "Requests refused with 429 by their key's rate limit.",
            registry=r,
        )  # fmt: skip

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method if method in _METHODS else "other", status)
        tally = self._tallies.get(key)
        if tally is None:  # a handful of routes x methods x statuses: bounded
            tally = self._tallies[key] = [0.0] * (len(self._bounds) + 1)
        tally[0] += seconds
        tally[1 + bisect_left(self._bounds, seconds)] += 1  # its bucket: seconds <= bound

    def flush(self) -> None:
        """Add the tallies to the histogram. The library takes one observation at a time, so
        a tally goes to the child's sum and bucket values themselves."""
        for (route, method, status), tally in self._tallies.items():
            if not any(tally[1:]):
                continue
            child = self._requests.labels(route, method, str(status))
            child._sum.inc(tally[0])
            for bucket, count in zip(child._buckets, tally[1:], strict=True):
                if count:
                    bucket.inc(count)
            tally[:] = [0.0] * len(tally)

    def speech(self, engine: str, audio_seconds: float, render_seconds: float) -> None:
        if audio_seconds > 0:
            self._rtf.labels(engine).observe(render_seconds / audio_seconds)
            self._speech_seconds.labels(engine).inc(audio_seconds)

    def job_ended(self, kind: str, outcome: str, seconds: float) -> None:
        self._jobs.labels(kind, outcome).observe(seconds)

    def clone_settled(self, outcome: str, seconds: float) -> None:
        self._clones.labels(outcome).observe(max(0.0, seconds))

    def pool(self, pool: str, size: int, busy: int, queued: int) -> None:
        self._workers.labels(pool).set(size)
        self._busy.labels(pool).set(busy)
        self._queued.labels(pool).set(queued)

    def worker_restart(self, pool: str, reason: str) -> None:
        self._restarts.labels(pool, reason).inc()

    def pool_refusal(self, pool: str) -> None:
        self._refusals.labels(pool).inc()

    def rate_limited(self) -> None:
        self._rate_limited.inc()

    def exposition(self, jobs: Iterable[tuple[str, str, int]] = ()) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self._scraped()) + generate_latest(_jobs_registry(jobs))

    def _scraped(self) -> CollectorRegistry:
        if self._directory is None:  # one process: its own values
            return self.registry
        return _run_registry(self._directory)


def _run_registry(directory: str) -> CollectorRegistry:
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    _forget_dead_processes(directory)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry


def serve_metrics_port(
    host: str, port: int, count_jobs: Callable[[], Iterable[tuple[str, str, int]]]
) -> None:
    """Answer this run's metrics (every process's, and ``count_jobs()``) on a port of their
    own, from a thread of the process that made the run's directory."""
    from prometheus_client import start_http_server

    directory = os.environ[MULTIPROCESS_VARIABLE]

    class Run:
        def collect(self) -> Iterable[Any]:
            yield from _run_registry(directory).collect()
            try:
                jobs = list(count_jobs())
            except Exception:  # the database is away: the processes' own metrics still answer
                jobs = []
            yield from _jobs_registry(jobs).collect()

    start_http_server(port, addr=host, registry=Run())


def _jobs_registry(jobs: Iterable[tuple[str, str, int]]) -> CollectorRegistry:
    """The store's jobs by kind and state: every worker's, on any host. A metric family made
    for this scrape, not a Gauge (which, in multi-process mode, would write to a file)."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(
        "voxhub_jobs",
        "Jobs in the store by kind and state (queued, dispatched, running, done, failed).",
        labels=["kind", "state"],
    )
    for kind, state, count in jobs:
        family.add_metric([kind, state], count)

    class Collected:
        def collect(self) -> Iterable[GaugeMetricFamily]:
            return [family]

    registry = CollectorRegistry()
    registry.register(Collected())
    return registry


def _forget_dead_processes(directory: str) -> None:
    """A process that is gone no longer counts in the live gauges (pool sizes, busy workers):
    uvicorn restarts API processes and ``voxhub serve`` its job worker without telling us."""
    from prometheus_client.multiprocess import mark_process_dead

    for path in glob.glob(os.path.join(directory, "gauge_live*.db")):
        found = _LIVE_GAUGE.match(os.path.basename(path))
        if found and not _alive(int(found.group(1))):
            mark_process_dead(int(found.group(1)), directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a process killed but not yet reaped by its parent is a zombie: gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
