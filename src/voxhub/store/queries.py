"""Loads ``queries.sql`` once into a dict of named queries."""

from __future__ import annotations

import re
from importlib.resources import files
from types import MappingProxyType
from typing import Final

__all__ = ["QUERIES", "parse_queries", "to_pyformat"]

_HEADER = re.compile(r"^-- ([a-z_]+) --$", re.MULTILINE)
_PARAMETER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def parse_queries(text: str) -> dict[str, str]:
    parts = _HEADER.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def to_pyformat(query: str) -> str:
    """Rewrite ``:name`` parameters as ``%(name)s`` for psycopg (a literal ``%`` doubled)."""
    return _PARAMETER.sub(r"%(\1)s", query.replace("%", "%%"))


QUERIES: Final = MappingProxyType(
    parse_queries(files("voxhub.store").joinpath("queries.sql").read_text(encoding="utf-8"))
)
