"""incidents/<YYYY>/<MM>/<ID>/incident.md: partitioned by detection month, so no folder holds
more than ~1,000 entries at 10,000 incidents."""

from __future__ import annotations

import os
import re
import secrets
from datetime import datetime
from pathlib import Path

from incidentctl.core.documents import Loaded, dump_block
from incidentctl.core.errors import DocumentError, IncidentctlError
from incidentctl.core.model import ID_RULE, BusinessImpact, Incident, Roles, valid_id
from incidentctl.store.collection import Collection

INCIDENT_FILE = "incident.md"
_ID_LINE = re.compile(r"""^id:[ \t]*["']?([^\s"'#]+)""", re.MULTILINE)
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_id(at: datetime, taken: set[str] | None = None) -> str:
    """INC-YYYYMMDD-XXXX: 32^4 suffixes a day make a clash between branches improbable."""
    taken = taken or set()
    while True:
        suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(4))
        candidate = f"INC-{at:%Y%m%d}-{suffix}"
        if candidate not in taken:
            return candidate


def new_front(incident: Incident) -> str:
    """Front-matter for a new incident: every field present (null until known), so the
    file doubles as a checklist and later edits replace values in place."""
    data = incident.model_dump(mode="json")
    data["timeline"] = [
        e.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        for e in incident.timeline
    ]
    data["escalations"] = [
        e.model_dump(mode="json", exclude_none=True) for e in incident.escalations
    ]
    if not incident.alerts:  # only an incident declared from alerts lists them
        del data["alerts"]
    else:
        data["alerts"] = [g.model_dump(mode="json", exclude_none=True) for g in incident.alerts]
    if incident.priority_override is None:
        del data["priority_override"]
    else:
        data["priority_override"] = incident.priority_override.model_dump(
            mode="json", exclude_none=True
        )
    for name, model in (("roles", Roles), ("business_impact", BusinessImpact)):
        if data.get(name) is None:
            data[name] = dict.fromkeys(model.model_fields)
    return dump_block(data, 0)


def _folders(path: Path) -> list[Path]:
    """The real subfolders of `path` in name order (a symlinked one is not entered)."""
    try:
        with os.scandir(path) as listing:
            return sorted(Path(e.path) for e in listing if e.is_dir(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError):
        return []


class Incidents(Collection[Incident]):
    model = Incident
    folder = "incidents"
    glob = f"**/{INCIDENT_FILE}"
    omit_defaults = True  # edits write only what changed from the defaults

    def path(self, incident_id: str, detected_at: datetime) -> Path:
        if not valid_id(incident_id):
            raise IncidentctlError(
                f"{incident_id!r} is not a valid incident ID", hint=f"an ID is {ID_RULE}"
            )
        return self.dir / f"{detected_at:%Y}/{detected_at:%m}" / incident_id / INCIDENT_FILE

    def loaded(self, path: Path) -> Loaded:
        """One incident file, read and validated."""
        doc, incident = self.load(path)
        return Loaded(doc=doc, incident=incident)

    def find(self, incident_id: str) -> Loaded:
        return self.loaded(self.locate(incident_id))

    def locate(self, incident_id: str) -> Path:
        """The file of incident ID, not read (an edit reads it under its lock)."""
        if not valid_id(incident_id):
            raise IncidentctlError(
                f"{incident_id!r} is not a valid incident ID",
                hint=f"an ID is {ID_RULE}; `incidentctl list` shows them",
            )
        matches = [
            month / incident_id / INCIDENT_FILE
            for year in _folders(self.dir)
            for month in _folders(year)
            if os.path.lexists(month / incident_id / INCIDENT_FILE)
        ]  # a symlinked ID folder is found too: reading it names the refusal
        if not matches:
            matches = [p for p in self.files() if incident_id in (p.parent.name, p.name)]
        if not matches:
            raise IncidentctlError(
                f"no incident {incident_id} in {self.source.rel(self.dir)}/",
                hint="`incidentctl list` shows the incidents this repository holds",
            )
        if len(matches) > 1:
            where = ", ".join(self.source.rel(p) for p in matches)
            raise IncidentctlError(f"incident ID {incident_id} is used twice: {where}")
        return matches[0]

    def quick_ids(self, paths: list[Path]) -> dict[str, str]:
        """ID -> path for files not worth parsing in full: the top-level `id:` line."""
        out: dict[str, str] = {}
        for path in paths:
            try:
                head = self.source.raw(path)[:4096].decode("utf-8", "replace")
            except (OSError, DocumentError):
                continue  # validate reports an unreadable file on its own
            match = _ID_LINE.search(head)
            out[match.group(1) if match else path.parent.name] = self.source.rel(path)
        return out

    def known_ids(self) -> set[str]:
        return {p.parent.name if p.name == INCIDENT_FILE else p.name for p in self.files()}

    def create(
        self,
        incident: Incident,
        body: str,
        *,
        dry_run: bool = False,
        fresh: bool = False,
    ) -> tuple[Path, str]:
        """Write a new incident file; refuses an ID that exists, in any month's folder. The
        ID is locked while it is checked and the file created, so of two runs declaring one
        ID at once exactly one succeeds. A `fresh` ID (new_id's, chosen under the caller's
        lock among the filed ones) is checked in its own folder only: the full walk for a
        misplaced file of the same random ID costs seconds at 10,000 incidents."""
        path = self.path(incident.id, incident.detected_at)
        exists = IncidentctlError(
            f"incident {incident.id} already exists",
            hint="choose another --id, or omit --id to get a fresh one",
        )
        text = "---\n" + new_front(incident) + "---\n" + body
        with self.locked(self.dir / incident.id, dry_run=dry_run):
            if os.path.lexists(path) or (not fresh and incident.id in self.known_ids()):
                raise exists
            self.add(path, text, exists=exists, dry_run=dry_run)
        return path, text
