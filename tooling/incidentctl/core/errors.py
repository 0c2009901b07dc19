"""The one family of exceptions a user can cause; anything else is a bug."""

from __future__ import annotations

from pathlib import Path

# What is shown of one file's problems: the first 50, then one line with how many more.
# A file with 40,000 of them is usually one mistake (a pasted dump, a wrong indentation).
MAX_FINDINGS_PER_FILE = 50


def more_findings(count: int) -> str:
    """The line that stands for the findings of a file that are not shown."""
    return f"and {count:,} more finding{'s' if count != 1 else ''} in this file"


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
        self.errors = errors
        super().__init__("; ".join(self._shown()))

    def render(self) -> str:
        return "\n".join(self._shown())

    def _shown(self) -> list[str]:
        """Every error, up to MAX_FINDINGS_PER_FILE a file, then how many more."""
        counts: dict[str, int] = {}
        lines: list[str] = []
        for error in self.errors:
            counts[error.path] = counts.get(error.path, 0) + 1
            if counts[error.path] <= MAX_FINDINGS_PER_FILE:
                lines.append(error.render())
        for path, count in counts.items():
            if count > MAX_FINDINGS_PER_FILE:
                lines.append(f"{path}: {more_findings(count - MAX_FINDINGS_PER_FILE)}")
        return lines


class TransitionError(IncidentctlError):
    """A lifecycle command that the process does not allow right now."""
