"""Running the service: ``voxhub serve`` and ``voxhub worker``.

``voxhub serve`` (role ``all``, the embedded default) is one process tree on one machine: this
process prepares the data (migrations, catalog, first key), starts a job worker process (at a
lower CPU priority: clones and previews never slow the API down) and serves HTTP from as many
API processes as the machine has cores, sharing one port. Each child stops when this process
goes away, however it goes.

Scaled out, ``voxhub serve --role api`` runs only the API processes and ``voxhub worker`` only
the job worker; any number of each, on any host, sharing PostgreSQL, Redis and S3.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from voxhub.api import create_app
from voxhub.container import count_jobs_now, open_services, prepare, run_job_worker
from voxhub.metrics import MULTIPROCESS_VARIABLE, serve_metrics_port, use_multiprocess_directory
from voxhub.observability import configure_logging
from voxhub.services import IssuedKey
from voxhub.settings import ENVIRONMENT, Settings, load_settings

__all__ = [
    "PARENT_VARIABLE",
    "api_process_count",
    "app_from_environment",
    "build_app",
    "serve",
    "settings_environment",
    "uvicorn_config",
    "work",
]

log = logging.getLogger(__name__)
# Set in every child of `voxhub serve`: the process whose exit ends the child too.
PARENT_VARIABLE = "VOXHUB_PARENT_PID"


def build_app(settings: Settings) -> FastAPI:
    return create_app(lambda: open_services(settings))


def app_from_environment() -> FastAPI:
    """An API process started by `voxhub serve`: its settings come from the environment."""
    settings = load_settings()
    configure_logging(settings.server.log_level, settings.server.access_log)
    access = logging.getLogger("uvicorn.access")  # voxhub logs each request itself
    access.handlers, access.propagate = [], False
    _exit_with_parent()
    return build_app(settings)


def uvicorn_config(app: FastAPI | str, settings: Settings, workers: int = 1) -> uvicorn.Config:
    """The production server settings (also used by the benchmark's baseline). ``app`` is an
    import string of an app factory when ``workers`` > 1."""
    return uvicorn.Config(
        app,
        host=settings.server.host,
        port=settings.server.port,
        loop="auto",  # uvloop when installed
        http="auto",  # httptools when installed
        log_config=None,
        access_log=False,  # voxhub logs each request itself, with its id
        server_header=False,
        lifespan="on",
        timeout_keep_alive=30,
        # a stop (SIGTERM) waits this long for requests in flight (long speech), not forever
        timeout_graceful_shutdown=30,
        factory=isinstance(app, str),
        workers=workers,
    )


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process exactly these settings."""
    environment = dict(os.environ)
    for variable, (group, field) in ENVIRONMENT.items():
        value = getattr(getattr(settings, group), field)
        environment[variable] = str(value).lower() if isinstance(value, bool) else str(value)
    environment["VOXHUB_DATA_DIR"] = str(settings.storage.data_dir.resolve())
    environment[PARENT_VARIABLE] = str(os.getpid())
    return environment


def api_process_count(settings: Settings) -> int:
    return settings.server.api_processes or os.cpu_count() or 1


def announce_first_key(issued: IssuedKey, settings: Settings, out: TextIO) -> None:
    host = settings.server.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - display only
    url = f"http://{shown}:{settings.server.port}/v3/voices?limit=3"
    print("voxhub: no API key existed, so one was created for account 'default'.", file=out)
    print("It is shown this once; only its hash is stored. Try it:", file=out)
    print(f"  curl -H {shlex.quote('x-api-key: ' + issued.plain)} {shlex.quote(url)}", file=out)
    print(issued.plain, file=out, flush=True)


def serve(settings: Settings) -> None:
    issued = prepare(settings, first_key=settings.server.role == "all")
    if issued is not None:
        announce_first_key(issued, settings, sys.stdout)
    _metrics_directory(settings, f"{settings.server.port}")
    processes = api_process_count(settings)
    if processes > 1 and "VOXHUB_SPEECH_WORKERS" not in os.environ:
        # the machine's speech workers are shared out among the API processes
        per_process = max(1, settings.speech.workers // processes)
        settings = settings.model_copy(
            update={"speech": settings.speech.model_copy(update={"workers": per_process})}
        )
    environment = settings_environment(settings)
    worker = _JobWorkerProcess(environment) if settings.server.role == "all" else None
    try:
        _serve_http(settings, processes, environment)
    finally:
        if worker is not None:
            worker.stop()


def _metrics_directory(settings: Settings, run: str) -> None:
    """Every process of this run records its metrics in a folder of the data dir's metrics/,
    emptied now (a scrape must not count a previous run's processes). One folder per host and
    port: instances of `serve --role api` that share a data dir each have their own. With a
    metrics port, this process answers them there."""
    if not settings.metrics.enabled:
        os.environ.pop(MULTIPROCESS_VARIABLE, None)
        return
    folder = settings.storage.data_dir.resolve() / "metrics" / f"{os.uname().nodename}-{run}"
    use_multiprocess_directory(folder)
    if settings.metrics.port:
        serve_metrics_port(
            settings.server.host, settings.metrics.port, lambda: count_jobs_now(settings)
        )


def _serve_http(settings: Settings, processes: int, environment: dict[str, str]) -> None:
    if processes == 1:
        uvicorn.Server(uvicorn_config(build_app(settings), settings)).run()
        return
    os.environ.update(environment)  # the API processes read their settings from it
    config = uvicorn_config("voxhub.server:app_from_environment", settings, workers=processes)
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def work(settings: Settings) -> None:
    """``voxhub worker``: prepare, then lease and run jobs until SIGTERM."""
    prepare(settings, first_key=False)
    if PARENT_VARIABLE not in os.environ and settings.metrics.port:
        _metrics_directory(settings, f"worker-{settings.metrics.port}")  # no serve to answer
    _exit_with_parent()
    run_job_worker(settings)  # its pool's processes run at VOXHUB_WORKER_NICENESS


class _JobWorkerProcess:
    """`voxhub worker` as a child of `voxhub serve`, started again if it dies."""

    def __init__(self, environment: dict[str, str]) -> None:
        self._environment = environment
        self._stopping = threading.Event()
        self._process = self._start()
        self._watcher = threading.Thread(target=self._watch, name="job-worker", daemon=True)
        self._watcher.start()

    def _start(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "voxhub", "worker"]
        return subprocess.Popen(command, env=self._environment)  # noqa: S603

    def _watch(self) -> None:
        while not self._stopping.is_set():
            code = self._process.wait()
            if self._stopping.is_set():
                return
            log.error("the job worker exited; starting it again", extra={"exit_code": code})
            time.sleep(1)
            self._process = self._start()

    def stop(self, grace_seconds: float = 30.0) -> None:
        self._stopping.set()
        self._process.terminate()  # running jobs are released for the next start
        try:
            self._process.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            self._process.kill()


def _exit_with_parent() -> None:
    """In a child of `voxhub serve`: end this process when that one is gone (even killed)."""
    parent = os.environ.get(PARENT_VARIABLE)
    if not parent or not parent.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(parent) or _alive(int(parent)):
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()
