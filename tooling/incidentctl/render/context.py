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
_SCALAR_TYPES = frozenset(PLAIN_SCALARS)

# A frozen dataclass's plain form by id, for one series of renders: (the value, its form).
Memo = dict[int, tuple[Any, Any]]

_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names (fields() is slow)


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def plain(value: Any, memo: Memo | None = None) -> Any:
    """`value` as plain data: models and dataclasses as dicts (their fields, not their
    properties or methods), enums as their values, tuples as lists.

    With a `memo`, a frozen dataclass met again (the same object) gives the same plain form,
    built once: a site build hands each incident to two or three pages. Templates cannot
    change what they are given (the sandbox is immutable), so sharing it is safe.

    Anything else (a path, a repository, a function) is a bug in the caller, not something to
    pass through: TypeError.
    """
    if type(value) in _SCALAR_TYPES:  # the common case first; Markup and enums are subtypes
        return value
    if isinstance(value, Markup):
        return value
    if isinstance(value, Enum):
        return plain(value.value, memo)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, BaseModel):
        return plain(value.model_dump(mode="python"), memo)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if memo is None or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            return _fields(value, cls, memo)
        seen = memo.get(id(value))
        if seen is not None and seen[0] is value:
            return seen[1]
        shown = _fields(value, cls, memo)
        memo[id(value)] = (value, shown)  # holding the value keeps its id from being reused
        return shown
    if isinstance(value, Mapping):
        return {plain(k, memo): plain(v, memo) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _SCALAR_TYPES else plain(v, memo) for v in value]
    raise TypeError(f"{type(value).__name__} is not plain data; a template may not see it")


def _fields(value: Any, cls: type, memo: Memo | None) -> dict[str, Any]:
    """A dataclass's fields as plain data (a scalar field, the most common, without a call)."""
    shown = {}
    for name in _field_names(cls):
        field = getattr(value, name)
        shown[name] = field if type(field) in _SCALAR_TYPES else plain(field, memo)
    return shown


def plain_context(values: Mapping[str, Any], memo: Memo | None = None) -> dict[str, Any]:
    """A render context (a template's top-level names and their values) as plain data."""
    return {str(name): plain(value, memo) for name, value in values.items()}
