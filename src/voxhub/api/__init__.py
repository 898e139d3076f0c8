"""The HTTP API: routes, authentication, request and response models."""

from __future__ import annotations

from voxhub.api.app import create_app

__all__ = ["create_app"]
