"""An incident repository on disk: one collection per kind of document, and the policy.

Layout: incidents/<YYYY>/<MM>/<ID>/incident.md with its pir.md beside it, runbooks/<name>.md,
maintenances/<ID>.md, policies/*.yaml and policies/snapshots/<hash>.json. The store is the only
package that reads and writes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from incidentctl.core.documents import Loaded
from incidentctl.core.errors import DocumentErrors, IncidentctlError
from incidentctl.core.model import Incident, valid_id
from incidentctl.core.notifications import Notifications
from incidentctl.core.policy import Policy
from incidentctl.store.collection import Edited, Glance, Progress, Wanted
from incidentctl.store.files import Source
from incidentctl.store.ids import plain, resolve
from incidentctl.store.incidents import INCIDENT_FILE, Incidents
from incidentctl.store.maintenances import Maintenances
from incidentctl.store.pirs import Pirs
from incidentctl.store.policies import Policies
from incidentctl.store.runbooks import Runbooks


def _subfolders(path: Path, *, links: bool = False) -> list[Path]:
    """The folders in `path`; a symlinked one only with `links` (locate names its refusal)."""
    try:
        with os.scandir(path) as listing:
            return [
                Path(e.path)
                for e in listing
                if e.is_dir(follow_symlinks=False) or (links and e.is_symlink())
            ]
    except (FileNotFoundError, NotADirectoryError):
        return []


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
        self.source = Source(root)  # one listing and one results cache for every kind
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

    def notifications(self) -> Notifications:
        """policies/notifications.yaml as it is now: the sinks and routes of reminders."""
        return self.policies.notifications()

    def incident_files(self) -> list[Path]:
        return self.incidents.files()

    def load(self, path: Path) -> Loaded:
        """Parse and validate one incident file; DocumentErrors lists every problem."""
        return self.incidents.loaded(path)

    def scan(
        self,
        paths: list[Path] | None = None,
        *,
        wanted: Wanted | None = None,
        glance: Glance | None = None,
    ) -> Iterator[Loaded | DocumentErrors]:
        """Every incident (or those at `paths`), fast; unreadable ones as their errors.
        `wanted`, `glance`: see `Collection.scan`."""
        scan = self.incidents.scan(paths, progress=self.progress, wanted=wanted, glance=glance)
        for item in scan:
            yield item if isinstance(item, DocumentErrors) else Loaded(*item)

    def incident_id(self, given: str) -> str:
        """The ID of the incident `given` means: the ID in any case, or a unique suffix
        (9TRX) or prefix of one (store.ids); what every command taking an ID goes through."""
        if not plain(given) or (valid_id(given) and os.path.lexists(self._folder_of(given))):
            return given  # a path-like ID is refused by locate; an exact one needs no scan
        folders = self._id_folders()

        def among(ids: set[str]) -> str:
            return resolve(
                given,
                ids,
                kind="incident",
                where=f"{self.rel(self.incidents.dir)}/",
                listing="`incidentctl list` shows the incidents this repository holds",
            )

        try:
            return among(folders)
        except IncidentctlError:
            every = self.incidents.known_ids()  # the full walk: misplaced files too
            if every <= folders:
                raise
            return among(every | folders)

    def _id_folders(self) -> set[str]:
        """The ID folders of incidents/<YYYY>/<MM>/: three levels listed, no file read (a
        tenth of the full walk at 10,000 incidents)."""
        return {path.parent.name for path in self.filed_incidents()}

    def filed_incidents(self) -> list[Path]:
        """incidents/<YYYY>/<MM>/<ID>/incident.md of every ID folder, listed as _id_folders
        lists them (a misplaced file is validate's to report, not found here)."""
        return [
            folder / INCIDENT_FILE
            for year in _subfolders(self.incidents.dir)
            for month in _subfolders(year)
            for folder in _subfolders(month, links=True)
        ]

    def _folder_of(self, incident_id: str) -> Path:
        """Where an ID's file would be if the ID spelled a date (INC-YYYYMMDD-...)."""
        day = incident_id.split("-")[1] if incident_id.count("-") >= 2 else ""
        if len(day) != 8 or not day.isdigit():
            return self.incidents.dir / "-"  # never there: resolve scans
        return self.incidents.dir / day[:4] / day[4:6] / incident_id / INCIDENT_FILE

    def find(self, incident_id: str) -> Loaded:
        return self.incidents.find(self.incident_id(incident_id))

    def maintenance_id(self, given: str) -> str:
        """The maintenance `given` means, as incident_id: any case, a unique suffix or prefix."""
        if not plain(given):
            return given  # the store refuses it by name
        return resolve(
            given,
            (p.stem for p in self.maintenances.files()),
            kind="maintenance",
            where="maintenances/",
            listing="`incidentctl maintenance list` shows them",
        )

    def runbook_name(self, given: str) -> str:
        """The runbook `given` means: its name in any case, or a unique prefix or suffix."""
        if not plain(given):
            return given
        return resolve(
            given,
            self.runbooks.names(),
            kind="runbook",
            where=f"{self.rel(self.runbooks.dir)}/",
            listing="`incidentctl runbook list` shows the runbooks; "
            "`incidentctl runbook new` creates one",
            quote=True,
        )

    def create(
        self, incident: Incident, body: str, *, dry_run: bool = False, fresh: bool = False
    ) -> tuple[Path, str]:
        """Write a new incident file; refuses to overwrite an existing one."""
        return self.incidents.create(incident, body, dry_run=dry_run, fresh=fresh)

    def save(self, loaded: Loaded, updated: Incident, *, dry_run: bool = False) -> str:
        """Apply the difference between two versions as minimal edits, verify, write."""
        return self.incidents.save(loaded.doc, loaded.incident, updated, dry_run=dry_run)

    def edit(
        self, incident_id: str, change: Callable[[Incident], Incident], *, dry_run: bool = False
    ) -> Edited[Incident]:
        """Apply `change` to incident ID as it is now, under its lock, and save the result as
        a minimal edit: what every command that changes an incident does."""
        path = self.incidents.locate(self.incident_id(incident_id))
        return self.incidents.edit(path, change, dry_run=dry_run)
