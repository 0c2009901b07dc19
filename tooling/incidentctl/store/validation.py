"""What `validate` and `pir check` report: the documents read, the pure checks run on them.

The checks judge parsed documents; this module decides which files to read (all of them,
or those a pull request names), reads them once, and compares with a git base revision.
A file whose bytes, and everything else its own findings read, did not change since the
last run takes its findings from the results cache (store/cache.py) without being parsed;
the rules across files (duplicate IDs, the base revision) run over the cached facts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from incidentctl.checks import incidents as checks
from incidentctl.checks import maintenance
from incidentctl.checks import pir as pir_checks
from incidentctl.checks.incidents import Context, Finding, Identity
from incidentctl.checks.oncall import check_schedule
from incidentctl.core.documents import Document, Loaded, parse
from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.core.model import Incident, Pir
from incidentctl.core.timevalues import format_timestamp
from incidentctl.disk.regular import NOT_REGULAR, irregular
from incidentctl.runbooks.runbook import check_runbook
from incidentctl.store import git as vcs
from incidentctl.store.cache import combined, digest
from incidentctl.store.collection import validated
from incidentctl.store.files import bulk_load
from incidentctl.store.incidents import INCIDENT_FILE
from incidentctl.store.pirs import PIR_FILE
from incidentctl.store.repo import Repo


class NoSuchPath(IncidentctlError):
    """A path given to `validate` that is neither a file nor a folder."""

    def __init__(self, given: str) -> None:
        super().__init__(f"{given}: no such file or folder")
        self.given = given


def check_pir_file(
    repo: Repo,
    path: Path,
    incidents_by_folder: dict[str, Loaded | None],
    raw: bytes | None = None,
) -> tuple[list[Finding], tuple[Document, Pir] | None]:
    """All findings of one pir.md (schema errors included) and the PIR if it parsed.

    `incidents_by_folder` caches the incidents by folder name (None: unreadable); `raw`,
    the file's bytes if they were read already."""
    try:
        doc, parsed = repo.pirs.load(path) if raw is None else repo.pirs.from_bytes(path, raw)
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
    if incident.resolved_at is None or repo.pirs.beside(loaded.path):
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

    def review(path: Path, incidents: dict[str, Loaded | None]) -> None:
        found, parsed = check_pir_file(repo, path, incidents)
        findings.extend(found)
        statuses[repo.rel(path)] = parsed[1].status.value if parsed else "unreadable"

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
    else:  # each PIR checked as its incident is read: no model is kept (memory as validate)
        every = repo.pirs.files()
        pending = {str(p): p for p in every}
        for item in repo.scan():
            if isinstance(item, DocumentErrors):
                continue
            missing = missing_pir(repo, item)
            if missing:
                findings.append(missing)
            beside = str(repo.pirs.path(item))
            if beside in pending:
                review(pending.pop(beside), {item.path.parent.name: item})
        paths = list(pending.values())  # beside an incident that does not read
    for path in paths:
        review(path, by_folder)
    if not incident_id:  # in the order of the files, as listed
        ordered = (repo.rel(p) for p in every)
        statuses = {rel: statuses[rel] for rel in ordered if rel in statuses}
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


def context_key(repo: Repo, runbooks: set[str]) -> str:
    """What a file's own findings read besides the file: the policies (every file of
    policies/, `Policies.fingerprint`), the runbook names, the tool. Part of every
    results-cache key of validate."""
    return combined([repo.policies.fingerprint(), "runbooks", *sorted(runbooks)])


def _cached_findings(value: Any) -> list[Finding] | None:
    """Findings as the cache holds them, if they have exactly the shape written; anything
    else is a miss (a damaged or foreign entry is never trusted)."""
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if not isinstance(item, dict) or set(item) != _FINDING_KEYS:
            return None
        if not all(isinstance(item[k], str) for k in ("path", "rule", "message", "severity")):
            return None
        if not all(item[k] is None or isinstance(item[k], str) for k in ("hint", "field")):
            return None
        if not (item["line"] is None or type(item["line"]) is int):
            return None
        out.append(Finding(**item))
    return out


_FINDING_KEYS = {"path", "line", "rule", "message", "hint", "field", "severity"}


