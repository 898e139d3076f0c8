"""One worker process's state: its engines, where it may keep models, what it has measured.

``init_worker`` — the pool's initializer — registers the engines and voice transforms
explicitly when the process starts. Nothing is registered at import, and what a worker keeps in
memory is bounded (``MEASUREMENTS_KEPT``).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from voxhub.audio.conversion import convert
from voxhub.engines import Engine, installed_engines, register_transform
from voxhub.engines.converters import Converter, installed_converters

__all__ = ["MEASUREMENTS_KEPT", "BoundedCache", "WorkerState", "current", "init_worker"]

K = TypeVar("K")
V = TypeVar("V")
# Base-voice measurements a worker keeps in memory (each a few seconds of audio); more are
# read back from the model directory when needed.
MEASUREMENTS_KEPT = 64


class BoundedCache(Generic[K, V]):
    """A least-recently-used mapping that holds at most ``size`` entries."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


@dataclass
class WorkerState:
    model_dir: Path | None
    engines: Mapping[str, Engine]
    measured: BoundedCache[tuple[str, ...], object] = field(
        default_factory=lambda: BoundedCache(MEASUREMENTS_KEPT)
    )
    converters: tuple[Converter, ...] = ()  # operators' plug-ins, tried at every clone

    def engine(self, name: str) -> Engine:
        try:
            return self.engines[name]
        except KeyError:
            raise ValueError(f"no engine named {name!r} is installed") from None


_state: WorkerState | None = None


def init_worker(model_dir: str | None, niceness: int = 0) -> None:
    """Pool initializer: register engines and transforms; nothing loads a model yet.

    ``niceness`` lowers the process's CPU priority (job workers yield to API processes).
    """
    global _state
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if niceness:
        os.nice(niceness)
    register_transform("world", convert)  # a cloned voice: its base voice converted
    folder = Path(model_dir) if model_dir else None
    converters = tuple(installed_converters(folder))
    for converter in converters:
        register_transform(converter.name, converter.convert)
    engines = {engine.name: engine for engine in installed_engines(folder)}
    _state = WorkerState(folder, engines, converters=converters)


def current() -> WorkerState:
    """This process's state (set up now for a process that skipped the initializer, such as
    the in-thread runner of unit tests)."""
    if _state is None:
        init_worker(None)
    assert _state is not None
    return _state
