"""The SDK on mock transports: errors, retries, idempotency keys, paging, wait, the CLI."""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import httpx2 as httpx
import pytest

from voxhub.client import (
    APIError,
    AuthenticationFailed,
    BadRequest,
    Client,
    CloneFailed,
    CloneTimeout,
    ConfigurationError,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    RetryPolicy,
    ServerError,
    ServiceUnavailable,
    TransportError,
    WaitPolicy,
)
from voxhub.client.console import EXIT, app, run
from voxhub.client.testing import MockVoxhub, silent_wav

Handler = Callable[[httpx.Request], httpx.Response]


def envelope(status: int, code: str, param: str | None = None, **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": f"{code}!", "param": param, "doc_url": None}}
    return httpx.Response(status, json=body, headers={"x-request-id": "req-1", **headers})


def client_on(handler: Handler, **options: object) -> tuple[Client, list[float]]:
    """A Client whose sleeps are recorded instead of slept."""
    client = Client(
        "vxk_test", "http://api.test", transport=httpx.MockTransport(handler), **options
    )  # type: ignore[arg-type]
    slept: list[float] = []
    client._sleep = slept.append  # type: ignore[method-assign]
    return client, slept


def answers(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving these answers in turn, and the requests it saw."""
    seen: list[httpx.Request] = []
    queue: Iterator[httpx.Response] = iter(responses)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(queue)

    return handle, seen


VOICE = {"voice_id": "a" * 32, "name": "Ava", "support_pause": True, "status": None}


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "invalid_parameter", BadRequest),
        (401, "authentication_failed", AuthenticationFailed),
        (403, "insufficient_api_key_scope", PermissionDenied),
        (404, "voice_not_found", NotFound),
        (409, "request_in_progress", Conflict),
        (429, "rate_limit_exceeded", RateLimited),
        (500, "internal_error", ServerError),
        (503, "service_unavailable", ServiceUnavailable),
    ],
)
def test_error_envelopes_map_to_one_class_each(status: int, code: str, kind: type) -> None:
    handler, _ = answers(envelope(status, code, param="voice_id", **{"Retry-After": "7"}))
    client, _ = client_on(handler, retries=RetryPolicy(max_retries=0))
    with pytest.raises(kind) as raised:
        client.voices.get("a" * 32)
    error = raised.value
    assert isinstance(error, APIError)
    assert (error.status, error.code, error.message, error.param, error.request_id) == (
        status, code, f"{code}!", "voice_id", "req-1",
    )  # fmt: skip
    if status in (429, 503):
        assert error.retry_after == 7.0  # type: ignore[attr-defined]


def test_an_answer_that_is_no_envelope_still_maps_by_status() -> None:
    handler, _ = answers(httpx.Response(502, text="<html>bad gateway</html>"))
    client, _ = client_on(handler)
    with pytest.raises(ServerError) as raised:
        client.voices.get("a" * 32)
    assert (raised.value.status, raised.value.code) == (502, "http_502")


def test_a_refused_connection_is_a_transport_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client, _ = client_on(refuse)
    with pytest.raises(TransportError, match="connection refused"):
        client.voices.get("a" * 32)


def test_429_is_retried_after_the_servers_retry_after() -> None:
    handler, seen = answers(
        envelope(429, "rate_limit_exceeded", **{"Retry-After": "2"}),
        envelope(503, "service_unavailable", **{"Retry-After": "5"}),
        httpx.Response(200, json={"data": VOICE}),
    )
    client, slept = client_on(handler)
    assert client.voices.get("a" * 32).name == "Ava"
    assert slept == [2.0, 5.0]
    assert len(seen) == 3


def test_retries_are_bounded_and_then_the_error_carries_retry_after() -> None:
    limited = [envelope(429, "rate_limit_exceeded", **{"Retry-After": "1"}) for _ in range(3)]
    handler, seen = answers(*limited)
    client, slept = client_on(handler, retries=RetryPolicy(max_retries=2))
    with pytest.raises(RateLimited) as raised:
        client.voices.get("a" * 32)
    assert raised.value.retry_after == 1.0
    assert (len(seen), slept) == (3, [1.0, 1.0])


def test_a_retry_after_longer_than_max_wait_is_not_waited_for() -> None:
    handler, seen = answers(envelope(429, "rate_limit_exceeded", **{"Retry-After": "120"}))
    client, slept = client_on(handler, retries=RetryPolicy(max_wait=60))
    with pytest.raises(RateLimited) as raised:
        client.voices.get("a" * 32)
    assert (raised.value.retry_after, slept, len(seen)) == (120.0, [], 1)


def test_without_retry_after_the_wait_doubles() -> None:
    handler, _ = answers(
        *[envelope(503, "service_unavailable") for _ in range(3)],
        httpx.Response(200, json={"data": VOICE}),
    )
    client, slept = client_on(handler, retries=RetryPolicy(backoff=1.0))
    client.voices.get("a" * 32)
    assert len(slept) == 3
    assert all(  # doubling, ±20 % jitter
        0.8 * 2**i <= s <= 1.2 * 2**i for i, s in enumerate(slept)
    )


def test_a_404_or_500_is_never_retried() -> None:
    handler, seen = answers(envelope(500, "internal_error"))
    client, slept = client_on(handler)
    with pytest.raises(ServerError):
        client.voices.get("a" * 32)
    assert (len(seen), slept) == (1, [])


def test_a_create_keeps_its_idempotency_key_across_retries() -> None:
    created = {"data": {"voice_clone_id": "c" * 32}}
    handler, seen = answers(
        envelope(503, "service_unavailable", **{"Retry-After": "0"}),
        httpx.Response(200, json=created),
        httpx.Response(200, json=created),
        httpx.Response(200, json=created),
    )
    client, _ = client_on(handler)
    assert client.clones.create("Me", url="https://example.com/me.wav").voice_id == "c" * 32
    client.clones.create("Me", url="https://example.com/me.wav")
    client.clones.create("Me", url="https://example.com/me.wav", idempotency_key="mine-1")
    keys = [request.headers.get("idempotency-key") for request in seen]
    assert keys[0] is not None
    assert keys[1] == keys[0]  # the retry: the same key
    assert keys[2] not in (None, keys[0])  # another create: another key
    assert keys[3] == "mine-1"


def test_clone_sources_become_the_apis_audio_objects(tmp_path: Path) -> None:
    mock = MockVoxhub()
    sample = tmp_path / "me.wav"
    sample.write_bytes(silent_wav(0.1))
    with mock.client() as client:
        client.clones.create("From a path", sample)
        client.clones.create("From bytes", b"ID3\x04rest")
        client.clones.create("From a URL", url="https://example.com/me.wav", language="en")
        asset = client.assets.upload(sample)
        client.clones.create("From an asset", asset_id=asset.asset_id)
        with pytest.raises(ConfigurationError):
            client.clones.create("From two", b"RIFF", url="https://example.com/me.wav")
    bodies = [json.loads(r.content) for r in mock.requests if r.url.path == "/v3/voices/clone"]
    audio = [body["audio"] for body in bodies]
    assert audio[0]["media_type"] == "audio/wav"
    assert base64.b64decode(audio[0]["data"]) == sample.read_bytes()
    assert audio[1]["media_type"] == "audio/mpeg"
    assert audio[2] == {"type": "url", "url": "https://example.com/me.wav"}
    assert bodies[2]["language"] == "en"
    assert audio[3] == {"type": "asset_id", "asset_id": asset.asset_id}
    assert mock.assets[asset.asset_id]["content"] == sample.read_bytes()


def test_list_pages_through_every_voice() -> None:
    mock = MockVoxhub()
    names = [f"Voice {n}" for n in range(5)]
    for name in names:
        mock.add_voice(name)
    mock.add_voice("Someone else", language="French")
    with mock.client() as client:
        listed = [voice.name for voice in client.voices.list(language="english", page_size=2)]
    assert listed == names
    tokens = [r.url.params.get("token") for r in mock.requests]
    assert tokens == [None, "2", "4"]


def test_wait_polls_with_backoff_until_complete() -> None:
    mock = MockVoxhub(polls_to_finish=4)
    client = mock.client(wait_policy=WaitPolicy(first=1.0, factor=2.0, most=3.0))
    slept: list[float] = []
    client._sleep = slept.append  # type: ignore[method-assign]
    seen: list[str | None] = []
    clone = client.clones.create("Me", b"RIFF")
    voice = client.clones.wait(clone.voice_id, on_poll=lambda v: seen.append(v.status))
    assert voice.status == "complete"
    assert slept == [1.0, 2.0, 3.0]
    assert seen == ["processing", "processing", "processing", "complete"]


def test_wait_raises_clone_failed_with_the_failure_message() -> None:
    mock = MockVoxhub(clone_failure="Only 2 s of speech: record at least 10 s.")
    with mock.client() as client:
        clone = client.clones.create("Me", b"RIFF")
        with pytest.raises(CloneFailed) as raised:
            client.clones.wait(clone.voice_id)
    assert raised.value.failure_message == "Only 2 s of speech: record at least 10 s."
    assert raised.value.voice.status == "failed"


def test_wait_gives_up_after_its_timeout() -> None:
    mock = MockVoxhub(polls_to_finish=1000)
    with mock.client() as client:
        clone = client.clones.create("Me", b"RIFF")
        with pytest.raises(CloneTimeout) as raised:
            client.clones.wait(clone.voice_id, timeout=0)
    assert raised.value.voice.status == "processing"


def test_the_key_goes_to_the_api_only_never_to_a_file_host() -> None:
    speech = {"audio_url": "https://cdn.example.net/a.mp3", "duration": 1.0}
    handler, seen = answers(
        httpx.Response(200, json={"data": speech}), httpx.Response(200, content=b"ID3audio")
    )
    client, _ = client_on(handler)
    assert client.speech.to_bytes("Hi", "a" * 32) == b"ID3audio"
    assert seen[0].headers["x-api-key"] == "vxk_test"
    assert "x-api-key" not in seen[1].headers


def test_speech_to_a_file_and_streamed(tmp_path: Path) -> None:
    mock = MockVoxhub()
    ava = mock.add_voice("Ava")
    with mock.client() as client:
        speech = client.speech.to_file(tmp_path / "hi.wav", "Hello there", ava, speed=1.5)
        with client.speech.stream("Hello there", ava, output_format="pcm") as audio:
            streamed = b"".join(audio.iter_bytes(1000))
            assert audio.sample_rate == 16000
    assert (tmp_path / "hi.wav").read_bytes() == silent_wav() == streamed
    assert [w.word for w in speech.word_timestamps or []] == ["Hello", "there"]
    bodies = [json.loads(r.content) for r in mock.requests if r.method == "POST"]
    assert bodies[0] == {"text": "Hello there", "voice_id": ava, "speed": 1.5}  # nothing unasked
    assert bodies[1]["output_format"] == "pcm"
    # speech may take minutes to make; everything else keeps the client's timeout
    reads = [(r.method, r.extensions["timeout"]["read"]) for r in mock.requests]
    assert reads == [("POST", 900.0), ("GET", 30.0), ("POST", 900.0)]


def test_url_and_key_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOXHUB_API_KEY", raising=False)
    monkeypatch.delenv("VOXHUB_URL", raising=False)
    with pytest.raises(ConfigurationError, match="VOXHUB_API_KEY"):
        Client()
    monkeypatch.setenv("VOXHUB_API_KEY", "vxk_env")
    monkeypatch.setenv("VOXHUB_URL", "http://voxhub.internal:9000/")
    client = Client()
    assert (client.api_key, client.base_url) == ("vxk_env", "http://voxhub.internal:9000")
    assert Client("vxk_arg", "http://other").api_key == "vxk_arg"


@pytest.mark.anyio
async def test_the_async_client_pages_retries_and_waits_the_same(tmp_path: Path) -> None:
    mock = MockVoxhub(polls_to_finish=2, clone_failure="Too quiet.")
    for name in ("A", "B", "C"):
        mock.add_voice(name)
    mock.rate_limit(times=1, retry_after=0)
    async with mock.async_client() as client:
        listed = [voice.name async for voice in client.voices.list(page_size=2)]
        clone = await client.clones.create("Me", b"RIFF")
        with pytest.raises(CloneFailed, match="Too quiet"):
            await client.clones.wait(clone.voice_id)
        async with client.speech.stream("Hi", mock.add_voice("D")) as audio:
            streamed = b"".join([chunk async for chunk in audio])
        await client.speech.to_file(tmp_path / "hi.wav", "Hi", mock.add_voice("E"))
        with pytest.raises(NotFound):
            await client.voices.get("0" * 32)
    assert listed == ["A", "B", "C"]
    assert streamed == silent_wav() == (tmp_path / "hi.wav").read_bytes()
    assert [r.url.path for r in mock.requests[:2]] == ["/v3/voices", "/v3/voices"]  # 429, retry


# The command line on the mock: exit codes and --json as scripts see them.


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> MockVoxhub:
    made = MockVoxhub()
    monkeypatch.setenv("VOXHUB_API_KEY", made.api_key)
    monkeypatch.setenv("VOXHUB_URL", made.base_url)
    return made


def test_cli_design_prints_up_to_three_voices(
    mock: MockVoxhub, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, gender in (("Ann", "female"), ("Bo", "male"), ("Cy", "male"), ("Di", "male")):
        mock.add_voice(name, gender=gender)
    assert run(["design", "a calm male narrator", "--json"], mock.transport) == EXIT["ok"]
    designed = json.loads(capsys.readouterr().out)
    assert [v["name"] for v in designed["voices"]] == ["Bo", "Cy", "Di"]
    assert json.loads(mock.requests[0].content) == {"prompt": "a calm male narrator"}
    assert run(["design", "a calm male narrator"], mock.transport) == EXIT["ok"]
    assert "Bo" in capsys.readouterr().out


def test_cli_clone_wait_exits_1_with_the_failure_message(
    mock: MockVoxhub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.clone_failure = "No speech found: record yourself reading for 30 s."
    sample = tmp_path / "me.wav"
    sample.write_bytes(silent_wav(0.1))
    code = run(["clone", str(sample), "--name", "Me", "--wait", "--json"], mock.transport)
    printed = capsys.readouterr()
    assert code == EXIT["clone_failed"] == 1
    assert json.loads(printed.out)["failure_message"] == mock.clone_failure
    assert mock.clone_failure in printed.err


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (["voices", "get", "0" * 32], 4),
        (["voices", "list", "--api-key", "wrong"], 3),
        (["speak", "--voice", "Nobody", "Hi", "-o", "x.mp3"], 4),
        (["clone", "no-such-file.wav", "--name", "Me"], 2),
        (["voices", "list", "--limit", "0"], 2),
    ],
)
def test_cli_exit_codes(mock: MockVoxhub, arguments: list[str], code: int) -> None:
    assert run(arguments, mock.transport) == code


def test_cli_speak_finds_a_voice_by_name(mock: MockVoxhub, tmp_path: Path) -> None:
    ava = mock.add_voice("Ava (English)")
    out = tmp_path / "hi.wav"
    assert run(["speak", "--voice", "ava (english)", "Hi", "-o", str(out)], mock.transport) == 0
    assert out.read_bytes() == silent_wav()
    speech = next(json.loads(r.content) for r in mock.requests if r.url.path.endswith("speech"))
    assert speech == {"text": "Hi", "voice_id": ava, "output_format": "wav"}


def test_the_readmes_user_command_lines_parse() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    lines = re.findall(r"^\$ (voxhub (?:voices|clone|speak|design) .*)$", readme, flags=re.M)
    assert len(lines) >= 6
    for line in lines:
        argv = shlex.split(line.split(" > ")[0], comments=True)[1:]
        command: click.Command | None = app
        while isinstance(command, click.Group):  # no group options: the first word names one
            command, argv = command.get_command(click.Context(command), argv[0]), argv[1:]
        assert command is not None, line
        context = command.make_context(command.name or "", argv)  # parses; exits on a bad one
        assert context.params, line
