"""Turn pydantic validation errors into located, readable DocumentErrors."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from incidentctl.core.errors import DocumentError

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


def explain(
    exc: ValidationError,
    model: type[BaseModel],
    path: Path | str,
    line_of: LineLookup,
) -> list[DocumentError]:
    """One DocumentError per problem, with the line, the field and a hint where we can."""
    errors: list[DocumentError] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        kind = err["type"]
        hint = None
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if kind == "extra_forbidden":
            owner = _model_at(model, loc)
            message = f"unknown field '{loc[-1]}'"
            if owner is not None:
                names = [field.alias or name for name, field in owner.model_fields.items()]
                close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
                if close:
                    hint = f"did you mean '{close[0]}'?"
                else:
                    hint = "known fields: " + ", ".join(names)
        elif kind == "missing":
            message = "required field is missing"
            hint = f"add '{loc[-1]}:' to the front-matter"
        elif kind == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            message = f"{err['input']!r} is not one of {expected}"
        elif kind == "string_pattern_mismatch" and loc and loc[-1] == "id":
            message = f"{err['input']!r} is not a valid incident ID"
            hint = "use letters, digits, '-' and '_' only (no '/', no '..'), e.g. INC-20261127-7K3Q"
        errors.append(
            DocumentError(
                path, message, line=line_of(loc), field=field_name(loc) or None, hint=hint
            )
        )
    return errors
