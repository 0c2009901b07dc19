"""`incidentctl init`: a new incident repository that validates as it is."""

from __future__ import annotations

from pathlib import Path

import click

from incidentctl.store import scaffold
from incidentctl.store.files import write_atomic
from incidentctl.store.merge import ENABLE_COMMAND


@click.command(
    epilog="""\b
Examples:
  incidentctl init                 in the current folder
  incidentctl init ../payments-incidents
Existing files are never overwritten; they are listed as kept.
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
    if not dry_run:
        click.echo(f"\nNext: cd {directory} && incidentctl validate", err=True)
        click.echo(
            "Merge incident files without conflicts (once per clone; .gitattributes names "
            f"them):\n  {ENABLE_COMMAND}",
            err=True,
        )


COMMANDS = [init]
