"""The playground's page and files: served without a key, under a strict Content-Security-Policy
that still lets the page play the audio links the API answers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.audio_fixtures import encoded
from tests.unit.conftest import follow, issue_key, unit_services
from voxhub.api import create_app
from voxhub.api.routes.playground import PLAYGROUND_DIR
from voxhub.services import Services
from voxhub.store import MemoryStore


def policy(response: object) -> dict[str, list[str]]:
    header = response.headers["content-security-policy"]  # type: ignore[attr-defined]
    directives = [part.split() for part in header.split(";")]
    return {name: values for name, *values in directives}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_root_redirects_to_the_playground(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/playground"


def test_the_page_is_served_without_a_key_under_a_strict_policy(client: TestClient) -> None:
    response = client.get("/playground")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no inline scripts, no eval
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["media-src"] == ["'self'", "blob:"]
    assert csp["font-src"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_page_has_no_inline_script_and_names_only_its_own_files(client: TestClient) -> None:
    html = client.get("/playground").text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert " style=" not in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not urlsplit(url).netloc, url
        if url.startswith("/playground/"):
            assert client.get(url).status_code == 200, url
    for path in PLAYGROUND_DIR.glob("*.js"):
        for imported in re.findall(r'from "([^"]+)"', path.read_text()):
            assert imported.startswith("/playground/"), imported


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("playground.js", "text/javascript"),
        ("api.js", "text/javascript"),
        ("playground.css", "text/css"),
    ],
)
def test_the_page_files_are_served_with_their_types(
    client: TestClient, name: str, media_type: str
) -> None:
    response = client.get(f"/playground/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/playground/index.html", "/playground/..%2Fapp.py", "/playground/nothing.js"]
)
def test_nothing_else_is_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_file_links_the_page_plays_are_its_own_origin(
    client: TestClient, services: Services
) -> None:
    """audio_url and preview_audio_url are made as an asset's url is: signed links on the
    request's own origin, which media-src 'self' allows."""
    key = issue_key(services)
    uploaded = client.post(
        "/v3/assets", files={"file": ("a.wav", encoded("wav"))}, headers={"x-api-key": key}
    )
    assert uploaded.status_code == 200
    link = uploaded.json()["data"]["url"]
    page = client.get("/playground")
    assert _origin(link) == _origin(str(page.url))
    assert urlsplit(link).path.startswith("/v3/files/")
    assert follow(client, link).status_code == 200


def test_links_on_another_public_url_are_allowed_as_media(store: MemoryStore) -> None:
    services = unit_services(store, ["static"], VOXHUB_PUBLIC_URL="https://voice.example.com")

    @asynccontextmanager
    async def open_services() -> AsyncIterator[Services]:
        yield services

    with TestClient(create_app(open_services)) as client:
        csp = policy(client.get("/playground"))
    assert csp["media-src"] == ["'self'", "blob:", "https://voice.example.com"]
    assert csp["connect-src"] == ["'self'"]