@dataclass
class _Incidents:
    """What validate knows of the incident files it read: their findings, and for each that
    loaded its ID (a model only for those parsed in this run)."""

    findings: list[Finding] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # rel -> ID, every file that loaded
    digests: dict[str, str] = field(default_factory=dict)  # rel -> content hash, every file
    # rel -> parsed in this run and kept: those with a PIR beside them (the rest is read
    # again if a rule across files needs it, which a valid repository never does)
    models: dict[str, Loaded] = field(default_factory=dict)

    def identities(self, repo: Repo) -> Iterator[Identity]:
        for rel, incident_id in self.ids.items():
            loaded = self.models.get(rel)
            if loaded is not None:
                yield Identity.of(loaded)
            else:
                yield Identity(incident_id, rel, _id_line(repo, rel))

    def model(self, repo: Repo, rel: str) -> Loaded:
        if rel not in self.models:
            self.models[rel] = repo.load(repo.root / rel)
        return self.models[rel]


def _id_line(repo: Repo, rel: str) -> Any:
    def line() -> int | None:
        return repo.load(repo.root / rel).doc.line_of(("id",))

    return line


def _incidents(repo: Repo, selected: list[Path] | None, ctx: Context, key: str) -> _Incidents:
    """Every chosen incident file's own findings: from the cache when its bytes and the
    context are as last time, else parsed, validated and checked (and remembered)."""
    seen = _Incidents()
    cache = repo.source.results
    with bulk_load():
        for path in selected if selected is not None else repo.incident_files():
            rel = repo.rel(path)
            try:
                content, raw = repo.source.digest(path, rel)
            except DocumentError as exc:
                seen.findings.append(Finding.from_error(exc))
                continue
            seen.digests[rel] = content
            name, entry_key = f"validate:{rel}", f"{content}:{key}"
            hit = cache.get(name, entry_key)
            if isinstance(hit, dict):
                found = _cached_findings(hit.get("findings"))
                incident_id = hit.get("id")
                if found is not None and (incident_id is None or isinstance(incident_id, str)):
                    seen.findings += found
                    if incident_id is not None:
                        seen.ids[rel] = incident_id
                    continue
            try:
                doc, incident = repo.incidents.from_bytes(path, raw or repo.source.raw(path))
            except (DocumentErrors, DocumentError) as exc:
                errors = exc if isinstance(exc, DocumentErrors) else DocumentErrors([exc])
                found = checks.findings_from(errors)
                cache.put(name, entry_key, {"id": None, "findings": [asdict(f) for f in found]})
                seen.findings += found
                continue
            doc.data = {}  # the model holds it now; keep bulk loads lean
            loaded = Loaded(doc, incident)
            found = checks.check_incident(loaded, ctx)
            cache.put(name, entry_key, {"id": incident.id, "findings": [asdict(f) for f in found]})
            seen.findings += found
            seen.ids[rel] = incident.id
            if repo.pirs.beside(doc.path):  # its review's checks read it
                seen.models[rel] = loaded
    return seen


def _reviews(
    repo: Repo, pirs: list[Path], seen: _Incidents, base: str | None, key: str
) -> list[Finding]:
    """Every PIR's schema, completeness (errors once in review) and blameless findings;
    from the cache when the PIR, the incident beside it and the context are unchanged."""
    findings: list[Finding] = []
    by_folder: dict[str, Loaded | None] = {
        Path(rel).parent.name: item for rel, item in seen.models.items()
    }
    cache = repo.source.results
    current: dict[str, tuple[Document, Pir]] = {}
    digests: dict[str, str] = {}
    for path in pirs:
        rel = repo.rel(path)
        raw: bytes | None = None
        try:
            mine, raw = repo.source.digest(path, rel)
            digests[rel] = mine
        except (OSError, DocumentError):
            mine = "unreadable"
        beside = path.parent / INCIDENT_FILE
        incident = seen.digests.get(repo.rel(beside))
        there = incident is not None or beside.is_file()  # a hashed incident.md is a file
        incident = incident or _digest_of(repo, beside)
        name, entry_key = f"validate:{rel}", f"{mine}:{incident}:{there}:{key}"
        found = _cached_findings(cache.get(name, entry_key))
        if found is None:
            folder = path.parent.name
            if folder not in by_folder and repo.rel(beside) in seen.ids:
                by_folder[folder] = seen.model(repo, repo.rel(beside))
            found, _ = check_pir_file(repo, path, by_folder, raw)
            cache.put(name, entry_key, [asdict(f) for f in found])
        findings += found
    if base:
        before: dict[str, Pir] = {}
        same: set[str] = set()
        for rel, content in vcs.files_at(repo.root, base, "incidents", PIR_FILE).items():
            if digests.get(rel) == digest(content):
                same.add(rel)  # the same bytes as the base: nothing written by hand here
                continue
            try:
                before[rel] = Pir.model_validate(parse(Path(rel), content).data)
            except (DocumentError, DocumentErrors, ValidationError):
                continue  # a broken base file is the base's problem, not this change's
        for path in pirs:
            rel = repo.rel(path)
            if rel in digests and rel not in same:
                try:
                    current[rel] = repo.pirs.load(path)
                except (DocumentError, DocumentErrors):
                    continue  # its own findings say why
        findings += pir_checks.check_against_base(before, current)
    return findings


