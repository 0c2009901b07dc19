"""The command line: registers commands and turns errors into clean exits.

Exit codes: 0 ok, 1 findings (invalid, overdue, incomplete), 2 usage or input error,
3 a bug in incidentctl (with the traceback, so it can be reported).
"""

from __future__ import annotations

import gc
import importlib
import sys
import traceback

import click

from incidentctl import __version__
from incidentctl.cli.common import REPO_HELP, forgiving
from incidentctl.core.errors import IncidentctlError

# Each command's module, imported when the command runs (or for --help): `validate` does
# not pay for the site, GitHub or intake code. A test keeps this table equal to what the
# modules' COMMANDS declare.
COMMAND_MODULES: dict[str, str] = {
    **dict.fromkeys(
        (
            "declare", "triage", "ack", "engage", "assign", "escalate", "hypothesis", "link",
            "update", "release", "correct", "regulatory", "mitigate", "resolve", "close",
            "reopen",
        ),
        "lifecycle",
    ),
    **dict.fromkeys(("list", "show", "schema"), "inspect"),
    "validate": "validate",
    "init": "init",
    **dict.fromkeys(("overdue", "watch", "deadlines", "snooze"), "deadlines"),
    "oncall": "oncall",
    **dict.fromkeys(("pir", "action"), "pir"),
    "runbook": "runbook",
    "notify": "notify",
    "maintenance": "maintenance",
    "merge-driver": "merge",
    "site": "site",
    **dict.fromkeys(("github", "actions"), "github"),
    **dict.fromkeys(("metrics", "report"), "metrics"),
    "intake": "intake",
}  # fmt: skip
WITHOUT_REPO = ("init",)  # init makes the repository it is given as DIRECTORY


class _Commands(click.Group):
    """The command group, loading a command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(f"incidentctl.cli.{COMMAND_MODULES[cmd_name]}")
            for command in module.COMMANDS:
                forgiving(command, without_repo=WITHOUT_REPO)
                self.add_command(command)
        return self.commands.get(cmd_name)


EPILOG = """\b
Examples:
  incidentctl declare --title "Checkout returns 502" --impact high --urgency high
  incidentctl ack INC-20261127-7K3Q
  incidentctl ack 7k3q --at "10m ago"     an ID in any case, or a unique suffix
  incidentctl list --status open
  incidentctl validate --base origin/main
"""


@click.group(cls=_Commands, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
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


# --repo before or after the subcommand name, on the group itself (its commands as loaded)
forgiving(main, without_repo=WITHOUT_REPO)


def every_command() -> dict[str, click.Command]:
    """Every command, loaded (the help and the tests walk them all)."""
    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        main.get_command(ctx, name)
    return dict(main.commands)


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
