"""policies/*.yaml merged over the shipped defaults, and policies/snapshots/<hash>.json: the
effective policy each incident was declared under, so later edits never change its deadlines.
Who is called and how (contacts, roles, rotations, overrides, people), the intake mapping and
the page identity are not in a snapshot: they are always read from the current files."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from incidentctl.core.documents import LineIndex, decode, load_yaml, yaml_lines
from incidentctl.core.errors import DocumentError, DocumentErrors
from incidentctl.core.model import Incident
from incidentctl.core.notifications import NOTIFICATIONS_FILE, Notifications
from incidentctl.core.notifications import parse as parse_notifications
from incidentctl.core.policy import (
    POLICY_FILES,
    Policy,
    assemble,
    default_text,
    locate,
    merge,
)
from incidentctl.deadlines.registry import IDS
from incidentctl.disk.regular import NotRegularFile, real_folder
from incidentctl.store.cache import combined, digest, tool_fingerprint
from incidentctl.store.files import Source, write_atomic


class Policies:
    """The policy in force now (read once) and the snapshots incidents refer to."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.dir = source.root / "policies"
        self._current: Policy | None = None
        self._digest: str | None = None
        self._snapshots: dict[str, Policy] = {}
        self._live: dict[str, Policy] = {}  # each snapshot with the live parts of now
        self.broken: dict[str, DocumentError] = {}  # snapshot files that do not read back

    def fingerprint(self) -> str:
        """Every file of policies/ by name and content hash, and the tool (whose defaults
        fill in what they leave out): what any result judged by a policy depends on, so a
        new policy file counts without being named here. Part of results-cache keys."""
        parts = [tool_fingerprint()]
        for entry in self.source.entries(self.dir):
            path = Path(entry.path)
            try:
                raw = self.source.raw(path)
            except (OSError, DocumentError):
                raw = b"\0unreadable"
            parts += [self.source.rel(path), digest(raw)]
        return combined(parts)

    def sections(self) -> dict[str, tuple[Path, str, Any]]:
        """Each policy file: (path shown in errors, text, merged data)."""
        sections: dict[str, tuple[Path, str, Any]] = {}
        for name in POLICY_FILES:
            default = default_text(name)
            base = load_yaml(Path(f"<default {name}.yaml>"), default) or {}
            path = self.dir / f"{name}.yaml"
            if os.path.lexists(path):
                shown = Path(self.source.rel(path))
                try:
                    raw = self.source.raw(path)
                except NotRegularFile as exc:
                    raise DocumentErrors([exc]) from None  # validate reports it as a finding
                text, _, _ = decode(shown, raw)
                data = load_yaml(shown, text)
                if data is None:
                    data = {}
                if not isinstance(data, dict):
                    raise DocumentError(shown, "a policy file must be a mapping", line=1)
                sections[name] = (shown, text, merge(base, data))
            else:
                sections[name] = (Path(f"<default policies/{name}.yaml>"), default, base)
        return sections

    def current(self) -> Policy:
        """The policy in force now: repo files merged over the shipped defaults."""
        if self._current is None:
            sections = self.sections()
            try:
                self._current = Policy.model_validate(
                    assemble({name: data for name, (_, _, data) in sections.items()})
                )
            except ValidationError as exc:
                raise DocumentErrors(_policy_errors(exc, sections)) from None
        return self._current

    def notifications(self) -> Notifications:
        """policies/notifications.yaml as it is now (no sinks without the file): read live,
        never frozen in a snapshot, so a sink that moved is reached where it is now."""
        path = self.dir / f"{NOTIFICATIONS_FILE}.yaml"
        if not os.path.lexists(path):
            return Notifications()
        shown = Path(self.source.rel(path))
        try:
            raw = self.source.raw(path)
        except NotRegularFile as exc:
            raise DocumentErrors([exc]) from None
        text, _, _ = decode(shown, raw)
        data = load_yaml(shown, text)
        if data is not None and not isinstance(data, dict):
            raise DocumentError(shown, "a policy file must be a mapping", line=1)
        try:
            return parse_notifications(data, IDS)
        except ValidationError as exc:
            raise DocumentErrors(_notification_errors(exc, shown, text)) from None

    def where(self) -> Callable[[str, tuple[str | int, ...]], tuple[str, int | None]]:
        """(policy file name, key path inside it) -> (path shown, line): where a check of
        the policy reports a finding."""
        sections = self.sections()
        lines: dict[str, LineIndex] = {}

        def at(name: str, loc: tuple[str | int, ...]) -> tuple[str, int | None]:
            path, text, _ = sections[name]
            if name not in lines:
                lines[name] = yaml_lines(text)
            return str(path), lines[name].line_of(loc)

        return at

    def digest(self) -> str:
        """The current policy's hash, computed once (it is compared per incident)."""
        if self._digest is None:
            self._digest = self.current().digest()
        return self._digest

    def snapshot_path(self, digest: str) -> Path:
        return self.dir / "snapshots" / (digest.replace(":", "-") + ".json")

    def save_snapshot(self, policy: Policy) -> Path:
        path = self.snapshot_path(policy.digest())
        real_folder(path.parent, self.source.root)  # policies/snapshots/ is not a symlink
        if not path.exists():
            write_atomic(path, json.dumps(json.loads(policy.canonical()), indent=1) + "\n")
        return path

    def for_incident(self, incident: Incident) -> Policy:
        """The policy in force when the incident was declared (else the current one), with
        who is called and how read live from the current one (`Policy.live`)."""
        return self.declared(incident.policy)

    def declared(self, digest: str | None) -> Policy:
        """`for_incident` of an incident whose `policy` field is `digest`."""
        if not digest or digest == self.digest():
            return self.current()
        if not self.has_snapshot(digest):
            return self.current()
        if digest not in self._live:
            self._live[digest] = self._snapshots[digest].live(self.current())
        return self._live[digest]

    def has_snapshot(self, digest: str) -> bool:
        if digest == self.digest():
            return True
        if digest not in self._snapshots:
            path = self.snapshot_path(digest)
            try:
                raw = self.source.raw(path)
            except (OSError, DocumentError):
                return False  # missing, or not a regular file (validate names that)
            try:
                self._snapshots[digest] = Policy.model_validate_json(raw)
            except ValidationError as exc:  # hand-edited: its incidents use the current policy
                self.broken[digest] = _broken_snapshot(Path(self.source.rel(path)), exc)
                return False
        return True


