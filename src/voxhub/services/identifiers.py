"""Ids as callers send them: refused only when they cannot be ids at all (see voxhub.ids)."""

from __future__ import annotations

from voxhub.errors import InvalidParameter
from voxhub.ids import id_problem, is_voice_id

__all__ = ["could_be_stored"]


def could_be_stored(value: str, param: str) -> bool:
    """Whether ``value`` has the form of voxhub's own ids (voices, assets, batches), so a
    lookup could find it; False means "not found", whatever the string is. Raises
    InvalidParameter (400) only for what cannot be an id at all."""
    if is_voice_id(value):  # Get Voice's every poll: the one check it needs
        return True
    problem = id_problem(value, param)
    if problem is not None:
        raise InvalidParameter(problem, param=param)
    return False
