"""`incidentctl metrics` on a real git repository: the hand-computed corpus of test_metrics.py
written as files (PIR approval times from git), the JSON and CSV shapes, every format, the
window options and their errors, --compare, and the sample repository."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from incidentctl.core.documents import parse
from incidentctl.core.model import Incident, Priority
from incidentctl.deadlines import timers
from incidentctl.store.repo import Repo
from tests.conftest import Invoke, git
from tests.test_metrics import A, B, C, D, E, F, G, make

NOW = "2026-11-27T16:00:00Z"
MAIN = Path(__file__).resolve().parent.parent
TIME_KEYS = {"count", "mean", "median", "p90", "max", "excluded"}
METRICS = ("mttd", "mtta", "mtte", "mttm", "mttr", "mttr_impact")
HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"

A_PIR = f"""---
incident: INC-A
status: approved
approvers: ["@lead"]
approved_at: 2026-11-11T09:00:00Z
root_cause: bad-deploy
actions:
  - id: a1
    title: on time
    due: 2026-11-15
    status: done
    done_at: 2026-11-14
  - id: a2
    title: late
    due: 2026-11-15
    status: done
    done_at: 2026-11-17
  - id: a3
    title: "{HOSTILE}"
    due: 2026-11-20
    status: open
  - id: a4
    title: dropped
    due: 2026-11-20
    status: cancelled
  - id: a5
    title: not due
    due: 2026-12-20
    status: in-progress
