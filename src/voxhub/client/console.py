"""The user's commands: ``voxhub voices``, ``clone``, ``speak`` and ``design``, on the SDK.

They talk to a voxhub (or the hosted API, where the paths agree) over HTTP, with
``--url``/``VOXHUB_URL`` and ``--api-key``/``VOXHUB_API_KEY``; the admin commands (``serve``,
``worker``, ``migrate``, ``keys``) stay in ``voxhub.cli``, which hands these over. Built on
click (parsing, help, environment variables) and rich (tables, the clone's progress on stderr).
``--json`` prints one JSON document on stdout for scripts, errors included.

Exit codes, for scripts::

    0  done
    1  the clone failed (its failure message on stderr, or in the --json document)
    2  usage: a bad option or argument, no API key, no audio player for --play
    3  the key was refused: missing, wrong or revoked (401), or not allowed to (403)
    4  not found: no such voice (404), or no voice of that name
    5  the request was refused as invalid (400, 409, 413, …); the message says why
    6  the server is busy or failing (429, 5xx), still after the client's retries
    7  the server could not be reached
    8  --wait ran out of time: the clone is still processing (wait again later)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from voxhub.client._sync import Client
from voxhub.client.errors import (
    APIError,
    AuthenticationFailed,
    CloneFailed,
    CloneTimeout,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TransportError,
    VoxhubError,
)
from voxhub.client.models import Voice, VoiceSummary

__all__ = ["EXIT", "app", "run"]

EXIT = {
    "ok": 0,
    "clone_failed": 1,
    "usage": 2,
    "auth": 3,
    "not_found": 4,
    "refused": 5,
    "unavailable": 6,
    "unreachable": 7,
    "timeout": 8,
}
_VOICE_ID = re.compile(r"[0-9a-f]{32}")
_Command = TypeVar("_Command", bound=Callable[..., Any])


class Failure(Exception):
    """A command's end with a non-zero exit code and a message (and a document for --json)."""

    def __init__(self, exit_code: int, message: str, document: dict[str, Any]) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message
        self.document = document


def _exit_code(error: VoxhubError) -> int:
    if isinstance(error, AuthenticationFailed | PermissionDenied):
        return EXIT["auth"]
    if isinstance(error, NotFound):
        return EXIT["not_found"]
    if isinstance(error, RateLimited | ServerError):
        return EXIT["unavailable"]
    if isinstance(error, APIError):
        return EXIT["refused"]
    if isinstance(error, TransportError):
        return EXIT["unreachable"]
    if isinstance(error, CloneFailed):
        return EXIT["clone_failed"]
    if isinstance(error, CloneTimeout):
        return EXIT["timeout"]
    return EXIT["usage"]  # ConfigurationError


def _document(error: VoxhubError) -> dict[str, Any]:
    if isinstance(error, APIError):
        fields = {"status": error.status, "code": error.code, "param": error.param}
        return {"error": {**fields, "message": error.message}}
    if isinstance(error, CloneFailed | CloneTimeout):
        return error.voice.to_dict()
    return {"error": {"code": type(error).__name__, "message": str(error)}}


