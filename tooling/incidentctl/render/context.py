"""What a template sees: plain data only.

A repository's templates are code written by whoever can open a pull request. They render in a
sandbox, and the sandbox guards attribute access, not what an object's public methods do: a
pydantic model, a path or a policy object in the context would hand a template methods to call.
So every context is reduced to plain data at the boundary: dicts, lists, strings, numbers,
booleans, None, dates and datetimes, and Markup for HTML that is already safe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from markupsafe import Markup
from pydantic import BaseModel

# What a template may hold. Markup is a str whose HTML was escaped or sanitized already.
PLAIN_SCALARS: tuple[type, ...] = (str, int, float, bool, type(None), date, datetime)


def plain(value: Any) -> Any:
    """`value` as plain data: models and dataclasses as dicts (their fields, not their
    properties or methods), enums as their values, tuples as lists.

    Anything else (a path, a repository, a function) is a bug in the caller, not something to
    pass through: TypeError.
    """
    if isinstance(value, Markup):
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if type(value) in PLAIN_SCALARS:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, BaseModel):
        return plain(value.model_dump(mode="python"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    raise TypeError(f"{type(value).__name__} is not plain data; a template may not see it")


def plain_context(values: Mapping[str, Any]) -> dict[str, Any]:
    """A render context (a template's top-level names and their values) as plain data."""
    return {str(name): plain(value) for name, value in values.items()}
