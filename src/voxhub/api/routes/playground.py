"""The playground: a page to try the API in a browser, with no build step and no key of its own.

The page is plain HTML, CSS and ES modules shipped in the package (``voxhub/api/playground``).
It keeps the key the user pastes in the browser and calls the public API like any client, so
the route serves files only. Its Content-Security-Policy lets the page load nothing but its own
files, talk to nothing but this server, and play audio only from here (or from wherever this
server's file links point: ``VOXHUB_PUBLIC_URL``, an object store's presigned URLs).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from voxhub.api.auth import services
from voxhub.api.links import file_url
from voxhub.errors import NotFound

__all__ = ["PLAYGROUND_DIR", "PLAYGROUND_PATH", "content_security_policy", "router"]

router = APIRouter(include_in_schema=False)
PLAYGROUND_PATH = "/playground"
PLAYGROUND_DIR = Path(__file__).resolve().parent.parent / "playground"
_FILES = {  # the only names served: nothing else under the directory is reachable
    "playground.css": "text/css; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "words.js": "text/javascript; charset=utf-8",
}
_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'none'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
)


def content_security_policy(media_origins: tuple[str, ...] = ()) -> str:
    """The page's policy: audio from here, from recordings (blob:) and ``media_origins``."""
    media = " ".join(("media-src 'self' blob:", *media_origins))
    return "; ".join((*_POLICY, media))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _file_link_origins(request: Request) -> tuple[str, ...]:
    """Where this server's file links point when that is not the page's own origin."""
    link = file_url(services(request), request, "playground/origin-probe")
    page = _origin(str(request.base_url))
    linked = _origin(link)
    return () if linked == page else (linked,)


def _headers(request: Request) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(_file_link_origins(request)),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
        "Cache-Control": "no-cache",
    }


@router.get("/")
async def root() -> Response:
    return RedirectResponse(PLAYGROUND_PATH, status_code=307)


@router.get(PLAYGROUND_PATH)
async def page(request: Request) -> Response:
    return FileResponse(
        PLAYGROUND_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers=_headers(request),
    )


@router.get(PLAYGROUND_PATH + "/{name}")
async def asset(request: Request, name: str) -> Response:
    media_type = _FILES.get(name)
    if media_type is None:
        raise NotFound("Not found.")
    return FileResponse(PLAYGROUND_DIR / name, media_type=media_type, headers=_headers(request))
