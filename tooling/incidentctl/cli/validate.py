"""`incidentctl validate`: the PR check."""

from __future__ import annotations

from pathlib import PurePath

import click

from incidentctl.checks.incidents import Finding, finding_order
from incidentctl.cli.common import echo_findings, repo_from, style
from incidentctl.store.incidents import INCIDENT_FILE
from incidentctl.store.pirs import PIR_FILE
from incidentctl.store.repo import Repo
from incidentctl.store.validation import NoSuchPath, collect


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
    try:
        findings = sorted(collect(repo, paths, base), key=finding_order)
    except NoSuchPath as exc:
        raise click.BadParameter(exc.message, param_hint="PATHS") from None
    errors = [f for f in findings if f.severity == "error"]
    warnings = len(findings) - len(errors)
    summary = {"valid": not errors, "errors": len(errors), "warnings": warnings}
    echo_findings(findings, fmt, summary)
    if fmt == "text" and findings:
        line = _per_kind(findings)
        click.echo(style(line, fg="red" if errors else "green"), err=True)
    elif fmt == "text":
        click.echo(f"ok: {_checked(repo) if not paths else 'selected files'} valid")
    ctx.exit(1 if errors else 0)


_KINDS = (  # (folder, file name or None, what it is called): the first that matches
    ("incidents", PIR_FILE, "PIR(s)"),
    ("incidents", INCIDENT_FILE, "incident(s)"),
    ("runbooks", None, "runbook(s)"),
    ("maintenances", None, "maintenance window(s)"),
    ("policies", None, "policy file(s)"),
    ("templates", None, "template(s)"),
)


def _kind(path: str) -> str:
    parts = PurePath(path).parts
    for folder, name, kind in _KINDS:
        if folder in parts and (name is None or parts[-1] == name):
            return kind
    return "other file(s)"


def _per_kind(findings: list[Finding]) -> str:
    """`6 error(s), 0 warning(s) in 2 runbook(s); 1 error(s), ... in 1 incident(s)`: the
    files with findings counted by what they are, so the summary points at the right place."""
    by_kind: dict[str, list[Finding]] = {}
    for f in findings:
        by_kind.setdefault(_kind(f.path), []).append(f)
    order = [kind for _, _, kind in _KINDS] + ["other file(s)"]
    parts = []
    for kind, found in sorted(by_kind.items(), key=lambda item: order.index(item[0])):
        errors = sum(1 for f in found if f.severity == "error")
        files = len({f.path for f in found})
        parts.append(f"{errors} error(s), {len(found) - errors} warning(s) in {files} {kind}")
    return "; ".join(parts)


def _checked(repo: Repo) -> str:
    """What a whole-repository validate read: `7 incident(s), 3 PIR(s), 2 runbook(s)`."""
    counts = [
        (len(repo.incident_files()), "incident(s)"),
        (len(repo.pirs.files()), "PIR(s)"),
        (len(repo.runbooks.files()), "runbook(s)"),
        (len(repo.maintenances.files()), "maintenance window(s)"),
    ]
    shown = [f"{n} {kind}" for n, kind in counts if n] or ["0 incident(s)"]
    return ", ".join(shown)


COMMANDS = [validate]
