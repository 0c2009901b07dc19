"""Turn pydantic validation errors into located, readable DocumentErrors."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from incidentctl.core.errors import MAX_FINDINGS_PER_FILE, DocumentError
from incidentctl.core.model import (
    ACTION_ID_PATTERN,
    ACTION_ID_RULE,
    ID_PATTERN,
    ID_RULE,
    MAINTENANCE_ID_PATTERN,
    MAINTENANCE_ID_RULE,
)

LineLookup = Callable[[tuple[str | int, ...]], int | None]


def _model_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that owns the last key of `loc`, for did-you-mean suggestions."""
    current: type[BaseModel] | None = model
    for key in loc[:-1]:
        if current is None or isinstance(key, int):
            continue
        field = current.model_fields.get(str(key))
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current


def _inner_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def field_name(loc: tuple[str | int, ...]) -> str:
    """timeline[2].at: how a person writes a path into the front-matter."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_ID_RULES = {  # pattern -> what it names (with its article), the rule in words
    ID_PATTERN: ("an", "incident ID", ID_RULE),
    MAINTENANCE_ID_PATTERN: ("a", "maintenance ID", MAINTENANCE_ID_RULE),
    ACTION_ID_PATTERN: ("an", "action ID", ACTION_ID_RULE),
}


def explain(
    exc: ValidationError,
    model: type[BaseModel],
    path: Path | str,
    line_of: LineLookup,
) -> list[DocumentError]:
    """One DocumentError per problem, with the line, the field and a hint where we can.

    Only the first MAX_FINDINGS_PER_FILE are located and explained (what is shown of a
    file); the rest are counted, as bare messages, so a file with 40,000 unknown keys costs
    no more than reading it."""
    errors: list[DocumentError] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        field = field_name(loc) or None
        if len(errors) >= MAX_FINDINGS_PER_FILE:
            errors.append(DocumentError(path, _brief(err, loc), field=field))
            continue
        message, hint = _described(err, loc, model)
        errors.append(DocumentError(path, message, line=line_of(loc), field=field, hint=hint))
    return errors


def _brief(err: ErrorDetails, loc: tuple[str | int, ...]) -> str:
    if err["type"] == "extra_forbidden":
        return f"unknown field '{loc[-1]}'"
    return err["msg"].removeprefix("Value error, ")


def _described(
    err: ErrorDetails, loc: tuple[str | int, ...], model: type[BaseModel]
) -> tuple[str, str | None]:
    """The message and hint of one pydantic error, in the words of the front-matter."""
    kind = err["type"]
    hint = None
    message = err["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        owner = _model_at(model, loc)
        message = f"unknown field '{loc[-1]}'"
        if owner is not None:
            names = [field.alias or name for name, field in owner.model_fields.items()]
            close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "known fields: " + ", ".join(names)
    elif kind == "missing":
        message = "required field is missing"
        hint = f"add '{loc[-1]}:' to the front-matter"
    elif kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        message = f"{err['input']!r} is not one of {expected}"
    elif kind == "string_pattern_mismatch":
        named = _ID_RULES.get(err.get("ctx", {}).get("pattern", ""))
        if named is not None:
            article, what, rule = named
            message = f"{err['input']!r} is not a valid {what}"
            hint = f"{article} {what} is {rule}"
    return message, hint
