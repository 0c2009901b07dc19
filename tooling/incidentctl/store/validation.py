"""What `validate` and `pir check` report: the documents read, the pure checks run on them.

The checks judge parsed documents; this module decides which files to read (all of them,
or those a pull request names), reads them once, and compares with a git base revision.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from incidentctl.checks import incidents as checks
from incidentctl.checks import maintenance
from incidentctl.checks import pir as pir_checks
from incidentctl.checks.incidents import Context, Finding
from incidentctl.checks.oncall import check_schedule
from incidentctl.core.documents import Document, Loaded, parse
from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.core.model import Incident, Pir
from incidentctl.core.timevalues import format_timestamp
from incidentctl.disk.regular import NOT_REGULAR, irregular
from incidentctl.runbooks.runbook import check_runbook
from incidentctl.store import git as vcs
from incidentctl.store.collection import validated
from incidentctl.store.incidents import INCIDENT_FILE
from incidentctl.store.pirs import PIR_FILE
from incidentctl.store.repo import Repo


class NoSuchPath(IncidentctlError):
    """A path given to `validate` that is neither a file nor a folder."""

    def __init__(self, given: str) -> None:
        super().__init__(f"{given}: no such file or folder")
        self.given = given


def check_pir_file(
    repo: Repo, path: Path, incidents_by_folder: dict[str, Loaded | None]
) -> tuple[list[Finding], tuple[Document, Pir] | None]:
    """All findings of one pir.md (schema errors included) and the PIR if it parsed.

    `incidents_by_folder` caches the incidents by folder name (None: unreadable)."""
    try:
        doc, parsed = repo.pirs.load(path)
    except DocumentErrors as exc:
        return [Finding.from_error(e) for e in exc.errors], None
    except DocumentError as exc:
        return [Finding.from_error(exc)], None
    folder = path.parent.name
    incident_file = path.parent / INCIDENT_FILE
    if folder not in incidents_by_folder:
        try:
            incidents_by_folder[folder] = repo.load(incident_file)
        except (OSError, DocumentError, DocumentErrors):
            incidents_by_folder[folder] = None  # its own errors are reported by validate
    loaded = incidents_by_folder[folder]
    findings = pir_checks.check_pir(
        doc,
        parsed,
        loaded.incident if loaded else None,
        repo.policy().review,
        folder_id=folder,
        incident_exists=incident_file.is_file(),
    )
    return findings, (doc, parsed)


def missing_pir(repo: Repo, loaded: Loaded) -> Finding | None:
    """A required PIR that does not exist although the incident is resolved."""
    incident = loaded.incident
    if incident.resolved_at is None or os.path.lexists(repo.pirs.path(loaded)):
        return None
    rule = repo.policy_for(incident).review.pir.get(incident.priority)
    if rule is None or rule.due is None or not rule.required:
        return None
    due = ""
    if not rule.due.business_days:
        due = f", due {format_timestamp(incident.resolved_at + rule.due.timedelta)}"
    return Finding(
        repo.rel(repo.pirs.path(loaded)),
        None,
        "pir-missing",
        f"{incident.priority} incident {incident.id} is resolved and has no PIR{due}",
        f"incidentctl pir new {incident.id}",
    )


def pir_findings(repo: Repo, incident_id: str | None) -> tuple[list[Finding], dict[str, str]]:
    """`pir check`: the findings of one incident's PIR (or of every PIR, and of the required
    PIRs not yet written), sorted, and each PIR's status by path."""
    findings: list[Finding] = []
    statuses: dict[str, str] = {}
    by_folder: dict[str, Loaded | None] = {}
    if incident_id:
        loaded = repo.find(incident_id)
        by_folder[loaded.path.parent.name] = loaded
        path = repo.pirs.path(loaded)
        if not os.path.lexists(path):
            findings.append(
                Finding(
                    repo.rel(path),
                    None,
                    "pir-missing",
                    f"{loaded.incident.id} has no PIR yet",
                    f"incidentctl pir new {loaded.incident.id}",
                )
            )
        paths = [path] if os.path.lexists(path) else []
    else:
        paths = repo.pirs.files()
        for item in repo.scan():
            if isinstance(item, DocumentErrors):
                continue
            by_folder[item.path.parent.name] = item
            missing = missing_pir(repo, item)
            if missing:
                findings.append(missing)
    for path in paths:
        found, parsed = check_pir_file(repo, path, by_folder)
        findings += found
        statuses[repo.rel(path)] = parsed[1].status.value if parsed else "unreadable"
    repo.save_cache()
    findings.sort(key=lambda f: (f.path, f.line or 0, f.rule))
    return findings, statuses


def _chosen_incidents(repo: Repo, paths: Sequence[str]) -> list[Path] | None:
    """Incident files named by `paths` (files or folders); None means all of them."""
    if not paths:
        return None
    chosen: list[Path] = []
    for given in paths:
        path = _given(given)
        if path.is_symlink():
            chosen.append(path)  # refused when read, by its own name
        elif path.is_dir():
            chosen.extend(p for p in repo.incident_files() if path in p.parents)
        elif path.name == PIR_FILE and os.path.lexists(path):
            continue  # reviews are chosen by _chosen_pirs
        elif os.path.lexists(path):
            chosen.append(path)  # a FIFO or device is refused when read, never opened
        else:
            raise NoSuchPath(given)
    return chosen


def _given(given: str) -> Path:
    """A path as given on the command line, absolute, its folders resolved but not its last
    part: a symlinked incident.md stays the repository's path, to be refused by name."""
    path = Path(os.path.abspath(given))
    return path if path == path.parent else path.parent.resolve() / path.name


