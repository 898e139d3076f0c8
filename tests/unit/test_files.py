"""Signed file links and the storage backends beneath them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from voxhub.errors import NotFound
from voxhub.services.files import FileService, load_or_create_secret
from voxhub.storage import LocalStorage, MemoryStorage, Storage, is_storage_key

NOW = 1_800_000_000.0


def signed_parts(files: FileService, key: str, now: float = NOW) -> tuple[str, str]:
    query = files.signed_path(key, now=now).split("?", 1)[1]
    params = dict(part.split("=", 1) for part in query.split("&"))
    return params["expires"], params["signature"]


@pytest.fixture
def files() -> FileService:
    storage = MemoryStorage()
    storage.put("speech/day/abc.mp3", b"ID3 audio")
    return FileService(storage, b"secret", ttl_seconds=3600)


def test_a_signed_link_opens_its_file(files: FileService) -> None:
    expires, signature = signed_parts(files, "speech/day/abc.mp3", now=time.time())
    stored = files.open("speech/day/abc.mp3", expires, signature)
    assert stored.data == b"ID3 audio"
    assert stored.media_type == "audio/mpeg"


def test_links_last_at_least_the_ttl_and_stay_stable_within_the_hour(files: FileService) -> None:
    first = signed_parts(files, "speech/day/abc.mp3", now=NOW)
    later = signed_parts(files, "speech/day/abc.mp3", now=NOW + 60)
    assert int(first[0]) >= NOW + 3600
    assert first == later or int(later[0]) - int(first[0]) == 3600


@pytest.mark.parametrize(
    "tamper",
    [
        lambda key, exp, sig: ("speech/day/other.mp3", exp, sig),
        lambda key, exp, sig: (key, str(int(exp) + 3600), sig),
        lambda key, exp, sig: (key, exp, sig[:-2] + "AA"),
        lambda key, exp, sig: (key, exp, ""),
        lambda key, exp, sig: (key, "", sig),
        lambda key, exp, sig: ("../../etc/passwd", exp, sig),
    ],
)
def test_an_altered_link_is_not_found(files: FileService, tamper: object) -> None:
    expires, signature = signed_parts(files, "speech/day/abc.mp3", now=time.time())
    key, expires, signature = tamper("speech/day/abc.mp3", expires, signature)  # type: ignore[operator]
    with pytest.raises(NotFound):
        files.open(key, expires, signature)


def test_an_expired_link_is_not_found(files: FileService) -> None:
    expires, signature = signed_parts(files, "speech/day/abc.mp3", now=NOW - 10 * 86400)
    with pytest.raises(NotFound):
        files.verify("speech/day/abc.mp3", expires, signature, now=NOW)


@pytest.mark.parametrize(
    "key",
    ["../x.mp3", "/etc/passwd", "a/../b.mp3", "A.mp3", "a\\b.mp3", "a//b.mp3", "a", ".hidden.mp3"],
)
def test_storage_refuses_keys_that_could_leave_its_folder(key: str, tmp_path: Path) -> None:
    assert not is_storage_key(key)
    with pytest.raises(ValueError, match="not a storage key"):
        LocalStorage(tmp_path).put(key, b"x")


@pytest.fixture(params=["local", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return LocalStorage(tmp_path) if request.param == "local" else MemoryStorage()


def test_storage_round_trip_and_delete(storage: Storage) -> None:
    assert storage.read("a/b.mp3") is None
    storage.put("a/b.mp3", b"one")
    storage.put("a/b.mp3", b"two")
    assert storage.exists("a/b.mp3")
    assert storage.read("a/b.mp3") == b"two"
    storage.delete("a/b.mp3")
    storage.delete("a/b.mp3")
    assert not storage.exists("a/b.mp3")


def test_only_old_files_of_the_folder_are_purged(storage: Storage) -> None:
    storage.put("speech/d/old.mp3", b"x")
    storage.put("previews/public/p.mp3", b"x")
    if isinstance(storage, LocalStorage):
        old = time.time() - 7200
        os.utime(storage.root / "speech/d/old.mp3", (old, old))
        os.utime(storage.root / "previews/public/p.mp3", (old, old))
    cutoff = time.time() - 3600 if isinstance(storage, LocalStorage) else time.time() + 1
    storage.put("speech/d/new.mp3", b"x") if isinstance(storage, LocalStorage) else None
    assert storage.delete_older_than("speech", cutoff) == 1
    assert not storage.exists("speech/d/old.mp3")
    assert storage.exists("previews/public/p.mp3")


def test_local_writes_leave_no_partial_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("a/b.wav", b"x" * 1000)
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.wav"]


def test_the_file_secret_is_made_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "file-signing.key"
    first = load_or_create_secret(path)
    assert load_or_create_secret(path) == first
    assert len(first) == 32
    assert path.stat().st_mode & 0o777 == 0o600
