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
        return self.source.root / loaded.path.with_name(PIR_FILE)

    def of(self, loaded: Loaded) -> tuple[Document, Pir] | None:
        """The incident's PIR, or None when it has none yet."""
        path = self.path(loaded)
        return self.load(path) if os.path.lexists(path) else None

    def front(self, loaded: Loaded, raw: bytes | None = None) -> dict[str, Any] | None:
        """The front-matter of the incident's PIR as data, unvalidated (the timers read it
        loosely); None when there is none. `raw`: its bytes, when the caller read them
        already. Raises DocumentError when it cannot be parsed."""
        if raw is not None:  # shown as the incident's path is
            return parse(loaded.path.parent / PIR_FILE, raw).data
        path = self.path(loaded)
        return self.source.read(path).data if os.path.lexists(path) else None

    def public(self, loaded: Loaded) -> Pir | None:
        """The incident's PIR if it may hold a public summary; the others are not parsed (a
        byte search is ~100x cheaper than the YAML parse, which dominates a site build). A
        missing pir.md is known from the failed read (no lexists before it)."""
        path = self.path(loaded)
        try:
            raw = self.source.raw(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if b"public_summary" not in raw:
            return None
        return self.validated(parse(Path(self.source.rel(path)), raw))

    def create(self, loaded: Loaded, text: str, *, dry_run: bool = False) -> Path:
        """Write a new pir.md; refuses to overwrite one (a PIR holds people's analysis)."""
        path = self.path(loaded)
        exists = IncidentctlError(
            f"{self.source.rel(path)} already exists",
            hint="edit it, or `incidentctl pir check " + loaded.incident.id + "`",
        )
        self.add(path, text, exists=exists, dry_run=dry_run)
        return path
