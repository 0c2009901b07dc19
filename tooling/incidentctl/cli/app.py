"""The command line: registers commands and turns errors into clean exits.

Exit codes: 0 ok, 1 findings (invalid, overdue, incomplete), 2 usage or input error,
3 a bug in incidentctl (with the traceback, so it can be reported).
"""

from __future__ import annotations

import gc
import sys
import traceback

import click

from incidentctl import __version__
from incidentctl.cli import (
    deadlines,
    github,
    init,
    inspect,
    intake,
    lifecycle,
    maintenance,
    merge,
    metrics,
    notify,
    oncall,
    pir,
    runbook,
    site,
    validate,
)
from incidentctl.cli.common import REPO_HELP, forgiving
from incidentctl.core.errors import IncidentctlError

EPILOG = """\b
Examples:
  incidentctl declare --title "Checkout returns 502" --impact high --urgency high
  incidentctl ack INC-20261127-7K3Q
  incidentctl ack 7k3q --at "10m ago"     an ID in any case, or a unique suffix
  incidentctl list --status open
  incidentctl validate --base origin/main
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="incidentctl")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=str),
    envvar="INCIDENTCTL_REPO",
    help=REPO_HELP + " Also after the subcommand: `incidentctl list --repo DIR`.",
)
@click.pass_context
def main(ctx: click.Context, repo: str | None) -> None:
    """Incident response as code: incidents, reviews and actions as files in git."""
    ctx.obj = {"repo": repo}


_MODULES = (
    lifecycle,
    inspect,
    validate,
    init,
    deadlines,
    oncall,
    pir,
    runbook,
    notify,
    maintenance,
    merge,
    site,
    github,
    metrics,
    intake,
)
for module in _MODULES:
    for command in module.COMMANDS:
        main.add_command(command)
# init makes the repository it is given as DIRECTORY; every other command reads one
forgiving(main, without_repo=("init",))


def run(argv: list[str]) -> int:
    try:
        return _run(argv)
    finally:
        gc.unfreeze()  # what a bulk load froze (store.files.bulk_load) is garbage now


def _run(argv: list[str]) -> int:
    try:
        code = main.main(args=argv, prog_name="incidentctl", standalone_mode=False)
    except IncidentctlError as exc:
        click.echo(f"error: {exc.render()}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.Abort:
        click.echo("aborted", err=True)
        return 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BrokenPipeError:
        return 0
    except Exception:
        click.echo(
            "incidentctl hit a bug (this is not your mistake); please report it with the "
            "traceback below:",
            err=True,
        )
        traceback.print_exc(file=sys.stderr)
        return 3
    return code if isinstance(code, int) else 0