def _chosen_pirs(repo: Repo, paths: Sequence[str]) -> list[Path]:
    """The pir.md files `paths` name: inside named folders, named directly, or beside a named
    incident.md."""
    if not paths:
        return repo.pirs.files()
    chosen: list[Path] = []
    for path in (_given(given) for given in paths):
        if path.is_dir() and not path.is_symlink():
            chosen.extend(p for p in repo.pirs.files() if path in p.parents)
        elif path.name == PIR_FILE:
            chosen.append(path)
        elif os.path.lexists(path.parent / PIR_FILE):
            chosen.append(path.parent / PIR_FILE)
    return sorted(set(chosen))


def _reviews(repo: Repo, pirs: list[Path], loaded: list[Loaded], base: str | None) -> list[Finding]:
    """Every PIR's schema, completeness (errors once in review) and blameless findings."""
    findings: list[Finding] = []
    by_folder: dict[str, Loaded | None] = {item.path.parent.name: item for item in loaded}
    current: dict[str, tuple[Document, Pir]] = {}
    for path in pirs:
        found, parsed = check_pir_file(repo, path, by_folder)
        findings += found
        if parsed is not None and base:  # kept only to compare with the base
            current[repo.rel(path)] = parsed
    if base:
        before: dict[str, Pir] = {}
        for rel, content in vcs.files_at(repo.root, base, "incidents", PIR_FILE).items():
            try:
                before[rel] = Pir.model_validate(parse(Path(rel), content).data)
            except (DocumentError, DocumentErrors, ValidationError):
                continue  # a broken base file is the base's problem, not this change's
        findings += pir_checks.check_against_base(before, current)
    return findings


def collect(repo: Repo, paths: Sequence[str], base: str | None) -> list[Finding]:
    """`validate`: every finding of the policy, the runbooks, the incidents `paths` (files or
    folders, as given) name and their PIRs, or of everything and the maintenances when none
    are given; and against `base`. NoSuchPath for a path that does not exist."""
    findings: list[Finding] = _irregular(repo)
    try:
        policy = repo.policy()
    except DocumentErrors as exc:
        return _once(findings + checks.findings_from(exc))
    except DocumentError as exc:  # a policy file that does not parse
        return _once([*findings, Finding.from_error(exc)])
    findings += check_schedule(policy, repo.policies.where())
    runbooks = set()
    for path in repo.runbooks.files():
        try:
            doc, book = repo.runbooks.load(path)
            findings += check_runbook(doc, book, known_services=policy.known_services())
        except DocumentErrors as exc:
            findings += checks.findings_from(exc)
        except DocumentError as exc:
            findings.append(Finding.from_error(exc))
        runbooks.add(path.stem)
    ctx = Context(
        policy=policy,
        runbooks=runbooks,
        snapshot_exists=repo.policies.has_snapshot,
        policy_for=repo.policy_for,
    )
    selected = _chosen_incidents(repo, paths)
    loaded: list[Loaded] = []
    for item in repo.scan(selected):
        if isinstance(item, DocumentErrors):
            findings += checks.findings_from(item)
            continue
        loaded.append(item)
        findings += checks.check_incident(item, ctx)
    if selected is not None:
        # duplicate IDs are judged against the whole repository; the other files are
        # only skimmed for their `id:` line
        shown = set(selected)
        others = [p for p in repo.incident_files() if p not in shown]
        findings += checks.check_repository(loaded, others=repo.incidents.quick_ids(others))
    else:
        findings += checks.check_repository(loaded)
    findings += [Finding.from_error(e) for e in repo.policies.broken.values()]
    if base:
        findings += _against_base(repo, base, loaded, partial=selected is not None)
    findings += _reviews(repo, _chosen_pirs(repo, paths), loaded, base)
    repo.save_cache()  # the reviews were parsed after the incidents
    if not paths:
        findings += maintenance.check_all(repo.maintenances.scan(), policy)
    return _once(findings)


CHECKED_FOLDERS = ("incidents", "runbooks", "maintenances", "policies", "templates")


def _irregular(repo: Repo) -> list[Finding]:
    """Every symlink, device, FIFO or socket where documents, policies or templates live:
    each a finding, none of them opened."""
    return [
        Finding.from_error(e)
        for f in CHECKED_FOLDERS
        for e in irregular(repo.root, f, repo.source.entries(repo.root / f))
    ]


def _once(findings: list[Finding]) -> list[Finding]:
    """A path refused both by the folder scan and by its reader is reported once."""
    seen: set[str] = set()
    out: list[Finding] = []
    for finding in findings:
        if finding.rule == NOT_REGULAR:
            if finding.path in seen:
                continue
            seen.add(finding.path)
        out.append(finding)
    return out


def _against_base(repo: Repo, base: str, loaded: list[Loaded], *, partial: bool) -> list[Finding]:
    raw = vcs.files_at(repo.root, base, "incidents", INCIDENT_FILE)
    base_incidents: dict[str, Incident] = {}
    base_ids: dict[str, str] = {}
    for rel, content in raw.items():
        try:
            incident = validated(Incident, parse(Path(rel), content))
        except (DocumentError, DocumentErrors):
            continue  # a broken base file is the base's problem, not this change's
        base_incidents[rel] = incident
        base_ids[incident.id] = rel
    current = {str(item.path): item for item in loaded}
    if partial:
        base_incidents = {p: i for p, i in base_incidents.items() if p in current}
    # a file that is there but did not load (a merge conflict, say) has its own findings:
    # it was not deleted, and its history is judged once it loads
    base_incidents = {
        p: i for p, i in base_incidents.items() if p in current or not (repo.root / p).exists()
    }
    return checks.check_against_base(current, base_incidents, base_ids)
