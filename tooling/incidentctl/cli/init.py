"""`incidentctl init`: a new incident repository that validates as it is."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from incidentctl.core.errors import IncidentctlError
from incidentctl.store import git, scaffold
from incidentctl.store.files import write_atomic
from incidentctl.store.merge import ENABLE_COMMAND


@click.command(
    epilog="""\b
Examples:
  incidentctl init                 in the current folder
  incidentctl init ../payments-incidents
Existing files are never overwritten; they are listed as kept. Outside a git repository,
the folder is made one (git init, branch main).
"""
)
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="List what would be created; write nothing.")
def init(directory: Path, dry_run: bool) -> None:
    """Scaffold an incident repository: policies, runbooks, CODEOWNERS, README, workflows."""
    created, kept = [], []
    for rel, content in scaffold.files().items():
        target = directory / rel
        if target.exists():
            kept.append(rel)
            continue
        created.append(rel)
        if not dry_run:
            write_atomic(target, content)
    verb = "would create" if dry_run else "created"
    for rel in created:
        click.echo(f"{verb}  {rel}")
    for rel in kept:
        click.echo(f"kept     {rel} (already exists)")
    if git.work_tree(directory) is None:
        _git_init(directory, dry_run)
    if not dry_run:
        click.echo("\n" + _next_steps(directory), err=True)


def _git_init(directory: Path, dry_run: bool) -> None:
    """Make the folder a git repository: validate --base, the merge driver and the workflows
    all need one."""
    if dry_run:
        click.echo("would run  git init (branch main)")
        return
    try:
        git.init_repository(directory)
    except IncidentctlError as exc:
        click.echo(f"not a git repository, and git init failed: {exc.message}", err=True)
        return
    click.echo("ran      git init (branch main)")


def _next_steps(directory: Path) -> str:
    """What to run next, in order; `cd` only when the repository is not the current folder."""
    steps = []
    if directory.resolve() != Path.cwd().resolve():
        steps.append(f"cd {shlex.quote(str(directory))}")
    steps.append(f"{ENABLE_COMMAND}    # merge incident files (once per clone)")
    steps.append("incidentctl validate")
    return "Next:\n" + "".join(f"  {step}\n" for step in steps).rstrip("\n")


COMMANDS = [init]