def _notification_errors(exc: ValidationError, shown: Path, text: str) -> list[DocumentError]:
    lines = yaml_lines(text)
    errors = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown key '{loc[-1]}'"
        if not loc:  # the whole file: names that must agree between sinks and routes
            loc = ("routes",) if "route" in message else ("sinks",)
        errors.append(
            DocumentError(
                shown,
                message,
                line=lines.line_of(loc),
                field=".".join(str(p) for p in loc),
                hint="compare with the commented defaults that `incidentctl init` writes "
                "(policies/notifications.yaml)",
            )
        )
    return errors


def _broken_snapshot(path: Path, exc: ValidationError) -> DocumentError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return DocumentError(
        path,
        f"not a policy snapshot: {first['msg']}" + (f" ({where})" if where else ""),
        hint="incidentctl writes the snapshots and never changes them; restore this file "
        "from git history",
        rule="policy",
    )


def _policy_errors(
    exc: ValidationError, sections: dict[str, tuple[Path, str, Any]]
) -> list[DocumentError]:
    errors: list[DocumentError] = []
    lines: dict[str, LineIndex] = {}  # one index a file: each lookup is then constant
    for err in exc.errors():
        loc = tuple(err["loc"])
        name, inner = locate(loc)
        path, text, _ = sections[name]
        if name not in lines:
            lines[name] = yaml_lines(text)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown policy key '{loc[-1]}'"
        errors.append(
            DocumentError(
                path,
                message,
                line=lines[name].line_of(inner),
                field=".".join(str(p) for p in inner) or None,
                hint="compare with the commented defaults that `incidentctl init` writes",
            )
        )
    return errors
