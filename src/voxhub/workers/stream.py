"""Streaming speech from a worker process: each piece is sent the moment it is encoded.

The pool's result comes back only when a job ends, so a streaming job also gets the address
of a Unix socket on which the API process listens for it alone; the worker connects and sends
frames (a kind byte, a 4-byte big-endian length, the payload). When the client goes away the
API process closes its end, the worker's next send fails, and the worker stops rendering and
is free for the next job.

Nothing is sent before the first piece that makes a sound, so a text the voice cannot speak
at all still fails (NothingSpoken) before the response has begun.
"""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass

from voxhub.audio.stream import STREAM_FORMATS, ChunkEncoder
from voxhub.workers.render import RenderJob, WordTiming, engine_named, spoken_parts
from voxhub.workers.script import Piece

__all__ = [
    "AUDIO",
    "DONE",
    "HEADER",
    "STREAM_FORMATS",
    "WORDS",
    "StreamJob",
    "StreamOutcome",
    "frame",
    "stream_render",
]

HEADER = b"H"  # {"sample_rate": the rate of the audio sent}
AUDIO = b"A"  # encoded bytes
WORDS = b"W"  # [[word, start, end], ...]: the words of the piece just sent
DONE = b"D"  # {"duration": seconds}
_LENGTH = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class StreamJob:
    render: RenderJob  # its audio_format is a name of STREAM_FORMATS
    address: str
    output_rate: int | None = None  # resample to this rate (None: the voice's own)


@dataclass(frozen=True, slots=True)
class StreamOutcome:
    parts: int  # parts rendered: the script's pieces, then its closing pause
    total: int  # parts in all
    stopped: bool  # the client went away before the end


def frame(kind: bytes, payload: bytes) -> bytes:
    return kind + _LENGTH.pack(len(payload)) + payload


def _words_payload(words: list[WordTiming]) -> bytes:
    return json.dumps([[w.word, w.start, w.end] for w in words]).encode()


def stream_render(job: StreamJob) -> StreamOutcome:
    """Render ``job`` into its socket; stops early when the other end has closed."""
    engine = engine_named(job.render.profile.engine)
    total = sum(1 for part in job.render.script.parts if isinstance(part, Piece)) + 1
    parts = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as channel:
        channel.connect(job.address)
        encoder: ChunkEncoder | None = None
        held = b""  # bytes held back until a piece makes a sound
        sounded = False
        try:
            for part in spoken_parts(job.render, engine):
                parts += 1
                if encoder is None:
                    stream_format = STREAM_FORMATS[job.render.audio_format]
                    encoder = ChunkEncoder(stream_format, part.sample_rate, job.output_rate)
                    rate = json.dumps({"sample_rate": encoder.output_rate}).encode()
                    held += frame(HEADER, rate)
                audio = encoder.add(part.lead) + encoder.add(part.samples)
                sounded = sounded or len(part.samples) > 0
                held += frame(AUDIO, audio) if audio else b""
                if part.words:
                    held += frame(WORDS, _words_payload(part.words))
                if sounded and held:
                    channel.sendall(held)
                    held = b""
            assert encoder is not None  # spoken_parts yields at least its last part
            duration = round(encoder.samples_in / encoder.sample_rate, 3)
            tail = encoder.finish()
            channel.sendall(
                held
                + (frame(AUDIO, tail) if tail else b"")
                + frame(DONE, json.dumps({"duration": duration}).encode())
            )
        except (BrokenPipeError, ConnectionResetError):
            return StreamOutcome(parts, total, stopped=True)
    return StreamOutcome(parts, total, stopped=False)
