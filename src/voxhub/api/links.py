"""Absolute links to stored files, as clients fetch them."""

from __future__ import annotations

from starlette.requests import Request

from voxhub.domain import Voice
from voxhub.services import Services

__all__ = ["absolute", "file_url", "preview_url"]


def _base(registry: Services, request: Request) -> str:
    if registry.public_url:
        return registry.public_url
    scheme = request.scope.get("scheme", "http")
    for name, value in request.scope["headers"]:
        if name == b"host":
            return f"{scheme}://{value.decode('latin-1')}"
    server = request.scope.get("server") or ("localhost", 80)
    return f"{scheme}://{server[0]}:{server[1]}"


def absolute(registry: Services, request: Request, link: str) -> str:
    """A path on voxhub's public URL (or the request's host); an absolute URL as it is."""
    return _base(registry, request) + link if link.startswith("/") else link


def file_url(registry: Services, request: Request, key: str) -> str:
    """voxhub's signed path, or the object store's presigned URL (already absolute)."""
    return absolute(registry, request, registry.files.link(key))


def preview_url(registry: Services, request: Request, voice: Voice) -> str | None:
    """A voice's preview link: public voices once rendered, clones once complete."""
    if voice.preview_key is None or not (voice.is_public or voice.status == "complete"):
        return None
    return file_url(registry, request, voice.preview_key)
