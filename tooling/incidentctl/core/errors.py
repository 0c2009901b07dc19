"""The one family of exceptions a user can cause; anything else is a bug."""

from __future__ import annotations

from pathlib import Path


class IncidentctlError(Exception):
    """A problem the user can fix: printed cleanly, exit code 2."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class DocumentError(IncidentctlError):
    """A problem in one file, located by path, line and field."""

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
        rule: str = "schema",
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = str(path)
        self.line = line
        self.field = field
        self.rule = rule

    def location(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
        return where

    def render(self) -> str:
        head = self.location() + ": "
        if self.field:
            head += f"{self.field}: "
        text = head + self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class DocumentErrors(IncidentctlError):
    """Several problems found in one pass, reported together."""

    def __init__(self, errors: list[DocumentError]) -> None:
        super().__init__("; ".join(e.render() for e in errors))
        self.errors = errors

    def render(self) -> str:
        return "\n".join(e.render() for e in self.errors)


class TransitionError(IncidentctlError):
    """A lifecycle command that the process does not allow right now."""
