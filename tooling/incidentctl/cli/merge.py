"""`incidentctl merge-driver`: git's merge driver for incident files (see .gitattributes)."""

from __future__ import annotations

from pathlib import Path

import click

from incidentctl.store import merge

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command(
    "merge-driver",
    epilog=f"""\b
Examples:
  {merge.ENABLE_COMMAND}
      enable it in a clone, once; init's .gitattributes names the files it merges
  git merge origin/main
      then merges incident.md and pir.md files that both branches changed
Exit code: 0 merged, 1 conflict (conflict markers written, as git's own merge does).
""",
)
@click.argument("base", type=_FILE)
@click.argument("ours", type=_FILE)
@click.argument("theirs", type=_FILE)
@click.argument("path", required=False, default="")
@click.pass_context
def merge_driver(ctx: click.Context, base: Path, ours: Path, theirs: Path, path: str) -> None:
    """Merge two versions of an incident (or PIR) file into OURS, as git's merge driver.

    Timelines, escalations and a PIR's actions merge as the union of both sides, each entry
    once and in time order; a field only one side changed takes that side's value; what both
    sides changed differently is left between conflict markers for a person.
    """
    conflicts = merge.merge_files(base, ours, theirs, path or ours.name)
    if conflicts:
        click.echo(
            f"incidentctl: merge conflict in {path or ours}: {', '.join(conflicts)} changed "
            "differently on both sides; edit the marked lines, then `incidentctl validate`",
            err=True,
        )
    ctx.exit(1 if conflicts else 0)


COMMANDS = [merge_driver]
