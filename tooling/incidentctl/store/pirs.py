"""pir.md beside each incident.md: the post-incident review, one per incident."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from incidentctl.core.documents import Document, Loaded, parse
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import Pir
from incidentctl.store.collection import Collection

PIR_FILE = "pir.md"


class Pirs(Collection[Pir]):
    model = Pir
    folder = "incidents"
    glob = f"*/*/*/{PIR_FILE}"

    def path(self, loaded: Loaded) -> Path:
        return self.source.root / loaded.path.parent / PIR_FILE

    def of(self, loaded: Loaded) -> tuple[Document, Pir] | None:
        """The incident's PIR, or None when it has none yet."""
        path = self.path(loaded)
        return self.load(path) if os.path.lexists(path) else None

    def front(self, incident: Path, raw: bytes | None = None) -> dict[str, Any] | None:
        """The front-matter of the PIR beside `incident` (the incident.md's repository path)
        as data, unvalidated (the timers read it loosely); None when there is none. `raw`:
        its bytes, when the caller read them already. Raises DocumentError when it cannot
        be parsed."""
        if raw is None:
            raw = self._bytes(incident)
            if raw is None:
                return None
        return parse(incident.parent / PIR_FILE, raw).data  # shown as the incident is

    def _bytes(self, incident: Path) -> bytes | None:
        """The bytes of the PIR beside `incident`, None when there is none: known from this
        run's listing when a bulk load listed the folders, else from the read itself, no
        lstat before it (a symlink or FIFO there is listed, and refused by the read)."""
        if self.listed_beside(incident) is False:
            return None  # not in this run's listing: no read to fail
        try:
            return self.source.raw(self.source.root / incident.parent / PIR_FILE)
        except FileNotFoundError:
            return None

    def beside(self, incident: Path) -> bool:
        """Whether something named pir.md is beside the incident.md at `incident` (its
        repository path): from this run's listing when a bulk load made one, else an lstat."""
        listed = self.listed_beside(incident)
        if listed is None:
            return os.path.lexists(self.source.root / incident.parent / PIR_FILE)
        return listed

    def listed_beside(self, incident: Path) -> bool | None:
        """Whether this run's listing has a pir.md beside the incident.md at `incident` (its
        repository path, or its full one); None when there is no listing yet. On strings,
        as the listing names files: this runs for every incident."""
        listed = self.listed()
        if listed is None:
            return None
        folder = os.path.dirname(os.path.join(self.source.base, os.fspath(incident)))
        return os.path.join(folder, PIR_FILE) in listed

    def public(self, loaded: Loaded) -> Pir | None:
        """The incident's PIR if it may hold a public summary; the others are not parsed (a
        byte search is ~100x cheaper than the YAML parse, which dominates a site build)."""
        raw = self._bytes(loaded.path)
        if raw is None or b"public_summary" not in raw:
            return None
        return self.validated(parse(loaded.path.parent / PIR_FILE, raw))

    def create(self, loaded: Loaded, text: str, *, dry_run: bool = False) -> Path:
        """Write a new pir.md; refuses to overwrite one (a PIR holds people's analysis)."""
        path = self.path(loaded)
        exists = IncidentctlError(
            f"{self.source.rel(path)} already exists",
            hint="edit it, or `incidentctl pir check " + loaded.incident.id + "`",
        )
        self.add(path, text, exists=exists, dry_run=dry_run)
        return path
