"""A query parameter of one value, given twice, is refused on every route.

FastAPI keeps the last of ``?limit=5&limit=9`` and answers as if the request were well
formed; a client that sends a value twice has a bug, and guessing which one it meant hides
it. The check reads the matched route's own declared parameters, so a new route is covered
without being listed anywhere, and a request without a query string costs one test.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from collections import Counter
from collections.abc import Iterator

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from voxhub.errors import InvalidParameter

__all__ = ["refuse_repeated_query", "single_valued_query"]

_MANY = (collections.abc.Sequence, collections.abc.Set)  # list, tuple, set, frozenset…


async def refuse_repeated_query(request: Request) -> None:
    """Raise InvalidParameter when a single-valued query parameter is given more than once."""
    route = request.scope.get("route")
    if not request.query_params or not isinstance(route, APIRoute):
        return
    counts = Counter(key for key, _ in request.query_params.multi_items())
    given_twice = {name for name, count in counts.items() if count > 1}
    refused = sorted(given_twice & single_valued_query(route.dependant))
    if refused:
        raise InvalidParameter(f"{refused[0]} is given more than once.", param=refused[0])


def single_valued_query(dependant: Dependant) -> set[str]:
    """The query names a route and its dependencies declare that take one value each."""
    return {name for name, annotation in _query_fields(dependant) if not _takes_many(annotation)}


def _query_fields(dependant: Dependant) -> Iterator[tuple[str, object]]:
    for param in dependant.query_params:
        yield param.alias, param.field_info.annotation
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def _takes_many(annotation: object) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return any(_takes_many(arg) for arg in typing.get_args(annotation))
    target = origin if origin is not None else annotation
    if not isinstance(target, type) or issubclass(target, (str, bytes)):
        return False
    return issubclass(target, _MANY)