def _emit(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _api_command(command: _Command) -> _Command:
    """The options every command has, and the one place errors become exit codes."""

    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document (for scripts).")
    @click.option("--api-key", envvar="VOXHUB_API_KEY", help="API key  [env: VOXHUB_API_KEY]")
    @click.option("--url", envvar="VOXHUB_URL", help="voxhub's URL  [env: VOXHUB_URL]")
    @click.pass_context
    def wrapped(
        context: click.Context,
        /,
        url: str | None,
        api_key: str | None,
        as_json: bool,
        **kwargs: Any,
    ) -> None:
        errors = Console(stderr=True, soft_wrap=True)  # messages whole, for scripts' logs
        try:
            transport = (context.obj or {}).get("transport")
            with Client(api_key, url, transport=transport) as client:
                command(client, as_json=as_json, errors=errors, **kwargs)
        except VoxhubError as error:
            _fail(Failure(_exit_code(error), str(error), _document(error)), as_json, errors)
        except Failure as failure:
            _fail(failure, as_json, errors)

    return wrapped  # type: ignore[return-value]


def _fail(failure: Failure, as_json: bool, errors: Console) -> None:
    if as_json:
        _emit(failure.document)
    errors.print(f"[bold red]voxhub:[/] {failure.message}", highlight=False, markup=True)
    raise SystemExit(failure.exit_code)


@click.group(
    "voxhub",
    help="Use a voxhub (or the hosted API) from the shell. Exit codes: see `voxhub --help`.",
)
def app() -> None:
    """The user commands' group (``voxhub.cli`` hands them over)."""


@app.group("voices", help="List and show voices.")
def voices() -> None:
    """voxhub voices list|get."""


@voices.command("list", help="List voices, every page (filters as the API's List Voices).")
@click.option("--language", help="A language name, such as English.")
@click.option("--gender", type=click.Choice(["male", "female"]))
@click.option("--engine", help="piper, kokoro, espeak, or starfish (every voice speech takes).")
@click.option(
    "--type", "kind", type=click.Choice(["public", "private"]), default="public", show_default=True
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many voices.")
@_api_command
def list_voices(
    client: Client,
    *,
    as_json: bool,
    errors: Console,
    language: str | None,
    gender: str | None,
    engine: str | None,
    kind: str,
    limit: int | None,
) -> None:
    found: Iterator[VoiceSummary] = client.voices.list(
        type=kind, language=language, gender=gender, engine=engine, page_size=min(limit or 100, 100)
    )
    listed = [voice for _, voice in zip(range(limit or sys.maxsize), found, strict=False)]
    if as_json:
        _emit([voice.to_dict() for voice in listed])
        return
    table = Table(
        "voice_id", "name", "language", "gender", "status" if kind == "private" else "type"
    )
    for voice in listed:
        last = voice.status or "-" if kind == "private" else voice.type
        table.add_row(voice.voice_id, voice.name, voice.language, voice.gender, last)
    Console().print(table)
    errors.print(f"{len(listed)} voices", highlight=False)


@voices.command("get", help="Show one voice (a clone with its status).")
@click.argument("voice_id")
@_api_command
def get_voice(client: Client, *, as_json: bool, errors: Console, voice_id: str) -> None:
    _show_voice(client.voices.get(voice_id), as_json)


def _show_voice(voice: Voice, as_json: bool) -> None:
    if as_json:
        _emit(voice.to_dict())
        return
    table = Table("field", "value", show_header=False)
    for name, value in voice.to_dict().items():
        table.add_row(name, "-" if value is None else str(value))
    Console().print(table)


def _clone_source(sample: str) -> dict[str, Any]:
    if sample.startswith(("http://", "https://")):
        return {"url": sample}
    if sample.startswith("asset:"):
        return {"asset_id": sample.removeprefix("asset:")}
    path = Path(sample)
    if not path.is_file():
        raise Failure(EXIT["usage"], f"no such file: {sample}", _usage(f"no such file: {sample}"))
    return {"sample": path}


def _usage(message: str) -> dict[str, Any]:
    return {"error": {"code": "usage", "message": message}}


@app.command("clone", help="Clone a voice from SAMPLE: a file, an http(s) URL or asset:ID.")
@click.argument("sample")
@click.option("--name", required=True, help="The new voice's name.")
@click.option("--language", help="A hint such as en (detected when left out).")
@click.option("--keep-noise", is_flag=True, help="Do not remove background noise.")
@click.option("--wait", "wait_for", is_flag=True, help="Wait until it is complete or failed.")
@click.option("--timeout", type=float, default=900.0, show_default=True, help="--wait's limit, s.")
@_api_command
def clone(
    client: Client,
    *,
    as_json: bool,
    errors: Console,
    sample: str,
    name: str,
    language: str | None,
    keep_noise: bool,
    wait_for: bool,
    timeout: float,
) -> None:
    created = client.clones.create(
        name, language=language, remove_background_noise=not keep_noise, **_clone_source(sample)
    )
    if not wait_for:
        if as_json:
            _emit({"voice_id": created.voice_id, "status": "processing"})
        else:
            errors.print(f"cloning {name!r}: processing; `voxhub voices get {created.voice_id}`")
            click.echo(created.voice_id)
        return
    voice = _wait_with_progress(
        client, created.voice_id, name, timeout, quiet=as_json, errors=errors
    )
    if as_json:
        _emit(voice.to_dict())
    else:
        errors.print(f"[green]✓[/] {name!r} is complete", highlight=False)
        click.echo(voice.voice_id)


def _wait_with_progress(
    client: Client, voice_id: str, name: str, timeout: float, *, quiet: bool, errors: Console
) -> Voice:
    """``clones.wait`` with a spinner, the status and the time spent on stderr (not for --json)."""
    if quiet:
        return client.clones.wait(voice_id, timeout=timeout)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task(f"cloning {name!r}: processing", total=None)

        def show(voice: Voice) -> None:
            progress.update(task, description=f"cloning {name!r}: {voice.status}")

        return client.clones.wait(voice_id, timeout=timeout, on_poll=show)


def _resolve_voice(client: Client, voice: str) -> str:
    """A voice id as given, or the id of the one voice (public, or your clone) of that name."""
    if _VOICE_ID.fullmatch(voice):
        return voice
    wanted = voice.casefold()
    found = [
        summary
        for kind in ("private", "public")
        for summary in client.voices.list(type=kind)
        if summary.name.casefold() == wanted
    ]
    if not found:
        message = f"no voice named {voice!r} (`voxhub voices list` shows them)"
        raise Failure(EXIT["not_found"], message, _usage(message))
    if len({summary.voice_id for summary in found}) > 1:
        ids = ", ".join(summary.voice_id for summary in found)
        message = f"{len(found)} voices are named {voice!r}: give an id ({ids})"
        raise Failure(EXIT["usage"], message, _usage(message))
    return found[0].voice_id


_PLAYERS: tuple[tuple[str, list[str], str | None], ...] = (
    ("ffplay", ["-nodisp", "-autoexit", "-loglevel", "quiet"], None),
    ("mpv", ["--no-video", "--really-quiet"], None),
    ("afplay", [], None),
    ("mpg123", ["-q"], "mp3"),
    ("paplay", [], "wav"),
    ("aplay", ["-q"], "wav"),
)


def _player(output_format: str) -> list[str]:
    for program, arguments, only in _PLAYERS:
        path = shutil.which(program)
        if path and only in (None, output_format):
            return [path, *arguments]
    names = ", ".join(program for program, _, _ in _PLAYERS)
    message = f"--play found no audio player for {output_format} ({names}); use -o FILE"
    raise Failure(EXIT["usage"], message, _usage(message))


@app.command("speak", help="Speak TEXT in a voice, into a file (-o), out loud (--play) or stdout.")
@click.argument("text")
@click.option("--voice", required=True, help="A voice id, or a voice's exact name.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["mp3", "wav", "flac"]),
    help="Audio format (default: from -o's suffix, else mp3).",
)
@click.option("--speed", type=click.FloatRange(0.5, 2.0), help="0.5 to 2.0.")
@click.option("--ssml", is_flag=True, help="TEXT is SSML.")
@click.option("--play", is_flag=True, help="Play it (ffplay, mpv, afplay, mpg123 or aplay).")
@_api_command
def speak(
    client: Client,
    *,
    as_json: bool,
    errors: Console,
    text: str,
    voice: str,
    output: Path | None,
    output_format: str | None,
    speed: float | None,
    ssml: bool,
    play: bool,
) -> None:
    suffix = output.suffix.lower().lstrip(".") if output else ""
    chosen = output_format or (suffix if suffix in ("mp3", "wav", "flac") else "mp3")
    player = _player(chosen) if play else None
    to_stdout = output is None and not play and not as_json
    if to_stdout and sys.stdout.isatty():
        raise Failure(EXIT["usage"], "give -o FILE or --play (or pipe stdout)", _usage("no -o"))
    speech = client.speech.create(
        text,
        _resolve_voice(client, voice),
        input_type="ssml" if ssml else None,
        speed=speed,
        output_format=None if chosen == "mp3" and not output_format else chosen,
    )
    if to_stdout:
        sys.stdout.buffer.write(client.speech.download(speech))
        sys.stdout.flush()
        return
    with tempfile.TemporaryDirectory() as scratch:
        target = output or Path(scratch) / f"speech.{chosen}"
        if output is not None or player is not None:
            with target.open("wb") as out:
                client.speech.download(speech, to=out)
        if player is not None:
            subprocess.run([*player, str(target)], check=False)  # noqa: S603 (a found player)
    if as_json:
        _emit({**speech.to_dict(), "file": str(output) if output else None})
    elif output is not None:
        errors.print(f"{speech.duration:.2f} s of speech in {output}", highlight=False)


@app.command("design", help="Find up to three voices matching a description (PROMPT).")
@click.argument("prompt")
@click.option("--gender", type=click.Choice(["male", "female"]))
@click.option("--locale", help="A BCP-47 tag such as en-US.")
@click.option("--seed", type=click.IntRange(min=0), help="0: the best matches; 1: the next ...")
@_api_command
def design(
    client: Client,
    *,
    as_json: bool,
    errors: Console,
    prompt: str,
    gender: str | None,
    locale: str | None,
    seed: int | None,
) -> None:
    designed = client.voices.design(prompt, gender=gender, locale=locale, seed=seed)
    if as_json:
        _emit(designed.to_dict())
        return
    table = Table("voice_id", "name", "language", "gender", title=f"seed {designed.seed}")
    for voice in designed.voices:
        table.add_row(voice.voice_id, voice.name, voice.language, voice.gender)
    Console().print(table)
    if not designed.voices:
        errors.print("no voice matches", highlight=False)


def run(arguments: Sequence[str], transport: Any = None) -> int:
    """Run one user command; its exit code. ``transport``: an httpx2 transport (tests)."""
    try:
        app.main(
            args=list(arguments),
            prog_name="voxhub",
            obj={"transport": transport},
            standalone_mode=True,
        )
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    return 0
