"""Jobs for the worker pool tests (importable by spawned worker processes)."""

from __future__ import annotations

import os
import signal
import time

__all__ = ["die", "pid", "sleep_then_pid"]


def pid() -> int:
    return os.getpid()


def sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def die() -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return -1  # never reached
