"""What every command shares: the repository, the clock, the actor, output helpers."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from incidentctl.checks.incidents import Finding, capped, finding_order
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import ID_RULE, Incident, valid_id
from incidentctl.core.timevalues import Day, Duration, TimeValueError, parse_moment
from incidentctl.store.repo import Repo, locate_root

F = TypeVar("F", bound=Callable[..., Any])


def repo_from(ctx: click.Context) -> Repo:
    root = ctx.find_root().obj.get("repo") if ctx.find_root().obj else None
    if root:
        path = Path(root)
        if not path.is_dir():
            raise IncidentctlError(f"--repo {root}: no such folder")
        repo = Repo(path.resolve())
    else:
        repo = Repo(locate_root())
    if sys.stderr.isatty() and not os.environ.get("CI"):
        repo.progress = progress_printer(sys.stderr)
    return repo


REPO_HELP = "Incident repository root (default: found from the current folder upwards)."


def _set_repo(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """--repo given after a subcommand's name: the same setting as before it."""
    if value is not None:
        root = ctx.find_root()
        root.obj = {**(root.obj or {}), "repo": value}
        ctx.obj = root.obj


def repo_option() -> click.Option:
    """--repo for a subcommand (the top-level one also reads $INCIDENTCTL_REPO)."""
    return click.Option(
        ["--repo"],
        type=click.Path(file_okay=False, path_type=str),
        expose_value=False,
        callback=_set_repo,
        help=REPO_HELP,
    )


