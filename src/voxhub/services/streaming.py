"""Streaming speech on the event loop: a private socket per stream, read as the worker writes.

A stream is opened only once its worker has sent the first audio (or failed): a full pool
(WorkersBusy), a voice that cannot speak the text (NothingSpoken) or a dead worker is an error
answer before any byte of the response. Closing a stream early (the client went away) closes
the socket, which stops the worker at its next piece; the pool's job then ends on its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from voxhub.errors import WorkerFailed
from voxhub.workers.pool import JobRunner
from voxhub.workers.render import RenderJob, WordTiming
from voxhub.workers.stream import (
    AUDIO,
    DONE,
    HEADER,
    WORDS,
    StreamJob,
    StreamOutcome,
    stream_render,
)

__all__ = [
    "AudioChunk",
    "SpeechStream",
    "SpeechStreams",
    "StreamDone",
    "StreamEvent",
    "WordsSpoken",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AudioChunk:
    data: bytes


@dataclass(frozen=True, slots=True)
class WordsSpoken:
    words: list[WordTiming]


@dataclass(frozen=True, slots=True)
class StreamDone:
    duration: float


StreamEvent = AudioChunk | WordsSpoken | StreamDone


class _Channel:
    """The listening socket of one stream, in a directory of its own."""

    def __init__(self) -> None:
        self._directory = tempfile.mkdtemp(prefix="voxhub-stream-")
        self.address = os.path.join(self._directory, "s")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.address)
        self._listener.listen(1)
        self._listener.setblocking(False)

    async def accept(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        connection, _ = await asyncio.get_running_loop().sock_accept(self._listener)
        return await asyncio.open_unix_connection(sock=connection)

    def close(self) -> None:
        self._listener.close()
        shutil.rmtree(self._directory, ignore_errors=True)


@dataclass
class SpeechStream:
    """An opened stream: its audio's rate, and its events in order (``events``)."""

    sample_rate: int
    _reader: asyncio.StreamReader
    _writer: asyncio.StreamWriter
    _job: asyncio.Future[StreamOutcome]
    _first: list[StreamEvent]
    _on_close: Callable[[asyncio.Future[StreamOutcome]], None]
    _closed: bool = False

    async def events(self) -> AsyncIterator[StreamEvent]:
        """Audio chunks and word timings until StreamDone; closes the stream however it ends."""
        try:
            for event in self._first:
                yield event
                if isinstance(event, StreamDone):
                    return
            while True:
                event = await _next_event(self._reader, self._job)
                yield event
                if isinstance(event, StreamDone):
                    return
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading; a worker still rendering stops at its next piece."""
        if not self._closed:
            self._closed = True
            self._writer.close()
            self._on_close(self._job)


async def _read_frame(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readexactly(5)
    return head[:1], await reader.readexactly(int.from_bytes(head[1:], "big"))


async def _next_frame(
    reader: asyncio.StreamReader, job: asyncio.Future[StreamOutcome]
) -> tuple[bytes, bytes]:
    """The next frame; when the worker hung up instead, its job's error."""
    try:
        return await _read_frame(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        await job  # raises what the worker raised
        raise WorkerFailed() from None


async def _next_event(
    reader: asyncio.StreamReader, job: asyncio.Future[StreamOutcome]
) -> StreamEvent:
    kind, payload = await _next_frame(reader, job)
    if kind == AUDIO:
        return AudioChunk(payload)
    if kind == WORDS:
        return WordsSpoken([WordTiming(w, s, e) for w, s, e in json.loads(payload)])
    if kind == DONE:
        # The answer ends once the worker is free: a client that asks again at once finds it so.
        await job
        return StreamDone(json.loads(payload)["duration"])
    raise WorkerFailed()


async def _connected(
    channel: _Channel, job: asyncio.Future[StreamOutcome]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """The worker's connection, or the job's error (a full pool: WorkersBusy)."""
    accepting = asyncio.ensure_future(channel.accept())
    waiting: set[asyncio.Future[Any]] = {accepting, job}
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    if accepting.done():
        return accepting.result()
    accepting.cancel()
    await job
    raise WorkerFailed()  # the job ended without connecting


class SpeechStreams:
    """Opens streams on a runner's workers; a job whose stream closed first is followed to its
    end here (``stopped`` counts the jobs that stopped because their client went away)."""

    def __init__(self, runner: JobRunner) -> None:
        self._runner = runner
        self._closing: set[asyncio.Future[StreamOutcome]] = set()  # at most the pool's size
        self.stopped = 0

    async def open(self, render: RenderJob, output_rate: int | None = None) -> SpeechStream:
        channel = _Channel()
        job = asyncio.ensure_future(
            self._runner.run(stream_render, StreamJob(render, channel.address, output_rate))
        )
        writer: asyncio.StreamWriter | None = None
        try:
            reader, writer = await _connected(channel, job)
            first = await _first_events(reader, job)
        except BaseException:
            if writer is not None:
                writer.close()
            elif not job.done():
                job.cancel()  # still queued: it never starts
            if not job.done():  # else its error is the one raised here
                self._follow(job)
            raise
        finally:
            channel.close()
        return SpeechStream(first.sample_rate, reader, writer, job, first.events, self._follow)

    def _follow(self, job: asyncio.Future[StreamOutcome]) -> None:
        if job.done():
            self._finished(job)
            return
        self._closing.add(job)
        job.add_done_callback(self._finished)

    def _finished(self, job: asyncio.Future[StreamOutcome]) -> None:
        self._closing.discard(job)
        if job.cancelled():
            return
        error = job.exception()
        if error is not None:
            log.warning("a speech stream's job failed after its stream closed: %r", error)
            return
        outcome = job.result()
        if outcome.stopped:
            self.stopped += 1
            log.info(
                "speech stream stopped: its client went away",
                extra={"parts_rendered": outcome.parts, "parts": outcome.total},
            )


@dataclass(frozen=True, slots=True)
class _Start:
    sample_rate: int
    events: list[StreamEvent]


async def _first_events(reader: asyncio.StreamReader, job: asyncio.Future[StreamOutcome]) -> _Start:
    """The header and every event up to the first audio (the worker sends them together)."""
    kind, payload = await _next_frame(reader, job)
    if kind != HEADER:
        raise WorkerFailed()
    sample_rate = int(json.loads(payload)["sample_rate"])
    events: list[StreamEvent] = []
    while not events or not isinstance(events[-1], AudioChunk | StreamDone):
        events.append(await _next_event(reader, job))
    return _Start(sample_rate, events)
