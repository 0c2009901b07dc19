"""An incident repository on disk: one collection per kind of document, and the policy.

Layout: incidents/<YYYY>/<MM>/<ID>/incident.md with its pir.md beside it, runbooks/<name>.md,
maintenances/<ID>.md, policies/*.yaml and policies/snapshots/<hash>.json. The store is the only
package that reads and writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from incidentctl.core.documents import Loaded
from incidentctl.core.errors import DocumentErrors, IncidentctlError
from incidentctl.core.model import Incident
from incidentctl.core.policy import Policy
from incidentctl.store.collection import Edited, Progress
from incidentctl.store.files import Source
from incidentctl.store.incidents import Incidents
from incidentctl.store.maintenances import Maintenances
from incidentctl.store.pirs import Pirs
from incidentctl.store.policies import Policies
from incidentctl.store.runbooks import Runbooks


def locate_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder (upwards) holding incidents/ or policies/."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "incidents").is_dir() or (folder / "policies").is_dir():
            return folder
    raise IncidentctlError(
        f"{here} is not inside an incident repository (no incidents/ or policies/ folder)",
        hint="run `incidentctl init` to create one, or pass --repo DIR",
    )


class Repo:
    """The documents of one repository. Incidents are what most commands want, so their
    operations are here too; the other kinds are `repo.pirs`, `repo.runbooks`, ..."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.source = Source(root)  # one parse cache for every kind
        self.incidents = Incidents(self.source)
        self.pirs = Pirs(self.source)
        self.runbooks = Runbooks(self.source)
        self.maintenances = Maintenances(self.source)
        self.policies = Policies(self.source)
        # told (done, total) now and then while incidents load; the CLI sets it on a terminal
        self.progress: Progress | None = None

    def rel(self, path: Path) -> str:
        return self.source.rel(path)

    def save_cache(self, *, prune: bool = False) -> None:
        """Keep what this run parsed for the next one (call after bulk loads)."""
        self.source.save_cache(prune=prune)

    def policy(self) -> Policy:
        """The policy in force now: repo files merged over the shipped defaults."""
        return self.policies.current()

    def policy_for(self, incident: Incident) -> Policy:
        """The policy in force when the incident was declared, else the current one."""
        return self.policies.for_incident(incident)

    def incident_files(self) -> list[Path]:
        return self.incidents.files()

    def load(self, path: Path) -> Loaded:
        """Parse and validate one incident file; DocumentErrors lists every problem."""
        return self.incidents.loaded(path)

    def scan(self, paths: list[Path] | None = None) -> Iterator[Loaded | DocumentErrors]:
        """Every incident (or those at `paths`), fast; unreadable ones as their errors."""
        for item in self.incidents.scan(paths, progress=self.progress):
            yield item if isinstance(item, DocumentErrors) else Loaded(*item)

    def find(self, incident_id: str) -> Loaded:
        return self.incidents.find(incident_id)

    def create(self, incident: Incident, body: str, *, dry_run: bool = False) -> tuple[Path, str]:
        """Write a new incident file; refuses to overwrite an existing one."""
        return self.incidents.create(incident, body, dry_run=dry_run)

    def save(self, loaded: Loaded, updated: Incident, *, dry_run: bool = False) -> str:
        """Apply the difference between two versions as minimal edits, verify, write."""
        return self.incidents.save(loaded.doc, loaded.incident, updated, dry_run=dry_run)

    def edit(
        self, incident_id: str, change: Callable[[Incident], Incident], *, dry_run: bool = False
    ) -> Edited[Incident]:
        """Apply `change` to incident ID as it is now, under its lock, and save the result as
        a minimal edit: what every command that changes an incident does."""
        return self.incidents.edit(self.incidents.locate(incident_id), change, dry_run=dry_run)