def _digest_of(repo: Repo, path: Path) -> str:
    try:
        return repo.source.digest(path)[0]
    except (OSError, DocumentError):
        return "none"


def _paging(repo: Repo) -> tuple[list[Finding], list[tuple[str, str]]]:
    """The findings of notifications.yaml, so that a broken sink or route fails the pull
    request instead of the first delivery; and (person sink, channel) that some route pages
    people through (none when the file does not read)."""
    try:
        notifications = repo.notifications()
    except DocumentErrors as exc:
        return checks.findings_from(exc), []
    except DocumentError as exc:
        return [Finding.from_error(exc)], []
    used = {name for route in notifications.routes for name in route.people}
    return [], [(s.name, s.channel) for s in notifications.sinks if s.name in used and s.channel]


def collect(repo: Repo, paths: Sequence[str], base: str | None) -> list[Finding]:
    """`validate`: every finding of the policy, the runbooks, the incidents `paths` (files or
    folders, as given) name and their PIRs, or of everything and the maintenances when none
    are given; and against `base`. NoSuchPath for a path that does not exist."""
    with repo.source.batch():
        return _collect(repo, paths, base)


def _collect(repo: Repo, paths: Sequence[str], base: str | None) -> list[Finding]:
    findings: list[Finding] = _irregular(repo)
    try:
        policy = repo.policy()
    except DocumentErrors as exc:
        return _once(findings + checks.findings_from(exc))
    except DocumentError as exc:  # a policy file that does not parse
        return _once([*findings, Finding.from_error(exc)])
    broken_sinks, paging = _paging(repo)
    findings += broken_sinks + check_schedule(policy, repo.policies.where(), paging)
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
    key = context_key(repo, runbooks) if repo.source.results.enabled else ""
    selected = _chosen_incidents(repo, paths)
    seen = _incidents(repo, selected, ctx, key)
    findings += seen.findings
    if selected is not None:
        # duplicate IDs are judged against the whole repository; the other files are
        # only skimmed for their `id:` line
        shown = set(selected)
        others = [p for p in repo.incident_files() if p not in shown]
        findings += checks.check_repository(
            seen.identities(repo), others=repo.incidents.quick_ids(others)
        )
    else:
        findings += checks.check_repository(seen.identities(repo))
    findings += [Finding.from_error(e) for e in repo.policies.broken.values()]
    if base:
        findings += _against_base(repo, base, seen, partial=selected is not None)
    findings += _reviews(repo, _chosen_pirs(repo, paths), seen, base, key)
    repo.save_cache(prune=not paths)
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


def _against_base(repo: Repo, base: str, seen: _Incidents, *, partial: bool) -> list[Finding]:
    """Append-only history and ID collisions against `base`. A file with the same bytes as
    at the base changed nothing: it is neither parsed here nor compared, only its ID known."""
    raw = vcs.files_at(repo.root, base, "incidents", INCIDENT_FILE)
    base_incidents: dict[str, Incident] = {}
    base_ids: dict[str, str] = {}
    unchanged: set[str] = set()
    for rel, content in raw.items():
        if rel in seen.ids and seen.digests.get(rel) == digest(content):
            unchanged.add(rel)
            base_ids[seen.ids[rel]] = rel
            continue
        try:
            incident = validated(Incident, parse(Path(rel), content))
        except (DocumentError, DocumentErrors):
            continue  # a broken base file is the base's problem, not this change's
        base_incidents[rel] = incident
        base_ids[incident.id] = rel
    if partial:
        base_incidents = {p: i for p, i in base_incidents.items() if p in seen.ids}
    # a file that is there but did not load (a merge conflict, say) has its own findings:
    # it was not deleted, and its history is judged once it loads
    base_incidents = {
        p: i for p, i in base_incidents.items() if p in seen.ids or not (repo.root / p).exists()
    }
    current = {rel: seen.model(repo, rel) for rel in seen.ids if rel not in unchanged}
    return checks.check_against_base(
        current, base_incidents, base_ids, current_ids=set(seen.ids.values())
    )