def forgiving(command: click.Command, *, without_repo: Sequence[str] = ()) -> None:
    """What every command and subcommand accepts, given once here so no command forgets
    it: --repo before or after the subcommand name, and every choice in any case
    (`--status INVESTIGATING`), normalised to its canonical value."""
    for param in command.params:
        if isinstance(param.type, click.Choice):
            param.type.case_sensitive = False
    names = {name for param in command.params for name in param.opts}
    if "--repo" not in names and command.name not in without_repo:
        command.params.append(repo_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            forgiving(sub, without_repo=without_repo)


def progress_printer(stream: TextIO, *, least: int = 1000) -> Callable[[int, int], None]:
    """A one-line counter for long loads on a terminal, erased when done; nothing for small
    repositories, and never in CI (the caller decides: only on a TTY)."""

    def show(done: int, total: int) -> None:
        if total < least:
            return
        line = f"loading incidents {done:,}/{total:,}"
        stream.write(f"\r{line}" if done < total else "\r" + " " * len(line) + "\r")
        stream.flush()

    return show


def parse_time(
    value: str | None,
    now: datetime,
    option: str,
    *,
    future: bool = False,
    day: Day | None = None,
) -> datetime:
    """A time option's value (default: now) read by the one parser, core.timevalues
    parse_moment: ISO-8601 with a zone, now, -10m, 10m ago; +10m where `future`; a date
    where `day`. A usage error naming the accepted forms when it is none of them."""
    if value is None:
        return now
    try:
        return parse_moment(value, now, future=future, day=day)
    except TimeValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def seconds_of(value: str, option: str) -> int:
    """A DURATION option's value in whole seconds; a usage error when it is not one."""
    try:
        return int(Duration.parse(value).timedelta.total_seconds())
    except TimeValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def current_now(value: str | None, *, exact: bool = False) -> datetime:
    """--now (or $INCIDENTCTL_NOW) for replays, read against the wall clock (a date is
    the start of that UTC day, -1d and +2h are relative); otherwise the wall clock, the
    only place it is read (`exact`: with its microseconds, for `watch`'s sleeps)."""
    clock = datetime.now(UTC)
    if not exact:
        clock = clock.replace(microsecond=0)
    option, text = (
        ("--now", value) if value else ("INCIDENTCTL_NOW", os.environ.get("INCIDENTCTL_NOW"))
    )
    if not text:
        return clock
    return parse_time(text, clock, option, future=True, day="start")


def default_actor(root: Path | None = None) -> str | None:
    """Who is acting: $INCIDENTCTL_ACTOR, the GitHub Actions actor, or the git identity
    (user.name, else user.email) of the repository at `root` (default: here)."""
    if os.environ.get("INCIDENTCTL_ACTOR", "").strip():
        return os.environ["INCIDENTCTL_ACTOR"].strip()
    if os.environ.get("GITHUB_ACTOR", "").strip():
        return "@" + os.environ["GITHUB_ACTOR"].strip()
    if shutil.which("git"):
        where = ["-C", str(root)] if root is not None else []
        for key in ("user.name", "user.email"):
            result = subprocess.run(
                ["git", *where, "config", key], capture_output=True, text=True, check=False
            )
            if result.returncode == 0 and result.stdout.strip():
                return result.stdout.strip()
    return None


def actor_of(by: str | None, root: Path | None = None) -> str:
    """Who a write records: --by, else default_actor. Nobody is a usage error, never an
    anonymous record (a timeline event without `by`, `reporter: null`)."""
    if by is not None and by.strip():
        return by.strip()
    if by is not None:
        raise IncidentctlError("--by is empty", hint="name who did it: --by @you")
    found = default_actor(root)
    if found:
        return found
    raise IncidentctlError(
        "who is doing this? there is no --by, $INCIDENTCTL_ACTOR, GITHUB_ACTOR or git identity",
        hint="pass --by @you, or set INCIDENTCTL_ACTOR=@you, or `git config user.name 'Your "
        "Name'`; every record names who made it",
    )


def now_option(f: F) -> F:
    return click.option(
        "--now",
        "now_text",
        metavar="TS",
        help="Pretend the current time is TS, for replays: ISO-8601 with a zone, a date "
        "(the start of that UTC day), or relative to the clock like -1d or +2h.",
    )(f)


def write_options(f: F) -> F:
    """--at, --by, --dry-run and --now, shared by every command that changes a file."""
    f = click.option("--dry-run", is_flag=True, help="Show the change to the file; write nothing.")(
        f
    )
    f = click.option(
        "--by",
        metavar="WHO",
        help="Who did it (default: $INCIDENTCTL_ACTOR, GITHUB_ACTOR, git user.name/email).",
    )(f)
    f = click.option(
        "--at",
        "at_text",
        metavar="TS",
        help="When it happened: ISO-8601 with a zone, -10m, -1h30m, '10m ago' (default: now).",
    )(f)
    return now_option(f)


def incident_id_param(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> str | None:
    """An --id given by hand becomes a folder name: one that breaks ID_RULE is a usage
    error (exit 2), never a path and never a traceback."""
    if value is not None and not valid_id(value):
        raise click.BadParameter(f"{value!r} is not a valid incident ID: an ID is {ID_RULE}")
    return value


def format_option(choices: Sequence[str] = ("text", "json")) -> Callable[[F], F]:
    def decorate(f: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(list(choices)),
            default="text",
            show_default=True,
            help="Output format: text for people, json for scripts.",
        )(f)

    return decorate


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


def show_diff(path: str, before: str, after: str) -> None:
    diff = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    sys.stdout.writelines(diff)
    click.echo("(dry run: nothing written)", err=True)


def warn(message: str) -> None:
    """What the layers below tell through their `warn` callback: on stderr, so the output
    on stdout stays parseable."""
    click.echo(message, err=True)


def use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def style(text: str, **kwargs: Any) -> str:
    return click.style(text, **kwargs) if use_color() else text


def age(since: datetime, now: datetime) -> str:
    from incidentctl.core.timevalues import format_duration

    delta: timedelta = now - since
    return format_duration(delta.total_seconds())


def apply_transition(
    ctx: click.Context,
    incident_id: str,
    transition: Callable[..., Incident],
    *,
    at_text: str | None,
    by: str | None,
    dry_run: bool,
    now_text: str | None,
    with_policy: bool = False,
    **kwargs: Any,
) -> Incident | None:
    """Apply a pure transition to the incident as it is now and save it as a minimal edit:
    read, transition and write under the incident's lock, so no concurrent write is lost.

    With `with_policy` the transition also gets the policy the incident was declared
    under. Returns the updated incident, or None after a dry run (the diff is shown).
    """
    repo = repo_from(ctx)
    now = current_now(now_text)
    at = parse_time(at_text, now, "--at")
    actor = actor_of(by, repo.root)

    def change(incident: Incident) -> Incident:
        policy = {"policy": repo.policy_for(incident)} if with_policy else {}
        return transition(incident, at=at, now=now, by=actor, **policy, **kwargs)

    edited = repo.edit(incident_id, change, dry_run=dry_run)
    if dry_run:
        show_diff(str(edited.path), edited.old, edited.text)
        return None
    return edited.after


def _escape(value: str, *, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github_annotation(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
) -> str:
    """A GitHub Actions workflow command (`::error file=...,line=...::message`), escaped."""
    props = []
    if file:
        props.append(f"file={_escape(file, prop=True)}")
    if line:
        props.append(f"line={line}")
    if title:
        props.append(f"title={_escape(title, prop=True)}")
    return f"::{level} {','.join(props)}::{_escape(message)}"


def pad_columns(rows: list[list[str]]) -> list[list[str]]:
    """Cells left-aligned to their column's width; the last column is left as it is."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [[cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]] for row in rows]


def finding_text(f: Finding) -> str:
    """`path:line: error: [rule] field: message` and an indented hint: what a person reads."""
    where = f.path + (f":{f.line}" if f.line else "")
    label = style(f.severity, fg="red" if f.severity == "error" else "yellow")
    field = f"{f.field}: " if f.field else ""
    line = f"{where}: {label}: [{f.rule}] {field}{f.message}"
    if f.hint:
        line += f"\n  hint: {f.hint}"
    return line


def finding_annotation(f: Finding) -> str:
    """The same finding as a GitHub Actions annotation on the file and line."""
    message = (f"{f.field}: " if f.field else "") + f.message
    if f.hint:
        message += f" (hint: {f.hint})"
    level = "error" if f.severity == "error" else "warning"
    return github_annotation(level, message, file=f.path, line=f.line, title=f.rule)


def echo_findings(findings: Sequence[Finding], fmt: str, summary: dict[str, Any]) -> None:
    """Findings as `fmt` asks: json (the summary and the findings), github (annotations) or
    text (one line and hint each; the caller adds its own summary line). At most
    MAX_FINDINGS_PER_FILE of each file are shown, then a line says how many more."""
    findings = sorted(capped(findings), key=finding_order)
    if fmt == "json":
        echo_json({**summary, "findings": [f.as_dict() for f in findings]})
    elif fmt == "github":
        for f in findings:
            click.echo(finding_annotation(f))
    else:
        for f in findings:
            click.echo(finding_text(f))
