"""Voice converters an operator installs: the plug-in point for cloning, beside engines.

A clone speaks through a base voice converted toward the speaker. voxhub ships one conversion,
the classical ``world`` transform (``audio/conversion.py``). An operator adds a converter of
their own — a neural model whose weights sit on local disk, say — by installing a package that
declares an entry point in the ``voxhub.converters`` group: a callable that takes the model
directory (a ``pathlib.Path``, or None when the worker keeps no files) and returns a
``Converter``. Nothing may download weights: load them from that directory or the package.

At every clone each installed converter is prepared for the speaker and tried on the base
voice's measurement speech beside ``world``; the conversion whose result the pipeline's own
speaker encoder finds closest to the speaker is kept in the clone's profile (its name and
``prepare``'s parameters, which must be JSON-ready), and speech in that clone goes through it.
A converter must keep the audio's length, so word timestamps stay true.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from voxhub.engines.base import Samples

__all__ = ["CONVERTER_GROUP", "RESERVED", "Converter", "installed_converters"]

CONVERTER_GROUP = "voxhub.converters"
RESERVED = frozenset({"world"})  # voxhub's own transform keeps its name

log = logging.getLogger(__name__)


@runtime_checkable
class Converter(Protocol):
    name: str

    def prepare(self, reference: Samples, base: Samples, rate: int) -> dict[str, Any]:
        """Parameters (JSON-ready) that move the base voice toward the reference speaker;
        ``reference`` (the clone's sample) and ``base`` (the base voice's speech) at ``rate``."""
        ...

    def convert(self, samples: Samples, rate: int, parameters: Mapping[str, Any]) -> Samples:
        """The base voice's ``samples`` moved toward the speaker, of the same length."""
        ...


def installed_converters(model_dir: Path | None) -> list[Converter]:
    """The converters that installed packages declare, each made once for this process."""
    converters: list[Converter] = []
    for entry in entry_points(group=CONVERTER_GROUP):
        converter = entry.load()(model_dir)
        if not isinstance(converter, Converter) or converter.name in RESERVED:
            log.warning("ignored the voice converter %r: not a Converter, or a reserved name",
                        entry.name)  # fmt: skip
            continue
        converters.append(converter)
    return converters