---
# PIR
"""
# Approved through a merged PR: the approval time is the commit's (2026-11-27T12:00:00Z),
# after the 48 h due date of 2026-11-22T15:00:00Z.
C_PIR = """---
incident: INC-C
status: approved
approvers: ["@lead"]
root_cause: "bad-deploy"   # quoted, with a comment
---
"""
D_PIR = """---
incident: INC-D
status: draft
root_cause: unique-cause
---
"""
E_PIR = """---
incident: INC-E
status: approved
approvers: ["@lead"]
root_cause: bad-deploy
---
"""


def write_corpus(root: Path, *incidents: Incident, pirs: dict[str, str] | None = None) -> None:
    repo = Repo(root)
    for incident in incidents:
        path, _ = repo.create(incident, "\n# Notes\n")
        if pirs and incident.id in pirs:
            (path.parent / "pir.md").write_text(pirs[incident.id], encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "corpus")


@pytest.fixture
def corpus(repo: Path) -> Path:
    write_corpus(
        repo,
        A,
        B,
        C,
        D,
        E,
        F,
        G,
        pirs={"INC-A": A_PIR, "INC-C": C_PIR, "INC-D": D_PIR, "INC-E": E_PIR},
    )
    return repo


def metrics_json(cli: Invoke, *args: str) -> dict[str, Any]:
    result = cli("metrics", "--now", NOW, "--format", "json", *args)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def test_json_shape(corpus: Path, cli: Invoke) -> None:
    data = metrics_json(cli, "--from", "2026-11-01")
    assert list(data) == [
        "window",
        "definitions",
        "source",
        "overall",
        "by_priority",
        "sla",
        "tiers",
        "recurrence",
        "pir",
        "actions",
        "detection",
        "services",
        "categories",
        "targets",
    ]
    assert data["source"]["commit"] == git(corpus, "rev-parse", "HEAD").strip()
    assert data["source"]["policy"] == Repo(corpus).policy().digest()
    assert data["window"] == {
        "from": "2026-11-01T00:00:00Z",
        "to": NOW,
        "now": NOW,
        "selection": "incidents detected at or after `from` and before `to`",
        "priority": [],
        "service": [],
    }
    assert list(data["by_priority"]) == ["P0", "P1", "P2", "P3"]
    for figures in [data["overall"], *data["by_priority"].values()]:
        assert isinstance(figures["count"], int)
        for metric in METRICS:
            assert set(figures[metric]) == TIME_KEYS
    for key in (
        "window",
        "mttd",
        "mtta",
        "mtte",
        "mttm",
        "mttr",
        "mttr_impact",
        "percentile",
        "sla",
        "tiers",
        "recurrence",
        "pir",
        "actions",
    ):
        assert data["definitions"][key]
    assert json.dumps(data)  # plain JSON values only


def test_files_give_the_hand_computed_figures(corpus: Path, cli: Invoke) -> None:
    data = metrics_json(cli, "--from", "2026-11-01")
    assert data["overall"]["count"] == 5
    assert data["overall"]["mtta"] == {
        "count": 4,
        "mean": 510,
        "median": 390,
        "p90": 1020,
        "max": 1200,
        "excluded": 1,
    }
    assert data["overall"]["mttr"]["median"] == 5400
    assert data["by_priority"]["P1"]["mttr"]["p90"] == 10080
    # C's approval time is the commit's: late
    assert data["pir"]["P1"]["completion"] == 0.5
    assert data["pir"]["P1"]["on_time"] == 0.0
    assert data["recurrence"]["root_causes"][0]["recurrences"] == ["INC-A", "INC-C"]
    assert data["actions"]["on_time"] == 0.3333
    assert data["actions"]["overdue_actions"][0]["title"] == HOSTILE


def test_csv_shape(corpus: Path, cli: Invoke) -> None:
    result = cli(
        "metrics", "--now", NOW, "--from", "2026-11-01", "--format", "csv", "--by", "month"
    )
    assert result.code == 0, result.err
    rows = list(csv.reader(io.StringIO(result.out)))
    assert rows[0] == ["section", "group", "metric", "statistic", "value"]
    assert all(len(r) == 5 for r in rows)
    cells = {tuple(r[:4]): r[4] for r in rows[1:]}
    assert cells["source", "", "", "commit"] == git(corpus, "rev-parse", "HEAD").strip()
    assert cells["source", "", "", "policy"].startswith("sha256:")
    assert cells["by_priority", "P0", "mtta", "median"] == "60"
    assert cells["overall", "", "mttd", "p90"] == "1440"
    assert cells["overall", "", "", "count"] == "5"
    assert cells["sla", "P1", "acknowledge", "compliance"] == "0.6667"
    assert cells["tiers", "tier_2", "", "share"] == "0.25"
    assert cells["recurrence", "", "", "rate"] == "0.6667"
    assert cells["pir", "P1", "", "completion"] == "0.5"
    assert cells["detection", "", "automated-alert", "count"] == "2"
    assert cells["by_priority", "P3", "mttr", "mean"] == ""  # null, not zero
    assert cells["groups.month", "2026-11", "mttr", "median"] == "5400"
    flat = {k: v for k, v in cells.items() if k[0] != "source" and k[0] != "window"}
    assert all(v == "" or v in ("true", "false") or float(v) >= 0 for v in flat.values())


def test_compare_previous(corpus: Path, cli: Invoke) -> None:
    data = metrics_json(cli, "--from", "2026-11-01", "--compare", "previous")
    assert data["previous"]["window"]["to"] == "2026-11-01T00:00:00Z"
    assert data["previous"]["window"]["from"] == "2026-10-05T08:00:00Z"  # same length
    rows = {r["figure"]: r for r in data["changes"]}
    assert rows["overall.count"] == {
        "figure": "overall.count",
        "current": 5,
        "previous": 1,
        "change": 4,
    }  # E, one second before the window
    assert rows["overall.mtta.median"] == {
        "figure": "overall.mtta.median",
        "current": 390,
        "previous": None,
        "change": None,
    }
    csv_out = cli(
        "metrics", "--now", NOW, "--from", "2026-11-01", "--compare", "previous", "--format", "csv"
    ).out
    rows_csv = list(csv.reader(io.StringIO(csv_out)))
    assert rows_csv[0][-2:] == ["previous", "change"]
    assert ["overall", "", "", "count", "5", "1", "4"] in rows_csv
    text = cli("metrics", "--now", NOW, "--from", "2026-11-01", "--compare", "365d").out
    assert "compared with 2025-11-01T00:00:00Z to 2025-11-27T16:00:00Z" in text
    assert "overall.count" in text


def test_text_and_markdown(corpus: Path, cli: Invoke) -> None:
    result = cli("metrics", "--now", NOW, "--from", "2026-11-01", "--by", "week")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == (
        "Incident metrics, incidents detected from 2026-11-01T00:00:00Z to "
        "2026-11-27T16:00:00Z (as of 2026-11-27T16:00:00Z)"
    )
    assert lines[2] == "5 incidents: 4 resolved, 1 open"
    row = next(line for line in lines if line.startswith("all") and "MTTA" in line)
    assert row.split() == ["all", "MTTA", "4", "1", "8m30s", "6m30s", "17m", "20m"]
    assert any(line.startswith("by week:") for line in lines)
    md = cli("metrics", "--now", NOW, "--from", "2026-11-01", "--format", "markdown").out
    assert md.startswith("## Incident metrics\n")
    assert "| all | MTTA | 4 | 1 | 8m30s | 6m30s | 17m | 20m |" in md
    assert "<script>" not in md
    assert "&lt;script&gt;" in md


def test_filters(corpus: Path, cli: Invoke) -> None:
    data = metrics_json(
        cli, "--from", "2026-11-01", "--priority", "p1", "--service", "auth-service"
    )
    assert data["window"]["priority"] == ["P1"]
    assert data["overall"]["count"] == 1  # C


def test_to_date_includes_that_day(corpus: Path, cli: Invoke) -> None:
    data = metrics_json(cli, "--from", "2026-11-20", "--to", "2026-11-20")
    assert data["window"]["to"] == "2026-11-21T00:00:00Z"
    assert data["overall"]["count"] == 1
    data = metrics_json(cli, "--from", "2026-11-20", "--to", "2026-11-20T12:00:00Z")
    assert data["overall"]["count"] == 0  # a timestamp end is excluded


def test_default_window_is_90_days(corpus: Path, cli: Invoke) -> None:
    data = metrics_json(cli)
    assert data["window"]["from"] == "2026-08-29T16:00:00Z"
    assert data["overall"]["count"] == 6  # E too
    assert metrics_json(cli, "--since", "10d")["overall"]["count"] == 2  # C and D


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--since", "30d", "--from", "2026-11-01"],
            "error: --since and --from both set the window's start\n  hint: use one of them\n",
        ),
        (["--since", "3x"], "error: --since 3x: '3x' is not a duration"),
        (["--since", "2bd"], "error: --since 2bd: give a positive calendar duration\n"),
        (
            ["--from", "2026-11-20", "--to", "2026-11-10"],
            "error: the window is empty: from 2026-11-20T00:00:00Z is not before to "
            "2026-11-11T00:00:00Z\n",
        ),
        (["--from", "yesterday"], "error: --from yesterday: 'yesterday' is not a time; accepted:"),
        (["--compare", "banana"], "error: --compare banana: 'banana' is not a duration"),
    ],
)
def test_usage_errors(corpus: Path, cli: Invoke, args: list[str], message: str) -> None:
    result = cli("metrics", "--now", NOW, *args)
    assert result.code == 2
    assert result.err.startswith(message)
    assert "Traceback" not in result.err
    assert result.out == ""


def test_empty_repository(repo: Path, cli: Invoke) -> None:
    data = metrics_json(cli)
    assert data["overall"]["count"] == 0
    assert data["overall"]["mttr"]["mean"] is None
    assert cli("metrics", "--now", NOW).code == 0


def test_unreadable_incident_is_skipped_and_said(corpus: Path, cli: Invoke) -> None:
    bad = corpus / "incidents/2026/11/INC-20261126-BAD1/incident.md"
    bad.parent.mkdir(parents=True)
    bad.write_text("---\nid: [\n---\n", encoding="utf-8")
    result = cli("metrics", "--now", NOW, "--from", "2026-11-01", "--format", "json")
    assert result.code == 0
    assert json.loads(result.out)["overall"]["count"] == 5
    assert result.err.startswith("skipped: incidents/2026/11/INC-20261126-BAD1/incident.md")


def test_incidents_long_before_the_window_get_no_model(
    repo: Path,
    cli: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    yaml_parses: list[str],
    models_built: list[str],
) -> None:
    """An incident detected before the window and its recurrence look-back is read, its
    `detected_at` line seen, and it is not parsed in full, no model is built of it and its
    PIR is not read; written so that its line does not tell (its value on the next line),
    it is parsed but gets no model. The figures (and so `report`'s) are the same as when
    every incident is loaded."""
    from datetime import UTC, datetime

    from incidentctl.cli import metrics as metrics_cli

    old_id = "INC-20240110-OLD1"
    old = make(old_id, Priority.P1, "2024-01-10T10:00:00Z", resolved_at="2024-01-10T11:00:00Z")
    old_pir = E_PIR.replace("INC-E", old_id)
    write_corpus(repo, A, B, C, D, E, F, G, old, pirs={"INC-A": A_PIR, old_id: old_pir})
    folder = f"incidents/2024/01/{old_id}"
    built, parsed = models_built, yaml_parses
    built.clear()  # what writing the corpus built and parsed
    parsed.clear()
    args = ("--from", "2026-11-01", "--compare", "previous")
    lean = metrics_json(cli, *args)
    assert built
    assert not [p for p in built + parsed if old_id in p]  # not parsed, its PIR unread
    incident = repo / folder / "incident.md"
    text = incident.read_text()
    incident.write_text(text.replace("detected_at: ", "detected_at:\n  ", 1))
    built.clear()
    assert metrics_json(cli, *args) == lean
    assert not [p for p in built if old_id in p]
    assert [p for p in parsed if old_id in p] == [f"{folder}/incident.md"]  # parsed, no model
    incident.write_text(text)
    monkeypatch.setattr(metrics_cli, "earliest", lambda *_: datetime(1970, 1, 1, tzinfo=UTC))
    built.clear()
    parsed.clear()
    assert metrics_json(cli, *args) == lean
    assert [p for p in built if old_id in p] == [f"{folder}/incident.md"]
    assert [p for p in parsed if old_id in p] == [f"{folder}/incident.md", f"{folder}/pir.md"]


# -- the sample repository, figures checked by hand against its files ------------------------
def sample(cli: Invoke, tmp_path: Path, *args: str) -> dict[str, Any]:
    result = cli(
        "--repo", str(MAIN), "metrics", "--now", NOW, "--format", "json", *args, cwd=tmp_path
    )
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def test_sample_october_p1(cli: Invoke, tmp_path: Path) -> None:
    """INC-20261014-7VGA: started 08:02, detected 08:04, acked 08:06, engaged 08:11,
    mitigated 08:58, resolved 09:40, tier 2 at 08:35; PIR approved 2026-10-16T11:20Z, 1h40m
    after its 48 h due time (09:40); actions A1, A2 done early, A3 due in January."""
    data = sample(cli, tmp_path, "--from", "2026-10-01", "--to", "2026-10-31")
    p1 = data["by_priority"]["P1"]
    assert data["overall"]["count"] == p1["count"] == 1
    assert [p1[m]["mean"] for m in METRICS] == [120, 120, 420, 3240, 5760, 5880]
    assert data["tiers"]["tier_2"]["count"] == 1
    assert data["pir"]["P1"]["completion"] == 1.0
    assert data["pir"]["P1"]["on_time"] == 0.0
    assert (data["actions"]["met"], data["actions"]["pending"]) == (2, 1)
    assert data["recurrence"]["root_causes"] == []
    assert data["source"]["commit"] == git(MAIN, "rev-parse", "HEAD").strip()


def test_sample_november_p0(cli: Invoke, tmp_path: Path) -> None:
    """INC-20261103-4K7Q: impact 13:52, detected 13:55, acked 13:55:40, resolved 14:52; five
    actions: A1, A2 done on time, A4 due 2026-11-25 still open (overdue), A3, A5 not due."""
    data = sample(cli, tmp_path, "--from", "2026-11-03", "--to", "2026-11-03")
    p0 = data["by_priority"]["P0"]
    assert (p0["mttd"]["mean"], p0["mtta"]["mean"], p0["mttr"]["mean"]) == (180, 40, 3420)
    assert data["sla"]["P0"]["acknowledge"]["met"] == 1
    actions = data["actions"]
    assert (actions["met"], actions["overdue"], actions["pending"]) == (2, 1, 2)
    assert [a["action"] for a in actions["overdue_actions"]] == ["A4"]
    assert actions["on_time"] == 0.6667


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (b"---\nincident: X\nroot_cause: bad-deploy\n---\n", "bad-deploy"),
        (b"---\r\nroot_cause: 'bad-deploy'  # why\r\nstatus: draft\r\n---\r\n", "bad-deploy"),
        (b"---\nroot_cause: null\n---\n", None),
        (b"---\nroot_cause:\n---\n", None),
        (b"---\nwhys:\n  root_cause: nested\n---\n", None),
        (b"---\nincident: X\n---\nroot_cause: in-the-body\n", None),
        (b"---\nroot_cause: Not A Key\n---\n", None),
        (b'---\nroot_cause: "null"\n---\n', "null"),
        (b"---\nroot_cause: no\n---\n", "no"),  # YAML 1.2: `no` is text
        (b"---\nroot_cause: false\n---\n", None),
    ],
)
def test_root_cause_key_as_metrics_read_it(text: bytes, key: str | None) -> None:
    pir = timers.pir_from_front(parse(Path("pir.md"), text).data)
    assert pir.root_cause == key


def test_rate_targets_come_from_the_policy(repo: Path, cli: Invoke) -> None:
    import shutil

    root = Path(__file__).resolve().parents[1]
    for name in ("incidents", "runbooks", "policies"):
        shutil.rmtree(repo / name, ignore_errors=True)
        shutil.copytree(root / name, repo / name)

    def action_target() -> dict[str, Any]:
        out = cli("metrics", "--now", "2026-11-27T16:00:00Z", "--format", "json").out
        (row,) = [r for r in json.loads(out)["targets"] if r["target"] == _ACTIONS]
        return dict(row)

    shipped = action_target()
    assert (shipped["actual"], shipped["limit"], shipped["met"]) == (0.8333, 0.9, False)
    (repo / "policies" / "review.yaml").write_text("targets:\n  action_on_time: 0.8\n")
    assert (action_target()["limit"], action_target()["met"]) == (0.8, True)


_ACTIONS = "Preventive actions done on time"
