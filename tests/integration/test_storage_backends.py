"""One storage contract, run on local disk, memory and S3 (moto's server, a real S3 protocol
server in a process of its own) alike; then what only S3 does: prefixes, presigned links."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from tests import s3server
from tests.audio_fixtures import encoded
from tests.s3server import S3Server
from voxhub.api.app import install_common, new_fastapi
from voxhub.api.links import file_url
from voxhub.api.routes import files as files_routes
from voxhub.domain import Account
from voxhub.metrics import NO_METRICS
from voxhub.services.files import FileService
from voxhub.services.uploads import DeclaredFile, UploadService
from voxhub.storage import (
    LocalStorage,
    MemoryStorage,
    S3Storage,
    Storage,
    open_storage,
)
from voxhub.store import MemoryStore

BAD_KEYS = [
    "../x.mp3",
    "/etc/passwd",
    "a/../b.mp3",
    "A.mp3",
    "a\\b.mp3",
    "a//b.mp3",
    "a",
    ".hidden.mp3",
    "a/b.mp3/",
    "a/b.mp3\n",
    "",
    "a/" + "b" * 200 + ".mp3",
]
BAD_FOLDERS = ["", "..", "../x", "/abs", "A", "a//b", "a/"]
# The S3 server's fixtures, where pytest looks for them (assigned, not imported, so that the
# arguments named after them are not taken for redefinitions).
s3_server = s3server.s3_server
s3_storage_url = s3server.s3_storage_url
PAGE = 10  # S3 lists and deletes this many keys per request here: every folder spans pages


@dataclass
class Backend:
    name: str
    storage: Storage
    everything: Callable[[], set[str]]  # every stored name, wherever it landed


def s3_names(storage: S3Storage) -> set[str]:
    pages = storage._client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


@pytest.fixture(params=["local", "memory", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        root = tmp_path / "files"
        local = open_storage(root.as_uri())
        yield Backend("local", local, lambda: everything_under(tmp_path))
        return
    if request.param == "memory":
        memory = open_storage("memory://")
        assert isinstance(memory, MemoryStorage)
        yield Backend("memory", memory, lambda: set(memory.files))
        return
    url = request.getfixturevalue("s3_storage_url")
    s3 = S3Storage(url.removeprefix("s3://"), "tenant/one", page_size=PAGE)
    yield Backend("s3", s3, lambda: s3_names(s3))
    s3.close()


def everything_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_files_round_trip_overwrite_whole_and_delete_idempotently(backend: Backend) -> None:
    storage = backend.storage
    assert storage.read("speech/day/a.mp3") is None
    assert not storage.exists("speech/day/a.mp3")
    storage.put("speech/day/a.mp3", b"x" * 200_000)
    assert storage.exists("speech/day/a.mp3")
    assert storage.read("speech/day/a.mp3") == b"x" * 200_000
    storage.put("speech/day/a.mp3", b"short")  # a shorter file replaces it whole
    assert storage.read("speech/day/a.mp3") == b"short"
    storage.put("speech/day/b.wav", b"")
    assert storage.read("speech/day/b.wav") == b""
    storage.delete("speech/day/a.mp3")
    storage.delete("speech/day/a.mp3")
    storage.delete("never/written.mp3")
    assert not storage.exists("speech/day/a.mp3")
    assert storage.read("speech/day/a.mp3") is None
    assert storage.exists("speech/day/b.wav")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_that_could_leave_the_folder_are_refused_and_nothing_is_written(
    backend: Backend, key: str
) -> None:
    storage = backend.storage
    calls: list[Callable[[], object]] = [
        lambda: storage.put(key, b"x"),
        lambda: storage.read(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
    ]
    if backend.name == "s3":
        calls.append(lambda: storage.presigned_url(key, 60))
    for call in calls:
        with pytest.raises(ValueError, match="not a storage key"):
            call()
    assert backend.everything() == set()


@pytest.mark.parametrize("folder", BAD_FOLDERS)
def test_folders_are_checked_as_keys_are(backend: Backend, folder: str) -> None:
    backend.storage.put("a/b.mp3", b"x")
    with pytest.raises(ValueError, match="not a storage key"):
        backend.storage.delete_folder(folder)
    with pytest.raises(ValueError, match="not a storage key"):
        backend.storage.delete_older_than(folder, time.time() + 60)
    assert backend.storage.exists("a/b.mp3")


def test_a_folder_is_deleted_whole_across_pages_and_nothing_beside_it(backend: Backend) -> None:
    storage = backend.storage
    inside = [f"speech/day1/f{i:02d}.mp3" for i in range(2 * PAGE + 5)]
    inside += [f"speech/day1/sub/g{i}.wav" for i in range(3)]
    beside = ["speech/day10/x.mp3", "speech/day0.mp3", "speechx/day1/y.mp3", "other/z.mp3"]
    for key in inside + beside:
        storage.put(key, b"x")
    storage.delete_folder("speech/day1")
    storage.delete_folder("speech/day1")  # again: nothing left, no error
    storage.delete_folder("never/made")
    assert [key for key in inside if storage.exists(key)] == []
    assert all(storage.exists(key) for key in beside)
    assert len(backend.everything()) == len(beside)


def test_only_files_older_than_the_cutoff_are_purged_from_the_folder(backend: Backend) -> None:
    storage = backend.storage
    old = [f"speech/d{i % 3}/old{i:02d}.mp3" for i in range(PAGE + 3)]
    for key in [*old, "previews/public/p.mp3"]:
        storage.put(key, b"x")
    # S3 keeps LastModified to the second: the cutoff falls after the old files' second and
    # the new files are written in a later second.
    cutoff = time.time() + 0.01
    time.sleep(int(cutoff) + 1.02 - time.time())
    new = [f"speech/d{i}/new.mp3" for i in range(3)]
    for key in new:
        storage.put(key, b"y")
    assert storage.delete_older_than("speech", cutoff) == len(old)
    assert storage.delete_older_than("speech", cutoff) == 0
    assert [key for key in old if storage.exists(key)] == []
    assert all(storage.exists(key) for key in [*new, "previews/public/p.mp3"])
    assert storage.delete_older_than("never/made", time.time() + 60) == 0


def test_only_s3_presigns(backend: Backend) -> None:
    backend.storage.put("a/b.mp3", b"x")
    url = backend.storage.presigned_url("a/b.mp3", 60)
    assert (url is not None) == (backend.name == "s3")


# --- S3 only --------------------------------------------------------------------------


@pytest.fixture
def s3(s3_storage_url: str) -> Iterator[S3Storage]:
    storage = open_storage(s3_storage_url)
    assert isinstance(storage, S3Storage)
    yield storage
    storage.close()


def test_s3_keys_live_under_the_url_prefix_and_prefixes_do_not_meet(
    s3_storage_url: str,
) -> None:
    one, two = open_storage(s3_storage_url + "/tenant/one/"), open_storage(s3_storage_url + "/two")
    assert isinstance(one, S3Storage)
    assert isinstance(two, S3Storage)
    one.put("speech/day/a.mp3", b"one")
    two.put("speech/day/a.mp3", b"two")
    assert s3_names(one) == {"tenant/one/speech/day/a.mp3", "two/speech/day/a.mp3"}
    one.delete_folder("speech")
    assert one.read("speech/day/a.mp3") is None
    assert two.read("speech/day/a.mp3") == b"two"
    assert two.delete_older_than("speech", time.time() + 60) == 1
    assert s3_names(one) == set()


def count_calls(storage: S3Storage, operation: str) -> list[int]:
    calls: list[int] = []
    storage._client.meta.events.register(f"before-call.s3.{operation}", lambda **_: calls.append(1))
    return calls


def test_s3_lists_and_deletes_a_page_at_a_time(s3_storage_url: str) -> None:
    s3 = S3Storage(s3_storage_url.removeprefix("s3://"), page_size=PAGE)
    try:
        for i in range(2 * PAGE + 5):
            s3.put(f"speech/d/f{i:02d}.mp3", b"x")
        lists, deletes = count_calls(s3, "ListObjectsV2"), count_calls(s3, "DeleteObjects")
        assert s3.delete_older_than("speech", time.time() + 60) == 2 * PAGE + 5
        assert (len(lists), len(deletes)) == (3, 3)
    finally:
        s3.close()


@pytest.mark.slow
def test_s3_deletes_folders_beyond_one_listing(s3: S3Storage) -> None:
    keys = [f"speech/d/f{i:04d}.mp3" for i in range(1001)]
    keys += [f"speech/d/sub/f{i}.mp3" for i in range(5)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3.put(key, b"x"), keys))
    s3.put("speech/e/kept.mp3", b"x")
    lists, deletes = count_calls(s3, "ListObjectsV2"), count_calls(s3, "DeleteObjects")
    s3.delete_folder("speech/d")
    assert (len(lists), len(deletes)) == (2, 2)  # S3 lists at most 1000 keys at a time
    assert s3_names(s3) == {"speech/e/kept.mp3"}


def test_a_custom_endpoint_is_addressed_in_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://minio.internal:9000")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    for name, value in [("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s")]:
        monkeypatch.setenv(name, value)
    storage = S3Storage("media", "voxhub")
    try:
        url = storage.presigned_url("a/b.mp3", 10 * 86400)  # no request: signed locally
    finally:
        storage.close()
    assert url is not None
    assert url.startswith("https://minio.internal:9000/media/voxhub/a/b.mp3?")
    assert "X-Amz-Expires=604800&" in url  # at most SigV4's 7 days
    assert "%2Feu-central-1%2Fs3%2Faws4_request" in url


def test_s3_uploads_carry_their_content_type(s3: S3Storage) -> None:
    s3.put("speech/day/a.mp3", b"ID3")
    s3.put("speech/day/a.wav", b"RIFF")
    head = s3._client.head_object
    assert head(Bucket=s3.bucket, Key="speech/day/a.mp3")["ContentType"] == "audio/mpeg"
    assert head(Bucket=s3.bucket, Key="speech/day/a.wav")["ContentType"] == "audio/wav"


def test_a_presigned_url_serves_the_bytes_without_credentials(s3: S3Storage) -> None:
    data = bytes(range(256)) * 800
    s3.put("speech/day/a.mp3", data)
    url = s3.presigned_url("speech/day/a.mp3", 300)
    assert url is not None
    assert url.startswith("http://127.0.0.1:")
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "audio/mpeg"
    # (moto does not check signatures unless IAM users are set up: no tampering test here.)


def test_a_presigned_upload_takes_the_bytes_without_credentials(s3: S3Storage) -> None:
    data = encoded("wav")
    url = s3.presigned_upload("uploads/a.bin", 300, "audio/wav", len(data))
    assert url is not None
    response = httpx.put(url, content=data, headers={"Content-Type": "audio/wav"})
    assert response.status_code == 200, response.text
    assert s3.read("uploads/a.bin") == data


@pytest.mark.anyio
async def test_a_direct_upload_on_s3_goes_to_the_store_and_is_completed(s3: S3Storage) -> None:
    store = MemoryStore()
    account = await store.get_or_create_account(Account("a" * 32, "acme", 1))
    files = FileService(s3, b"k" * 32, 3600, links="presigned")
    uploads = UploadService(store, files)
    data = encoded("flac")
    ticket = await uploads.begin(
        account.account_id, DeclaredFile("a.flac", "audio/flac", len(data))
    )
    assert ticket.url.startswith("http://127.0.0.1:")  # the store's own URL, not voxhub's
    response = httpx.put(ticket.url, content=data, headers=ticket.headers)
    assert response.status_code == 200, response.text
    asset = await uploads.complete(account.account_id, ticket.asset.asset_id, None)
    assert (asset.status, asset.media_type) == ("completed", "audio/flac")
    assert s3.read(asset.storage_key) == data
    assert s3.read(f"uploads/{asset.asset_id}.bin") is None


def test_one_s3_storage_serves_many_threads(s3: S3Storage) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                key = f"t{n}/f{i}.mp3"
                s3.put(key, f"{n}-{i}".encode() * 1000)
                assert s3.read(key) == f"{n}-{i}".encode() * 1000
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(s3_names(s3)) == 40


def test_s3_errors_other_than_missing_are_raised(
    s3_server: S3Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in s3_server.environment.items():
        monkeypatch.setenv(name, value)
    storage = S3Storage("no-such-bucket-here")
    try:
        with pytest.raises(Exception, match="NoSuchBucket"):
            storage.read("a/b.mp3")
        with pytest.raises(Exception, match="NoSuchBucket"):
            storage.put("a/b.mp3", b"x")
    finally:
        storage.close()


# --- open_storage ------------------------------------------------------------------------


def test_open_storage_knows_each_scheme(tmp_path: Path, s3_storage_url: str) -> None:
    local = open_storage((tmp_path / "with space").as_uri())
    assert isinstance(local, LocalStorage)
    assert local.root == tmp_path / "with space"
    assert isinstance(open_storage("memory://"), MemoryStorage)
    bucket = s3_storage_url.removeprefix("s3://")
    for url, prefix in [
        (f"s3://{bucket}", ""),
        (f"s3://{bucket}/", ""),
        (f"s3://{bucket}/a/b", "a/b"),
        (f"s3://{bucket}/a/b/", "a/b"),
    ]:
        storage = open_storage(url)
        assert isinstance(storage, S3Storage)
        assert (storage.bucket, storage.prefix) == (bucket, prefix)
        storage.close()


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/var/lib/voxhub",
        "relative/path",
        "file://relative/path",
        "file:relative",
        "file:///abs?x=1",
        "memory://something",
        "s3://",
        "s3:///prefix",
        "s3://Bucket",
        "s3://b",
        "s3://bucket_name",
        "s3://user:secret@bucket",
        "s3://bucket:9000",
        "s3://bucket?region=eu",
        "s3://bucket/a//b",
        "s3://bucket/../b",
        "gs://bucket",
        "https://s3.amazonaws.com/bucket",
        "postgresql://localhost/db",
    ],
)
def test_open_storage_refuses_other_urls(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported storage URL"):
        open_storage(url)


# --- file links ------------------------------------------------------------------------


def request_to(host: str) -> Request:
    return Request({"type": "http", "scheme": "https", "headers": [(b"host", host.encode())]})


def registry(files: FileService, public_url: str = "") -> Any:
    return SimpleNamespace(files=files, public_url=public_url, metrics=NO_METRICS)


def test_presigned_links_are_the_stores_absolute_urls(s3: S3Storage) -> None:
    s3.put("previews/public/v.mp3", b"ID3 preview")
    files = FileService(s3, b"secret", ttl_seconds=3600, links="presigned")
    link = files.link("previews/public/v.mp3")
    assert link.startswith("http://127.0.0.1:")
    assert f"/{s3.bucket}/previews/public/v.mp3?" in link
    assert files.link("previews/public/v.mp3") == link  # kept while its expiry holds
    expires = int(link.split("X-Amz-Expires=", 1)[1].split("&", 1)[0])
    assert 3600 <= expires <= 3 * 3600
    # links.py passes it through: no public URL or request host in front.
    assert file_url(registry(files, "https://voice.example"), request_to("x"), "a/b.mp3") == (
        files.link("a/b.mp3")
    )
    assert httpx.get(link).content == b"ID3 preview"
    # voxhub's own signed links still open the file.
    query = files.signed_path("previews/public/v.mp3").split("?", 1)[1]
    params = dict(part.split("=", 1) for part in query.split("&"))
    assert files.open("previews/public/v.mp3", **params).data == b"ID3 preview"


def test_signed_links_are_voxhubs_paths_on_its_url(s3: S3Storage, tmp_path: Path) -> None:
    for storage, mode in [(s3, "signed"), (LocalStorage(tmp_path), "presigned")]:
        files = FileService(storage, b"secret", ttl_seconds=3600, links=mode)
        link = files.link("a/b.mp3")
        assert link == files.signed_path("a/b.mp3")
        assert link.startswith("/v3/files/a/b.mp3?expires=")
        assert file_url(registry(files), request_to("voxhub.test"), "a/b.mp3") == (
            "https://voxhub.test" + link
        )
        assert file_url(registry(files, "https://voice.example"), request_to("x"), "a/b.mp3") == (
            "https://voice.example" + link
        )


def test_link_modes_are_checked() -> None:
    with pytest.raises(ValueError, match="file links"):
        FileService(MemoryStorage(), b"secret", ttl_seconds=3600, links="public")


def test_the_files_route_serves_s3_bytes(s3: S3Storage) -> None:
    s3.put("speech/day/a.mp3", b"ID3 speech")
    files = FileService(s3, b"secret", ttl_seconds=3600)
    app = new_fastapi()
    install_common(app)
    app.include_router(files_routes.router)
    app.state.services = registry(files)
    with TestClient(app) as client:
        response = client.get(files.signed_path("speech/day/a.mp3"))
        assert response.status_code == 200
        assert response.content == b"ID3 speech"
        assert response.headers["content-type"] == "audio/mpeg"
        missing = client.get(files.signed_path("speech/day/gone.mp3"))
        assert missing.status_code == 404
