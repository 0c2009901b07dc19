"""`incidentctl validate`: the PR check."""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from incidentctl.checks import incidents as checks
from incidentctl.checks import maintenance
from incidentctl.checks import pir as reviewchecks
from incidentctl.checks.incidents import Context, Finding
from incidentctl.cli.common import echo_findings, repo_from, style
from incidentctl.cli.pir import check_one
from incidentctl.core.documents import Document, Loaded, parse
from incidentctl.core.errors import DocumentError, DocumentErrors
from incidentctl.core.model import Incident, Pir
from incidentctl.runbooks.runbook import check_runbook
from incidentctl.store import git as vcs
from incidentctl.store.collection import validated
from incidentctl.store.incidents import INCIDENT_FILE
from incidentctl.store.pirs import PIR_FILE
from incidentctl.store.repo import Repo


def _selected(repo: Repo, paths: tuple[str, ...]) -> list[Path] | None:
    """Incident files named by PATHS (files or folders); None means all of them."""
    if not paths:
        return None
    chosen: list[Path] = []
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_dir():
            chosen.extend(p for p in repo.incident_files() if path in p.parents)
        elif path.is_file() and path.name == PIR_FILE:
            continue  # reviews are chosen by _selected_pirs
        elif path.is_file():
            chosen.append(path)
        else:
            raise click.BadParameter(f"{raw}: no such file or folder", param_hint="PATHS")
    return chosen


def _selected_pirs(repo: Repo, paths: tuple[str, ...]) -> list[Path]:
    """The pir.md files PATHS name: inside named folders, named directly, or beside a named
    incident.md."""
    if not paths:
        return repo.pirs.files()
    chosen: list[Path] = []
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_dir():
            chosen.extend(p for p in repo.pirs.files() if path in p.resolve().parents)
        elif path.name == PIR_FILE:
            chosen.append(path)
        elif (path.parent / PIR_FILE).is_file():
            chosen.append(path.parent / PIR_FILE)
    return sorted(set(chosen))


def _reviews(repo: Repo, pirs: list[Path], loaded: list[Loaded], base: str | None) -> list[Finding]:
    """Every PIR's schema, completeness (errors once in review) and blameless findings."""
    findings: list[Finding] = []
    by_folder: dict[str, Loaded | None] = {item.path.parent.name: item for item in loaded}
    current: dict[str, tuple[Document, Pir]] = {}
    for path in pirs:
        found, parsed = check_one(repo, path, by_folder)
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
        findings += reviewchecks.check_against_base(before, current)
    return findings


def collect(repo: Repo, paths: tuple[str, ...], base: str | None) -> list[Finding]:
    findings: list[Finding] = []
    try:
        policy = repo.policy()
    except DocumentErrors as exc:
        return checks.findings_from(exc)
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
    selected = _selected(repo, paths)
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
        shown = {p.resolve() for p in selected}
        others = [p for p in repo.incident_files() if p.resolve() not in shown]
        findings += checks.check_repository(loaded, others=repo.incidents.quick_ids(others))
    else:
        findings += checks.check_repository(loaded)
    if base:
        findings += _against_base(repo, base, loaded, partial=selected is not None)
    findings += _reviews(repo, _selected_pirs(repo, paths), loaded, base)
    repo.save_cache()  # the reviews were parsed after the incidents
    if not paths:
        findings += maintenance.check_all(repo.maintenances.scan(), policy)
    return findings


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
    return checks.check_against_base(current, base_incidents, base_ids)


def _sort_key(f: Finding) -> tuple[str, int, str]:
    return (f.path, f.line or 0, f.rule)


@click.command(
    epilog="""\b
Examples:
  incidentctl validate                         the whole repository
  incidentctl validate incidents/2026/11       one month
  incidentctl validate --base origin/main      a PR: also append-only history, ID clashes
  incidentctl validate --format github         annotations for GitHub Actions
Exit code: 0 valid (warnings allowed), 1 errors found, 2 usage error.
"""
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--base", metavar="REF", help="Compare with this git revision (PR checks).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
)
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], base: str | None, fmt: str) -> None:
    """Check incidents, runbooks and policies against the schema and the process."""
    repo = repo_from(ctx)
    findings = sorted(collect(repo, paths, base), key=_sort_key)
    errors = [f for f in findings if f.severity == "error"]
    warnings = len(findings) - len(errors)
    summary = {"valid": not errors, "errors": len(errors), "warnings": warnings}
    echo_findings(findings, fmt, summary)
    if fmt == "text":
        count = len(repo.incident_files()) if not paths else None
        scope = f"{count} incident(s)" if count is not None else "selected files"
        line = f"{len(errors)} error(s), {warnings} warning(s) in {scope}"
        click.echo(
            style(line, fg="red" if errors else "green") if findings else f"ok: {scope} valid",
            err=bool(findings),
        )
    ctx.exit(1 if errors else 0)


COMMANDS = [validate]
