"""`incidentctl validate`: the PR check."""

from __future__ import annotations

import click

from incidentctl.checks.incidents import finding_order
from incidentctl.cli.common import echo_findings, repo_from, style
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
