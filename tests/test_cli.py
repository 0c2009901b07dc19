"""Every command through the CLI, on a real repository in a temporary git repo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incidentctl.entry import main as entry_main
from tests.conftest import NOW, Invoke, declare, git, incident_file


def test_version_fast_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert entry_main(["--version"]) == 0
    assert capsys.readouterr().out == "incidentctl 0.1.0\n"


def test_declare_json_and_file_layout(repo: Path, cli: Invoke) -> None:
    result = cli(
        "declare",
        "--title",
        "Payments failing",
        "--impact",
        "high",
        "--urgency",
        "medium",
        "--category",
        "availability",
        "--services",
        "example-service",
        "--detection",
        "automated-alert",
        "--started-at",
        "2026-11-27T14:55:00Z",
        "--at",
        "2026-11-27T15:00:00Z",
        "--now",
        NOW,
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["priority"] == "P1"
    assert data["status"] == "detected"
    assert data["path"] == f"incidents/2026/11/{data['id']}/incident.md"
    assert data["id"].startswith("INC-20261127-")
    assert len(data["id"]) == 17
    assert (repo / data["path"]).is_file()
    snapshot = repo / "policies/snapshots" / (data["policy"].replace(":", "-") + ".json")
    assert snapshot.is_file()
    assert cli("validate").code == 0


def test_declare_priority_override_needs_reason(repo: Path, cli: Invoke) -> None:
    args = [
        "declare",
        "--title",
        "x",
        "--impact",
        "low",
        "--urgency",
        "low",
        "--priority",
        "P1",
        "--at",
        "2026-11-27T15:00:00Z",
        "--now",
        NOW,
    ]
    result = cli(*args)
    assert result.code == 2
    assert result.err == (
        "error: low impact x low urgency is P3 by the priority matrix, not P1\n"
        "  hint: pass --reason 'why P1 is right' to record an override, or drop --priority\n"
    )
    assert not list(repo.glob("incidents/*/*/*/incident.md"))
    result = cli(*args, "--reason", "Largest customer affected", "--format", "json")
    assert result.code == 0
    shown = json.loads(cli("show", json.loads(result.out)["id"], "--format", "json").out)
    assert shown["priority"] == "P1"
    assert shown["priority_override"]["reason"] == "Largest customer affected"


def test_full_lifecycle_walkthrough(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli, at="2026-11-27T15:00:00Z")
    steps = [
        ("triage", "--impact", "high", "--urgency", "high", "--at", "2026-11-27T15:02:00Z"),
        ("ack", "--at", "2026-11-27T15:01:00Z"),
    ]
    # ack before triage in time is fine only if it is not before the last event
    result = cli(steps[0][0], incident_id, *steps[0][1:], "--now", NOW)
    assert result.code == 0, result.err
    result = cli(steps[1][0], incident_id, *steps[1][1:], "--now", NOW)
    assert result.code == 2
    assert "is before the last timeline event (triaged at 2026-11-27T15:02:00Z)" in result.err
    for args in (
        ("ack", "--at", "2026-11-27T15:03:00Z"),
        ("engage", "--at", "2026-11-27T15:05:00Z", "--by", "@oncall"),
        ("escalate", "--tier", "2", "--at", "2026-11-27T15:20:00Z"),
        ("escalate", "--management", "--at", "2026-11-27T15:25:00Z"),
        (
            "update",
            "-m",
            "Investigating elevated errors",
            "--public",
            "--at",
            "2026-11-27T15:26:00Z",
        ),
        (
            "mitigate",
            "--strategy",
            "rollback",
            "--note",
            "Rolled back",
            "--at",
            "2026-11-27T15:40:00Z",
        ),
        ("resolve", "--at", "2026-11-27T15:55:00Z", "--note", "Errors at baseline"),
        (
            "update",
            "-m",
            "Resolved",
            "--public",
            "--status",
            "resolved",
            "--at",
            "2026-11-27T15:56:00Z",
        ),
        ("close", "--at", "2026-11-27T15:59:00Z"),
    ):
        result = cli(args[0], incident_id, *args[1:], "--now", NOW)
        assert result.code == 0, (args, result.err)
    data = json.loads(cli("show", incident_id, "--format", "json").out)
    assert data["status"] == "closed"
    assert data["tier"] == 2
    assert data["triaged_at"] == "2026-11-27T15:02:00Z"
    assert data["acknowledged_at"] == "2026-11-27T15:03:00Z"
    assert data["engaged_at"] == "2026-11-27T15:05:00Z"
    assert data["mitigated_at"] == "2026-11-27T15:40:00Z"
    assert data["resolved_at"] == "2026-11-27T15:55:00Z"
    assert data["closed_at"] == "2026-11-27T15:59:00Z"
    assert data["mitigation"]["strategy"] == "rollback"
    assert [e["kind"] for e in data["escalations"]] == ["tier-2", "management"]
    assert data["escalations"][0]["to"] == "@example-org/sre"
    assert [e["kind"] for e in data["timeline"]] == [
        "declared",
        "triaged",
        "acknowledged",
        "engaged",
        "escalated",
        "escalated",
        "update",
        "mitigated",
        "resolved",
        "update",
        "closed",
    ]
    public = [e for e in data["timeline"] if e["public"]]
    assert [e["status"] for e in public] == ["investigating", "resolved"]
    assert data["timeline"][3]["by"] == "@oncall"
    assert data["timeline"][8]["text"] == "Errors at baseline"
    assert data["timeline"][1]["by"] == "@tester"
    assert cli("validate").code == 0


@pytest.mark.parametrize(
    ("setup", "command", "message"),
    [
        (
            [],
            ("close",),
            "cannot close {id}: it is DETECTED, not RESOLVED\n"
            "  hint: resolve it first with `incidentctl resolve`",
        ),
        (
            [("resolve",), ("close",)],
            ("ack",),
            "cannot acknowledge {id}: it is CLOSED\n"
            "  hint: a closed incident cannot change; declare a new one that refers to it",
        ),
        (
            [("resolve",)],
            ("mitigate", "--strategy", "hotfix"),
            "cannot mitigate {id}: it is RESOLVED\n"
            "  hint: reopen it first with `incidentctl reopen`",
        ),
        (
            [],
            ("reopen",),
            "cannot reopen {id}: it is DETECTED\n  hint: only a RESOLVED incident can be reopened",
        ),
        ([("ack",)], ("ack",), "{id} was already acknowledged at 2026-11-27T15:10:00Z"),
        (
            [("escalate", "--tier", "3")],
            ("escalate", "--tier", "2"),
            "{id} is already in tier 3\n  hint: functional escalation only moves up",
        ),
        (
            [],
            ("update", "-m", "done", "--public", "--status", "resolved"),
            "{id} is still DETECTED; a 'resolved' update needs the incident resolved",
        ),
    ],
)
def test_illegal_transitions_are_refused_and_nothing_is_written(
    repo: Path, cli: Invoke, setup: list[tuple[str, ...]], command: tuple[str, ...], message: str
) -> None:
    incident_id = declare(cli)
    for args in setup:
        assert (
            cli(args[0], incident_id, *args[1:], "--at", "2026-11-27T15:10:00Z", "--now", NOW).code
            == 0
        )
    path = incident_file(repo, incident_id)
    before = path.read_bytes()
    result = cli(
        command[0], incident_id, *command[1:], "--at", "2026-11-27T15:20:00Z", "--now", NOW
    )
    assert result.code == 2
    assert result.err.startswith("error: " + message.format(id=incident_id))
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (
            "2026-11-27T14:00:00Z",
            "time 2026-11-27T14:00:00Z is before the incident was detected (2026-11-27T15:00:00Z)",
        ),
        (
            "2026-11-27T17:00:00Z",
            "time 2026-11-27T17:00:00Z is in the future (now is 2026-11-27T16:00:00Z)",
        ),
    ],
)
def test_impossible_times_are_refused(repo: Path, cli: Invoke, at: str, message: str) -> None:
    incident_id = declare(cli)
    result = cli("ack", incident_id, "--at", at, "--now", NOW)
    assert result.code == 2
    assert result.err.startswith(f"error: {message}")


def test_naive_at_is_a_usage_error(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    result = cli("ack", incident_id, "--at", "2026-11-27 15:10", "--now", NOW)
    assert result.code == 2
    assert "Invalid value for --at: 2026-11-27 15:10 has no timezone" in result.err


def test_relative_at(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    assert cli("ack", incident_id, "--at", "-10m", "--now", NOW).code == 0
    data = json.loads(cli("show", incident_id, "--format", "json").out)
    assert data["acknowledged_at"] == "2026-11-27T15:50:00Z"


def test_dry_run_writes_nothing(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    before = path.read_bytes()
    result = cli("ack", incident_id, "--at", "2026-11-27T15:05:00Z", "--now", NOW, "--dry-run")
    assert result.code == 0
    assert "+acknowledged_at: 2026-11-27T15:05:00Z" in result.out
    assert path.read_bytes() == before
    result = cli(
        "declare", "--title", "t", "--impact", "low", "--urgency", "low", "--dry-run", "--now", NOW
    )
    assert result.code == 0
    assert len(list(repo.glob("incidents/*/*/*/incident.md"))) == 1


def test_broken_file_is_reported_not_overwritten(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    path.write_text(path.read_text().replace("impact: high", "impact: [oops"))
    before = path.read_bytes()
    result = cli("ack", incident_id, "--now", NOW)
    assert result.code == 2
    assert result.err.startswith(f"error: {path.relative_to(repo)}:")
    assert "malformed YAML" in result.err
    assert path.read_bytes() == before


def test_list_filters_and_json(repo: Path, cli: Invoke) -> None:
    p0 = declare(cli, at="2026-11-27T15:00:00Z")
    result = cli(
        "declare",
        "--title",
        "Typo",
        "--impact",
        "low",
        "--urgency",
        "low",
        "--services",
        "example-service",
        "--at",
        "2026-11-26T10:00:00Z",
        "--now",
        NOW,
    )
    p3 = result.out.strip()
    cli("resolve", p3, "--at", "2026-11-26T11:00:00Z", "--now", NOW)
    listing = cli("list", "--now", NOW)
    assert listing.code == 0
    lines = listing.out.splitlines()
    assert lines[0].split() == ["ID", "PRI", "STATUS", "TIER", "DETECTED", "AGE", "TITLE"]
    assert lines[1].split()[:3] == [p0, "P0", "DETECTED"]
    assert lines[1].split()[6] == "1h"
    assert lines[2].split()[:3] == [p3, "P3", "RESOLVED"]
    only_open = json.loads(cli("list", "--status", "open", "--format", "json").out)
    assert [i["id"] for i in only_open] == [p0]
    by_priority = json.loads(cli("list", "--priority", "p3", "--format", "json").out)
    assert [i["id"] for i in by_priority] == [p3]
    assert json.loads(cli("list", "--service", "nope", "--format", "json").out) == []


def test_show_json_has_every_model_field(repo: Path, cli: Invoke) -> None:
    from incidentctl.core.model import Incident

    incident_id = declare(cli)
    data = json.loads(cli("show", incident_id, "--format", "json").out)
    assert set(Incident.model_fields) <= set(data)
    assert data["path"].endswith(f"{incident_id}/incident.md")


def test_show_text(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    out = cli("show", incident_id, "--now", NOW).out
    assert f"{incident_id}  Checkout returns 502" in out
    assert "  priority:            P0 = high impact x high urgency\n" in out
    assert "open for         1h" in out


def test_show_text_lists_every_field_and_the_times_in_lifecycle_order(
    samples: Path, cli: Invoke
) -> None:
    out = cli("show", "INC-20261127-9TRX", "--now", NOW).out
    for line in (
        "  user impact:         Tracking pages, tracking emails",
        "  components:          tracking\n",
        "  detection:           automated-alert\n",
        "  communications lead: @ebrooks\n",
        "  on call:             @tnakamura\n",
        "    mitigated_at     -\n",
    ):
        assert line in out, line
    times = [line.split()[0] for line in out.split("  times:\n")[1].splitlines()[:8]]
    assert times == [
        "started_at",
        "detected_at",
        "acknowledged_at",
        "triaged_at",
        "engaged_at",
        "mitigated_at",
        "resolved_at",
        "closed_at",
    ]


def test_show_text_summary_and_unassigned_roles(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli, "--summary", "Every   checkout\nfails")
    out = cli("show", incident_id, "--now", NOW).out
    assert "  summary:             Every checkout fails\n" in out
    assert "  incident commander:  unassigned\n" in out


def test_show_timeline_is_aligned_whatever_the_actor_widths(samples: Path, cli: Invoke) -> None:
    out = cli("show", "INC-20261127-9TRX", "--now", NOW).out
    events = out.split("  timeline:\n")[1].splitlines()
    assert {len(e.split()[3]) for e in events} >= {len("@mchen"), len("@tnakamura")}
    starts = set()
    for number, event in enumerate(events, start=1):
        shown, _at, _kind, by, text = event.split(maxsplit=4)
        assert shown == f"{number}."  # the number `correct --event N` takes
        starts.add(event.index(text, event.index(by) + len(by)))
    assert len(starts) == 1, "every event's text starts in one column"


def test_unknown_incident(repo: Path, cli: Invoke) -> None:
    result = cli("ack", "INC-20990101-NOPE", "--now", NOW)
    assert result.code == 2
    assert result.err == (
        "error: no incident INC-20990101-NOPE in incidents/\n"
        "  hint: `incidentctl list` shows the incidents this repository holds\n"
    )


def test_works_from_a_subfolder(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    result = cli("show", incident_id, cwd=repo / "runbooks")
    assert result.code == 0


def test_outside_a_repository(tmp_path: Path, cli: Invoke) -> None:
    result = cli("list", cwd=tmp_path)
    assert result.code == 2
    assert "is not inside an incident repository" in result.err
    assert "hint: run `incidentctl init`" in result.err


def test_init_creates_a_repository_that_validates(tmp_path: Path, cli: Invoke) -> None:
    target = tmp_path / "new-repo"
    result = cli("init", str(target), cwd=tmp_path)
    assert result.code == 0
    assert "created  policies/sla.yaml" in result.out
    assert (target / "CODEOWNERS").is_file()
    assert cli("validate", cwd=target).code == 0
    # a second init keeps what is there
    (target / "README.md").write_text("mine\n")
    again = cli("init", str(target), cwd=tmp_path)
    assert "kept     README.md (already exists)" in again.out
    assert (target / "README.md").read_text() == "mine\n"
    # and the new repository works end to end: init made it a git repository
    assert git(target, "symbolic-ref", "--short", "HEAD").strip() == "main"
    result = cli(
        "declare",
        "--title",
        "First",
        "--impact",
        "medium",
        "--urgency",
        "medium",
        "--services",
        "example-service",
        "--now",
        NOW,
        cwd=target,
    )
    assert result.code == 0, result.err
    assert cli("validate", cwd=target).code == 0


def test_init_outside_git_runs_git_init_and_says_the_next_steps_in_order(
    tmp_path: Path, cli: Invoke
) -> None:
    target = tmp_path / "payments-incidents"
    result = cli("init", str(target), cwd=tmp_path)
    assert result.code == 0, result.err
    assert "ran      git init (branch main)" in result.out
    assert (target / ".git").is_dir()
    steps = result.err.split("Next:\n", 1)[1].splitlines()
    assert steps[0] == f"  cd {target}"
    assert steps[1].startswith('  git config merge.incidentctl.driver "incidentctl merge-driver')
    assert steps[2] == "  incidentctl validate"


def test_init_in_the_current_folder_says_no_cd(tmp_path: Path, cli: Invoke) -> None:
    here = tmp_path / "here"
    here.mkdir()
    result = cli("init", cwd=here)
    assert result.code == 0, result.err
    assert "cd " not in result.err
    assert "Next:\n  git config merge.incidentctl.driver" in result.err
    assert (here / ".git").is_dir()


def test_init_inside_a_git_repository_makes_no_nested_one(repo: Path, cli: Invoke) -> None:
    result = cli("init", "sub")
    assert result.code == 0, result.err
    assert "git init" not in result.out
    assert not (repo / "sub" / ".git").exists()
    assert "  cd sub\n" in result.err


def test_init_dry_run_says_it_would_run_git_init(tmp_path: Path, cli: Invoke) -> None:
    result = cli("init", "--dry-run", str(tmp_path / "x"), cwd=tmp_path)
    assert result.code == 0, result.err
    assert "would run  git init (branch main)" in result.out
    assert not (tmp_path / "x").exists()


def test_schema_is_json_schema(cli: Invoke) -> None:
    data = json.loads(cli("schema").out)
    assert data["title"] == "incidentctl incident front-matter"
    assert data["additionalProperties"] is False
    assert {"id", "title", "impact", "urgency", "priority", "detected_at"} <= set(data["required"])
    assert data["properties"]["status"]["$ref"].endswith("Status")


def test_every_command_help_has_an_example(cli: Invoke) -> None:
    from incidentctl.cli.app import every_command

    for name in every_command():
        result = cli(name, "--help")
        assert result.code == 0, name
        assert "Examples:" in result.out, name


def test_usage_error_exit_code(cli: Invoke) -> None:
    result = cli("escalate", "INC-20261127-AAAA")
    assert result.code == 2
    assert "give exactly one of --tier 2|3, --management, --executive, --security" in result.err


def test_init_lays_down_the_repositorys_own_workflows_installing_the_release() -> None:
    """The scaffolded workflows are this repository's, except that they install the released
    incidentctl from PyPI instead of this checkout: they cannot drift apart."""
    from incidentctl import __version__
    from incidentctl.store import scaffold

    root = Path(__file__).resolve().parents[1]
    files = scaffold.files()
    for name in scaffold.WORKFLOWS:
        ours = (root / ".github" / "workflows" / f"{name}.yml").read_text(encoding="utf-8")
        theirs = files[f".github/workflows/{name}.yml"]
        assert f'pip install --quiet "incidentctl=={__version__}"' in theirs
        assert theirs.replace(f'"incidentctl=={__version__}"', ".") == ours


def test_progress_on_a_terminal_is_one_erased_line(repo: Path) -> None:
    import io

    from incidentctl.cli.common import progress_printer
    from incidentctl.store.repo import Repo

    screen = io.StringIO()
    show = progress_printer(screen, least=1)
    store = Repo(repo)
    store.progress = show
    (repo / "incidents/2026/11").mkdir(parents=True)
    assert list(store.scan()) == []  # nothing to load: nothing shown
    show(250, 1000)
    show(1000, 1000)
    last = "loading incidents 1,000/1,000"
    assert screen.getvalue() == "\rloading incidents 250/1,000" + "\r" + " " * len(last) + "\r"
    quiet = io.StringIO()
    progress_printer(quiet)(250, 999)  # small repositories load too fast to need it
    assert quiet.getvalue() == ""


def test_bulk_loads_report_progress(cli: Invoke, repo: Path) -> None:
    from incidentctl.store.repo import Repo

    for minute in range(3):
        declare(cli, at=f"2026-11-27T15:0{minute}:00Z")
    calls: list[tuple[int, int]] = []
    store = Repo(repo)
    store.progress = lambda done, total: calls.append((done, total))
    assert len(list(store.scan())) == 3
    assert calls == [(3, 3)]


def test_the_command_table_names_what_each_module_declares() -> None:
    """Commands load their module on first use, from a table: it must name every command
    each module declares, in its module, and nothing else (a new command missing from it
    would not exist)."""
    import importlib

    from incidentctl.cli.app import COMMAND_MODULES

    declared = {
        command.name: module
        for module in set(COMMAND_MODULES.values())
        for command in importlib.import_module(f"incidentctl.cli.{module}").COMMANDS
    }
    assert declared == COMMAND_MODULES


def test_a_command_imports_only_its_own_module() -> None:
    """`validate` runs without the site, GitHub, metrics or intake code loaded (start-up is
    part of every command's time)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from incidentctl.cli.app import run\n"
        "run(['validate', '--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('incidentctl.cli.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    loaded = out.strip().splitlines()[-1]
    assert "incidentctl.cli.validate" in loaded
    for other in ("site", "github", "metrics", "intake", "lifecycle"):
        assert f"incidentctl.cli.{other}'" not in loaded, other


def test_the_console_script_exits_with_the_commands_code_and_all_its_output(
    repo: Path, cli: Invoke
) -> None:
    """The console script skips the interpreter's teardown once a command is done: the exit
    code, every byte written to stdout and stderr and the exit handlers are still there (a
    fresh process for each, as a user's shell runs it)."""
    import subprocess
    import sys

    for _ in range(3):
        declare(cli)

    def console(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "incidentctl", *args],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )

    listed = console("list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 3
    wrong = console("show", "INC-20200101-NONE")
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("error: ")
    assert wrong.stderr.endswith("\n")
    exit_handler = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('handlers ran', file=sys.stderr))\n"
        "from incidentctl.entry import main\n"
        "sys.argv = ['incidentctl', 'validate']\n"
        "main()\n"
        "print('not reached: the process ended in main', file=sys.stderr)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", exit_handler], cwd=repo, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.splitlines()[-1] == "handlers ran"
    assert "not reached" not in ran.stderr
