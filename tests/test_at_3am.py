"""A whole incident with commands only, as a tired on-call engineer runs it, and the
refusals of the commands responders use during one (assign, hypothesis, link, correct
--event, action done/cancel, identity, unknown services, owners)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from incidentctl.core.documents import parse
from incidentctl.core.model import EventKind, HypothesisResult, Incident, Pir
from tests.conftest import NOW, Invoke, declare, git, incident_file

Run = list[str]


def _model(path: Path) -> Incident:
    return Incident.model_validate(parse(Path("incident.md"), path.read_bytes()).data)


def _pir(path: Path) -> Pir:
    return Pir.model_validate(parse(Path("pir.md"), path.read_bytes()).data)


def _ok(cli: Invoke, *args: str) -> str:
    result = cli(*args)
    assert result.code == 0, (args, result.err)
    return result.out


def _refused(cli: Invoke, *args: str) -> str:
    result = cli(*args)
    assert result.code == 2, (args, result.out, result.err)
    assert "Traceback" not in result.err
    return result.err


def test_a_whole_incident_with_commands_only(repo: Path, cli: Invoke) -> None:
    def at(clock: str, *args: str) -> str:
        return _ok(cli, *args, "--now", f"2026-11-27T{clock}:00Z")

    incident_id = at(
        "14:01", "declare", "--title", "Checkout returns 502", "--impact", "high",
        "--urgency", "medium", "--services", "example-service", "--components",
        "example-service", "--detection", "automated-alert", "--at", "-1m",
    ).strip()  # fmt: skip
    path = incident_file(repo, incident_id)
    assert _model(path).detected_at.isoformat() == "2026-11-27T14:00:00+00:00"
    at("14:03", "assign", incident_id, "--commander", "@alice", "--on-call", "@bob", "--at", "-1m")
    # acknowledged as read off the page: the ID's suffix, in lower case
    at("14:05", "ack", incident_id[-4:].lower(), "--by", "@bob", "--at", "1m ago")
    at("14:07", "triage", incident_id, "--impact", "high", "--urgency", "high", "--at", "-1m")
    at("14:08", "engage", incident_id, "--by", "@bob")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "declared, acknowledged, triaged")
    base = git(repo, "rev-parse", "HEAD").strip()

    at("14:20", "escalate", incident_id, "--tier", "2", "--to", "@example-org/sre", "--at", "-2m")
    at("14:21", "assign", incident_id, "--tech-lead", "@carol", "--comms-lead", "@dave")
    statement = "The connection pool is exhausted"
    at("14:25", "hypothesis", incident_id, "--statement", statement, "--evidence",
       "pool at 100/100", "--test", "raise the pool to 200", "--by", "@carol")  # fmt: skip
    at("14:30", "hypothesis", incident_id, "--statement", statement, "--result", "rejected",
       "--evidence", "502s continue at 200", "--by", "@carol")  # fmt: skip
    at("14:35", "hypothesis", incident_id, "--statement", "The 13:58 deploy broke checkout",
       "--test", "roll back in staging", "--result", "confirmed", "--by", "@carol")  # fmt: skip
    at("14:36", "link", incident_id, "--cause", "https://github.com/example-org/shop/pull/812")
    at("14:37", "update", incident_id, "--message", "We found the cause", "--public")
    at("14:40", "mitigate", incident_id, "--strategy", "rollback", "--note", "back to 2026.11.27-2")
    at("14:41", "update", incident_id, "--message", "Checkout works again", "--public")
    at("14:50", "link", incident_id, "--fix", "3f9c2ab", "--note", "Revert the pool change")
    ack_event = next(
        n for n, e in enumerate(_model(path).timeline, 1) if e.kind == EventKind.ACKNOWLEDGED
    )
    at("14:55", "correct", incident_id, "--field", "acknowledged_at", "--value",
       "2026-11-27T14:03:00Z", "--reason", "Bob acknowledged by phone at 14:03")  # fmt: skip
    at("14:56", "correct", incident_id, "--event", str(ack_event), "--field", "text",
       "--value", "Acknowledged by phone", "--reason", "The ack came by phone")  # fmt: skip
    at("15:00", "resolve", incident_id, "--note", "Error rate back to normal")
    at("15:01", "update", incident_id, "--message", "Resolved", "--public", "--status", "resolved")
    at("15:30", "pir", "new", incident_id, "--facilitator", "@alice")
    at("15:31", "pir", "add-action", incident_id, "--title", "Canary gate for checkout",
       "--owner", "@example-org/sre", "--horizon", "immediate")  # fmt: skip
    at("15:32", "pir", "add-action", incident_id, "--title", "Bigger pool",
       "--owner", "@carol", "--horizon", "short-term")  # fmt: skip
    at("15:40", "action", "done", incident_id, "A1")
    at("15:41", "action", "cancel", incident_id, "A2", "--reason", "The pool was not the cause")
    at("15:45", "close", incident_id, "--note", "Validated by the payments team")

    incident = _model(path)
    assert incident.status.value == "closed"
    assert incident.roles is not None
    assert (incident.roles.incident_commander, incident.roles.technical_lead) == (
        "@alice",
        "@carol",
    )
    assert (incident.roles.communications_lead, incident.roles.on_call) == ("@dave", "@bob")
    assert incident.tier == 2
    assert str(incident.acknowledged_at) == "2026-11-27 14:03:00+00:00"
    assert all(e.by for e in incident.timeline)  # nobody anonymous
    assert incident.reporter == "@tester"
    kinds = [e.kind for e in incident.timeline]
    assert kinds.count(EventKind.HYPOTHESIS) == 3
    assert kinds.count(EventKind.ASSIGNED) == 2
    results = [e.result for e in incident.timeline if e.kind == EventKind.HYPOTHESIS]
    assert results == [
        HypothesisResult.PENDING,
        HypothesisResult.REJECTED,
        HypothesisResult.CONFIRMED,
    ]
    refs = {(e.kind, e.ref) for e in incident.timeline if e.ref}
    assert refs == {
        (EventKind.CAUSE, "https://github.com/example-org/shop/pull/812"),
        (EventKind.FIX, "3f9c2ab"),
    }
    corrections = [(e.field, e.old, e.new) for e in incident.timeline if e.field]
    assert corrections == [
        ("acknowledged_at", "2026-11-27T14:04:00Z", "2026-11-27T14:03:00Z"),
        ("text", "Acknowledged", "Acknowledged by phone"),
    ]
    pir_path = path.parent / "pir.md"
    pir_text = pir_path.read_text(encoding="utf-8")
    investigation = pir_text.split("## Investigation", 1)[1].split("\n## ", 1)[0]
    assert investigation.count(statement) == 1  # one hypothesis, shown with its outcome
    assert "Result: REJECTED" in investigation
    assert "Result: CONFIRMED" in investigation
    assert "pool at 100/100" not in investigation  # the evidence that judged it is shown
    assert "502s continue at 200" in investigation
    assert "https://github.com/example-org/shop/pull/812" in pir_text
    actions = {a.id: a for a in _pir(pir_path).actions}
    assert (actions["A1"].status.value, str(actions["A1"].done_at)) == ("done", "2026-11-27")
    assert (actions["A2"].status.value, actions["A2"].reason) == (
        "cancelled",
        "The pool was not the cause",
    )

    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "mitigated, resolved, reviewed, closed")
    assert _ok(cli, "validate", "--base", base) is not None
    assert _ok(cli, "validate", "--base", "HEAD~2") is not None
    assert _ok(cli, "validate") is not None
    status = git(repo, "status", "--porcelain")
    assert status == "", status  # every write was a command's, and it is all committed


# -- identity ----------------------------------------------------------------------------------


def test_a_write_without_anyone_to_name_is_refused_naming_by(
    repo: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    before = path.read_bytes()
    monkeypatch.delenv("INCIDENTCTL_ACTOR")
    monkeypatch.setenv("HOME", str(repo.parent))  # no global git identity
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    err = _refused(cli, "ack", incident_id, "--now", NOW)
    assert "--by" in err
    assert "INCIDENTCTL_ACTOR" in err
    err = _refused(cli, "declare", "--title", "x", "--impact", "low", "--urgency", "low",
                   "--now", NOW)  # fmt: skip
    assert "--by" in err
    assert path.read_bytes() == before
    assert len(list(repo.glob("incidents/*/*/*/incident.md"))) == 1
    _refused(cli, "ack", incident_id, "--by", " ", "--now", NOW)
    # each source of a name, in order
    _ok(cli, "ack", incident_id, "--by", "@night-owl", "--at", "2026-11-27T15:01:00Z",
        "--now", NOW)  # fmt: skip
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    _ok(cli, "engage", incident_id, "--at", "2026-11-27T15:02:00Z", "--now", NOW)
    monkeypatch.delenv("GITHUB_ACTOR")
    git(repo, "config", "user.email", "sam@example.com")  # an email alone is an identity
    _ok(cli, "update", incident_id, "-m", "looking", "--at", "2026-11-27T15:03:00Z",
        "--now", NOW)  # fmt: skip
    by = [e.by for e in _model(path).timeline]
    assert by[-3:] == ["@night-owl", "@octocat", "sam@example.com"]


# -- assign ------------------------------------------------------------------------------------


def test_assign_refuses_what_reminders_cannot_mention(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    before = path.read_bytes()
    assert "at least one of --commander" in _refused(cli, "assign", incident_id, "--now", NOW)
    err = _refused(cli, "assign", incident_id, "--commander", "alice", "--now", NOW)
    assert "'alice' is not a GitHub handle" in err
    assert "@user" in err
    _ok(cli, "assign", incident_id, "--commander", "@alice", "--dry-run", "--now", NOW)
    assert path.read_bytes() == before
    out = _ok(cli, "assign", incident_id, "--commander", "@alice", "--now", NOW)
    assert "Assigned incident commander @alice" in out
    out = _ok(cli, "assign", incident_id, "--commander", "@erin", "--now", NOW)
    assert "incident commander @erin (was @alice)" in out
    err = _refused(cli, "assign", incident_id, "--commander", "@erin", "--now", NOW)
    assert "nothing to assign" in err
    err = _refused(cli, "declare", "--title", "x", "--impact", "low", "--urgency", "low",
                   "--commander", "alice", "--now", NOW)  # fmt: skip
    assert "@user or an @org/team" in err
    help_text = _ok(cli, "assign", "--help")
    assert "Examples:" in help_text
    assert "--tech-lead" in help_text


def test_reminders_name_the_assigned_roles(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    _ok(cli, "assign", incident_id, "--on-call", "@pager-person", "--now", NOW)
    result = cli("overdue", "--format", "json", "--now", NOW)  # exit 1: something is overdue
    assert result.code == 1, result.err
    assert "@pager-person" in result.out


# -- hypothesis --------------------------------------------------------------------------------


def test_hypothesis_outcomes_refer_to_the_statement(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    _ok(cli, "hypothesis", incident_id, "--statement", "DNS is down", "--now", NOW)
    err = _refused(cli, "hypothesis", incident_id, "--statement", "dns  is DOWN", "--now", NOW)
    assert "already stated" in err
    assert "--result" in err
    _ok(cli, "hypothesis", incident_id, "--statement", "DNS is down", "--result", "REJECTED",
        "--evidence", "dig answers", "--now", NOW)  # fmt: skip
    err = _refused(cli, "hypothesis", incident_id, "--statement", "DNS is down", "--result",
                   "confirmed", "--now", NOW)  # fmt: skip
    assert "already rejected" in err
    assert "correct" in err
    err = _refused(cli, "hypothesis", incident_id, "--statement", "  ", "--now", NOW)
    assert "empty" in err
    _refused(cli, "hypothesis", incident_id, "--statement", "x", "--result", "maybe")
    events = [e for e in _model(path).timeline if e.kind == EventKind.HYPOTHESIS]
    assert [(e.text, e.result) for e in events] == [
        ("DNS is down", HypothesisResult.PENDING),
        ("DNS is down", HypothesisResult.REJECTED),
    ]


# -- link --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    ["3f9c2ab", "0123456789abcdef0123456789abcdef01234567", "#812", "example-org/shop#812",
     "https://github.com/example-org/shop/pull/812",
     "https://gitlab.example.com/group/shop/-/merge_requests/9",
     "https://github.com/example-org/shop/commit/3f9c2ab"],
)  # fmt: skip
def test_link_takes_commits_and_pull_requests(repo: Path, cli: Invoke, ref: str) -> None:
    incident_id = declare(cli)
    _ok(cli, "link", incident_id, "--cause", ref, "--now", NOW)
    (event,) = [e for e in _model(incident_file(repo, incident_id)).timeline if e.ref]
    assert (event.kind, event.ref, event.text) == (EventKind.CAUSE, ref, f"Caused by {ref}")


def test_link_refuses_what_is_not_a_change(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    before = path.read_bytes()
    for ref in ("abc", "the deploy", "https://example.com/", "#0"):
        err = _refused(cli, "link", incident_id, "--fix", ref, "--now", NOW)
        assert "does not name a change" in err
        assert "commit SHA" in err
    assert "exactly one of" in _refused(cli, "link", incident_id, "--now", NOW)
    assert "exactly one of" in _refused(
        cli, "link", incident_id, "--cause", "3f9c2ab", "--fix", "3f9c2ab", "--now", NOW
    )
    assert path.read_bytes() == before
    _ok(cli, "link", incident_id, "--fix", "3f9c2ab", "--now", NOW)
    assert "already linked" in _refused(cli, "link", incident_id, "--fix", "3f9c2ab", "--now", NOW)


def test_the_same_cause_counts_as_a_recurrence(repo: Path, cli: Invoke) -> None:
    first = declare(cli, at="2026-11-20T10:00:00Z")
    second = declare(cli, at="2026-11-27T10:00:00Z")
    for incident_id, at in ((first, "2026-11-20T11:00:00Z"), (second, "2026-11-27T11:00:00Z")):
        _ok(cli, "link", incident_id, "--cause", "example-org/shop#812", "--at", at, "--now", NOW)
    out = _ok(cli, "metrics", "--from", "2026-11-01T00:00:00Z", "--to", NOW, "--format", "json",
              "--now", NOW)  # fmt: skip
    assert '"recurrences": 1' in out, out


# -- correct --event N ------------------------------------------------------------------------


def test_correct_names_an_event_by_its_number(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    _ok(cli, "ack", incident_id, "--at", "2026-11-27T15:05:00Z", "--now", NOW)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "acknowledged")
    _ok(cli, "correct", incident_id, "--event", "2", "--field", "at", "--value",
        "2026-11-27T15:04:00Z", "--reason", "paged at 15:04", "--now", NOW)  # fmt: skip
    incident = _model(path)
    assert str(incident.timeline[1].at) == "2026-11-27 15:04:00+00:00"
    fix = incident.timeline[-1]
    assert (fix.field, fix.old, fix.new) == ("at", "2026-11-27T15:05:00Z", "2026-11-27T15:04:00Z")
    assert str(fix.event) == "2026-11-27 15:05:00+00:00"
    assert _ok(cli, "validate", "--base", "HEAD") is not None
    before = path.read_bytes()
    err = _refused(cli, "correct", incident_id, "--event", "9", "--field", "text", "--value",
                   "x", "--reason", "r", "--now", NOW)  # fmt: skip
    assert "no timeline event 9" in err
    assert "1 to 3" in err
    err = _refused(cli, "correct", incident_id, "--event", "yesterday", "--field", "text",
                   "--value", "x", "--reason", "r", "--now", NOW)  # fmt: skip
    assert "number N" in err
    assert path.read_bytes() == before


# -- action done / cancel ---------------------------------------------------------------------


def _with_actions(repo: Path, cli: Invoke) -> tuple[str, Path]:
    incident_id = declare(cli)
    _ok(cli, "resolve", incident_id, "--at", "2026-11-27T15:30:00Z", "--now", NOW)
    _ok(cli, "pir", "new", incident_id, "--now", NOW)
    for title in ("Canary gate", "Bigger pool"):
        _ok(cli, "pir", "add-action", incident_id, "--title", title, "--owner", "@sre",
            "--horizon", "immediate", "--now", NOW)  # fmt: skip
    return incident_id, incident_file(repo, incident_id).parent / "pir.md"


def test_action_done_and_cancel_edit_only_that_action(repo: Path, cli: Invoke) -> None:
    incident_id, path = _with_actions(repo, cli)
    before = path.read_text(encoding="utf-8")
    _ok(cli, "action", "done", incident_id, "a1", "--dry-run", "--now", NOW)
    assert path.read_text(encoding="utf-8") == before
    err = _refused(cli, "action", "done", incident_id, "A1", "--at", "2026-11-26", "--now", NOW)
    assert "before the incident" in err
    out = _ok(cli, "action", "done", incident_id, "a1", "--at", "2026-11-27", "--now", NOW)
    assert "A1: done on 2026-11-27" in out
    diff = list(difflib.ndiff(before.splitlines(), path.read_text(encoding="utf-8").splitlines()))
    removed = [line[2:] for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ")]
    assert (removed, added) == (
        ["    status: open"],
        ["    status: done", "    done_at: 2026-11-27", "    by: '@tester'"],
    )
    pir = _pir(path)
    assert (pir.actions[0].status.value, str(pir.actions[0].done_at)) == ("done", "2026-11-27")
    assert pir.actions[1].status.value == "open"
    err = _refused(cli, "action", "cancel", incident_id, "A2", "--now", NOW)
    assert "--reason" in err
    err = _refused(cli, "action", "cancel", incident_id, "A2", "--reason", " ", "--now", NOW)
    assert "say why" in err
    _ok(cli, "action", "cancel", incident_id, "A2", "--reason", "not needed", "--now", NOW)
    assert _pir(path).actions[1].reason == "not needed"
    err = _refused(cli, "action", "done", incident_id, "A2", "--now", NOW)
    assert "already cancelled" in err
    err = _refused(cli, "action", "done", incident_id, "A9", "--now", NOW)
    assert "no action 'A9'" in err
    assert "A1, A2" in err
    err = _refused(cli, "action", "done", incident_id, "A1", "--at", "2026-12-25", "--now", NOW)
    assert "in the future" in err
    assert _ok(cli, "validate") is not None


def test_pir_actions_need_an_owner_reminders_can_mention(repo: Path, cli: Invoke) -> None:
    incident_id, path = _with_actions(repo, cli)
    before = path.read_bytes()
    for owner in ("alice", "alice@example.com", "@", "@org/"):
        err = _refused(cli, "pir", "add-action", incident_id, "--title", "x", "--owner", owner,
                       "--horizon", "immediate", "--now", NOW)  # fmt: skip
        assert "@user or an @org/team" in err
    assert path.read_bytes() == before


# -- unknown services and components ------------------------------------------------------


def test_declare_refuses_unknown_services_with_a_suggestion(repo: Path, cli: Invoke) -> None:
    base = ("declare", "--title", "Checkout down", "--impact", "high", "--urgency", "high",
            "--now", NOW)  # fmt: skip
    err = _refused(cli, *base, "--services", "example-servce")
    assert "unknown service 'example-servce'" in err
    assert "did you mean 'example-service'" in err
    err = _refused(cli, *base, "--components", "exmple-service")
    assert "unknown component" in err
    assert "did you mean 'example-service'" in err
    assert not list(repo.glob("incidents/*/*/*/incident.md"))
    incident_id = _ok(cli, *base, "--services", "checkout-api", "--allow-unknown").strip()
    assert _model(incident_file(repo, incident_id)).services == ["checkout-api"]


def test_triage_refuses_unknown_services_and_replaces_them(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    triage = ("triage", incident_id, "--impact", "high", "--urgency", "high", "--now", NOW)
    err = _refused(cli, *triage, "--services", "exampel-service")
    assert "did you mean 'example-service'" in err
    assert "--allow-unknown" in err
    _ok(cli, *triage, "--components", "example-service")
    assert _model(path).components == ["example-service"]
