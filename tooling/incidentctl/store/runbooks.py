"""runbooks/NAME.md: what to do when a service misbehaves, linked from incidents by NAME."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from incidentctl.core.documents import Document
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import Runbook
from incidentctl.store.collection import Collection


class Runbooks(Collection[Runbook]):
    model = Runbook
    folder = "runbooks"
    glob = "*.md"

    def names(self) -> set[str]:
        return {p.stem for p in self.files()}

    def path(self, name: str) -> Path:
        """runbooks/NAME.md; NAME is a slug, so it can never point outside runbooks/."""
        if not Runbook.valid_name(name) or name == "readme":
            raise IncidentctlError(
                f"{name!r} is not a valid runbook name",
                hint="use lowercase letters, digits and '-', e.g. checkout-5xx "
                "(it becomes runbooks/NAME.md and the name incidents link to)",
            )
        return self.dir / f"{name}.md"

    def linked(self, name: str) -> Runbook | None:
        """The runbook an incident links to, or None when there is no such file; raises
        DocumentError(s) when it cannot be read."""
        path = self.dir / f"{name}.md"
        return self.load(path)[1] if os.path.lexists(path) else None

    def find(self, name: str) -> tuple[Document, Runbook]:
        """Runbook NAME; an unknown name is an error with the closest existing one."""
        return self.load(self.find_path(name))

    def find_path(self, name: str) -> Path:
        """The file of runbook NAME, not read (an edit reads it under its lock)."""
        path = self.dir / f"{name}.md" if Runbook.valid_name(name) else None
        if path is None or not os.path.lexists(path):
            close = difflib.get_close_matches(name.lower(), sorted(self.names()), n=1)
            raise IncidentctlError(
                f"no runbook {name!r} in {self.source.rel(self.dir)}/",
                hint=f"did you mean '{close[0]}'?"
                if close
                else "`incidentctl runbook list` shows the runbooks; "
                "`incidentctl runbook new` creates one",
            )
        return path

    def create(self, name: str, text: str, *, dry_run: bool = False) -> Path:
        """Write a new runbook after checking its front-matter; never overwrites one."""
        path = self.path(name)
        exists = IncidentctlError(
            f"{self.source.rel(path)} already exists", hint="edit it, or choose another name"
        )
        if name in {n.lower() for n in self.names()}:
            raise exists
        self.add(path, text, exists=exists, dry_run=dry_run)
        return path
