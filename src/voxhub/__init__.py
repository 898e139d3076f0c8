"""voxhub: a self-hostable voice service that speaks HeyGen's v3 Voices API."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
