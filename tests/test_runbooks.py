"""Runbooks: `runbook new/tested/link/list`, and the checks `validate` runs on them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from incidentctl.core.documents import parse
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import DrillResult, Runbook
from incidentctl.core.timevalues import parse_timestamp
from incidentctl.runbooks.runbook import check_runbook, record_drill
from incidentctl.store.repo import Repo
from tests.conftest import NOW, Invoke, declare, incident_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "runbooks/example-service-5xx.md"

NEW_ARGS = (
    "runbook",
    "new",
    "redis-evictions",
    "--title",
    "Redis evicts session keys",
    "--owner",
    "@org/platform",
    "--services",
    "example-service",
)

GOLDEN = """\
---
title: Redis evicts session keys
owner: '@org/platform'
services: [example-service]
# last_tested and drills: written by `incidentctl runbook tested redis-evictions` after each
# drill (only a drill that passed moves last_tested). Untested for longer than
# 90d is a finding.
last_tested: null
# The alerts and reports that lead here, one per item (searchable by the on-call engineer).
symptoms: []
---
# Redis evicts session keys

TODO: when to use this runbook: what is broken, for whom, and the usual priority
(impact x urgency). Link related runbooks.

## Symptoms

TODO: the alerts that fire (name and threshold), the dashboards that show it, and
what users and support report.

## Diagnosis

TODO: numbered steps, most likely cause first, each with the exact command or
query to run and how to read its output. Stop at the first step that explains the symptoms.

## Mitigation

TODO: the options, fastest safe one first, each with its commands, who may
approve it and how long it takes; then how to verify it worked. Record the choice with
`incidentctl mitigate INC-... --strategy ...`.

## Escalation

| service | level | primary | backup |
|---|---|---|---|
| example-service | tier-2 | @example-org/sre | @example-org/platform |
| example-service | tier-3 | @example-org/architects | @example-org/platform |

TODO: when to escalate (after which step, or how long) and to whom beyond the
tiers above (vendors, providers), e.g. `incidentctl escalate INC-... --tier 2`.

## Prevention

TODO: the alerts, tests and safeguards that would catch this earlier, and how
often to drill this runbook; record each drill with `incidentctl runbook tested redis-evictions`.
"""

HAND_WRITTEN = (
    """\
---
# Owned by payments; ask in #payments before editing.
title: "Checkout: 5xx on /pay"   # quoted on purpose
owner: '@org/payments'
services:
  - example-service   # the only one
last_tested: 2026-11-12  # last game day
symptoms: [Alert CheckoutErrors, "Users see 'Something went wrong'"]
drills:
    -   at: 2026-11-12
        result: passed   # odd indentation, still valid
# closing comment
---
# Checkout: 5xx on /pay

## Symptoms
- `CheckoutErrors` fires.

## Diagnosis
1. Check the last deploy:
   ```bash
   kubectl rollout history deployment/checkout
   ## not a heading: inside a code block
   ```

## Mitigation
Roll back.

## Escalation
Tier 2: @org/payments.

## Prevention
"""
    + "Canary releases, trailing spaces   \nand no final newline"
)


def _write(repo: Path, text: str, name: str = "checkout-5xx") -> Path:
    path = repo / "runbooks" / f"{name}.md"
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _findings(cli: Invoke, path: str | None = None) -> list[dict[str, object]]:
    result = cli("validate", "--format", "json")
    assert result.code in (0, 1), result.err
    found: list[dict[str, object]] = json.loads(result.out)["findings"]
    return [f for f in found if path is None or f["path"] == path]


def _brief(findings: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(f["line"], f["rule"], f["severity"], f["message"]) for f in findings]


# -- runbook new -------------------------------------------------------------------------


def test_new_writes_the_template_golden(repo: Path, cli: Invoke) -> None:
    result = cli(*NEW_ARGS)
    assert result.code == 0, result.err
    assert result.out == "runbooks/redis-evictions.md\n"
    assert (repo / "runbooks/redis-evictions.md").read_text(encoding="utf-8") == GOLDEN
    assert "then drill it and run `incidentctl runbook tested redis-evictions`" in result.err


def test_new_runbook_is_flagged_until_every_placeholder_is_replaced(
    repo: Path, cli: Invoke
) -> None:
    cli(*NEW_ARGS)
    rel = "runbooks/redis-evictions.md"
    found = _findings(cli, rel)
    assert [(f["line"], f["rule"], f["severity"]) for f in found] == [
        (line, "runbook-placeholder", "error") for line in (14, 19, 24, 29, 40, 45)
    ]
    assert found[1]["message"] == (
        "placeholder left in '## Symptoms': TODO: the alerts that fire (name and threshold), "
        "the dash..."
    )
    path = repo / rel
    path.write_text(path.read_text().replace("TODO: ", "Filled in: "), encoding="utf-8")
    assert _findings(cli, rel) == []
    assert cli("validate").code == 0


def test_new_refuses_to_overwrite(repo: Path, cli: Invoke) -> None:
    before = (repo / EXAMPLE).read_bytes()
    result = cli(*NEW_ARGS[:2], "example-service-5xx", *NEW_ARGS[3:])
    assert result.code == 2
    assert result.err == (
        "error: runbooks/example-service-5xx.md already exists\n  hint: edit it instead\n"
    )
    assert (repo / EXAMPLE).read_bytes() == before


@pytest.mark.parametrize(
    "name", ["../evil", "sub/dir", "Checkout-5xx", "dash-", "a b", ".hidden", "x.md", "readme"]
)
def test_new_refuses_a_name_that_is_not_a_slug(repo: Path, cli: Invoke, name: str) -> None:
    result = cli(*NEW_ARGS[:2], name, *NEW_ARGS[3:])
    assert result.code == 2
    assert result.err.startswith(f"error: {name!r} is not a valid runbook name\n  hint: ")
    assert sorted(p.name for p in (repo / "runbooks").iterdir()) == ["example-service-5xx.md"]
    assert not (repo.parent / "evil.md").exists()


def test_new_refuses_an_unknown_service_with_a_suggestion(repo: Path, cli: Invoke) -> None:
    result = cli(*NEW_ARGS[:-1], "example-servce")
    assert result.code == 2
    assert result.err == (
        "error: unknown service 'example-servce'\n  hint: did you mean 'example-service'?\n"
    )
    assert not (repo / "runbooks/redis-evictions.md").exists()


def test_new_without_services_is_a_usage_error(repo: Path, cli: Invoke) -> None:
    result = cli("runbook", "new", "x", "--title", "T", "--owner", "@o")
    assert result.code == 2
    assert "--services is required" in result.err


def test_new_from_incident_prefills_and_links(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli, "--user-impact", "Every payment fails with HTTP 502")
    path = incident_file(repo, incident_id)
    before = path.read_text(encoding="utf-8")
    result = cli("runbook", "new", "checkout-502", "--from-incident", incident_id)
    assert result.code == 0, result.err
    assert result.out == "runbooks/checkout-502.md\n"
    assert "owner: @example-org/sre (tier-2 contact of example-service)" in result.err
    assert f"linked from {incident_id}" in result.err
    doc = parse(Path("x.md"), (repo / "runbooks/checkout-502.md").read_bytes())
    book = Runbook.model_validate(doc.data)
    assert book.title == "Checkout returns 502"
    assert book.owner == "@example-org/sre"
    assert book.services == ["example-service"]
    assert book.symptoms == ["Every payment fails with HTTP 502", "Checkout returns 502"]
    rel = path.relative_to(repo).as_posix()
    assert f"Written after [{incident_id}](../{rel}) (P0): Checkout returns 502.\n" in doc.body
    assert "## Symptoms\n\n- Every payment fails with HTTP 502\n- Checkout returns 502\n\n" in (
        doc.body
    )
    # the incident's `runbooks:` list is the link; nothing else in the file changed
    assert path.read_text(encoding="utf-8") == before.replace(
        "runbooks: []\n", "runbooks:\n  - checkout-502\n"
    )
    assert Repo(repo).find(incident_id).incident.runbooks == ["checkout-502"]
    rules = {f["rule"] for f in _findings(cli)}
    assert rules == {"runbook-placeholder"}  # the link resolves: no "reference" finding


def test_new_dry_run_writes_nothing(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    before = path.read_bytes()
    result = cli("runbook", "new", "checkout-502", "--from-incident", incident_id, "--dry-run")
    assert result.code == 0, result.err
    assert "+++ b/runbooks/checkout-502.md\n" in result.out
    assert "+title: Checkout returns 502\n" in result.out
    assert f"+++ b/{path.relative_to(repo).as_posix()}\n" in result.out
    assert "+  - checkout-502\n" in result.out
    assert "(dry run: nothing written)" in result.err
    assert not (repo / "runbooks/checkout-502.md").exists()
    assert path.read_bytes() == before


def test_new_uses_the_repository_template(repo: Path, cli: Invoke) -> None:
    (repo / "templates").mkdir()
    (repo / "templates/runbook.md.j2").write_text(
        "---\ntitle: {{ title|yaml }}\nowner: {{ owner|yaml }}\n"
        "services: [{{ services|join(', ') }}]\n---\n# {{ title }}\n\nOur own layout.\n",
        encoding="utf-8",
    )
    assert cli(*NEW_ARGS).code == 0
    text = (repo / "runbooks/redis-evictions.md").read_text(encoding="utf-8")
    assert text.endswith("# Redis evicts session keys\n\nOur own layout.\n")
    assert _brief(_findings(cli, "runbooks/redis-evictions.md"))[0] == (
        8,
        "runbook-section",
        "error",
        "section '## Symptoms' is missing",
    )


# -- runbook tested ----------------------------------------------------------------------


def test_tested_sets_last_tested_and_appends_a_drill_keeping_every_byte(
    repo: Path, cli: Invoke
) -> None:
    path = _write(repo, HAND_WRITTEN)
    result = cli(
        "runbook",
        "tested",
        "checkout-5xx",
        "--at",
        "2026-11-20T10:00:00Z",
        "--by",
        "@alice",
        "--note",
        "game day: 12 min",
        "--now",
        NOW,
    )
    assert result.code == 0, result.err
    assert result.out == (
        "checkout-5xx: drill passed on 2026-11-20T10:00:00Z recorded in runbooks/checkout-5xx.md\n"
        "  last_tested: 2026-11-12 -> 2026-11-20\n"
    )
    assert "next drill due by 2027-02-19" in result.err
    expected = HAND_WRITTEN.replace(
        "last_tested: 2026-11-12  # last game day\n", "last_tested: 2026-11-20  # last game day\n"
    ).replace(
        "        result: passed   # odd indentation, still valid\n",
        "        result: passed   # odd indentation, still valid\n"
        "    - at: 2026-11-20T10:00:00Z\n"
        "      by: '@alice'\n"
        "      result: passed\n"
        "      note: 'game day: 12 min'\n",
    )
    assert path.read_text(encoding="utf-8") == expected
    assert _findings(cli, "runbooks/checkout-5xx.md") == []


def test_tested_on_a_runbook_without_drills_adds_both_keys(repo: Path, cli: Invoke) -> None:
    path = repo / EXAMPLE
    before = path.read_text(encoding="utf-8")
    result = cli("runbook", "tested", "example-service-5xx", "--at", "2026-11-20", "--now", NOW)
    assert result.code == 0, result.err
    assert path.read_text(encoding="utf-8") == before.replace(
        "last_tested: null\n",
        "last_tested: 2026-11-20\n",
    ).replace(
        "  - Health check failing on more than one instance\n",
        "  - Health check failing on more than one instance\n"
        "drills:\n"
        "  - at: 2026-11-20\n"
        "    by: '@tester'\n"
        "    result: passed\n",
    )
    overdue = json.loads(cli("overdue", "--now", NOW, "--format", "json").out)
    assert [f["rule"] for f in overdue["findings"]] == []


def test_tested_keeps_bom_and_crlf(repo: Path, cli: Invoke) -> None:
    path = repo / "runbooks/checkout-5xx.md"
    path.write_bytes(b"\xef\xbb\xbf" + HAND_WRITTEN.replace("\n", "\r\n").encode("utf-8"))
    assert cli("runbook", "tested", "checkout-5xx", "--now", NOW).code == 0
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf---\r\n# Owned by payments")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"last_tested: 2026-11-27  # last game day\r\n" in raw
    assert raw.endswith(b"trailing spaces   \r\nand no final newline")


def test_failed_drill_is_recorded_but_does_not_move_last_tested(repo: Path, cli: Invoke) -> None:
    path = _write(repo, HAND_WRITTEN)
    result = cli(
        "runbook",
        "tested",
        "checkout-5xx",
        "--result",
        "failed",
        "--note",
        "rollback script missing",
        "--now",
        NOW,
    )
    assert result.code == 0, result.err
    assert "last_tested stays 2026-11-12: only a drill that passed counts" in result.err
    _, book = Repo(repo).runbooks.find("checkout-5xx")
    assert book.last_tested == date(2026, 11, 12)
    assert [(d.result, d.note) for d in book.drills] == [
        (DrillResult.PASSED, None),
        (DrillResult.FAILED, "rollback script missing"),
    ]
    assert "last_tested: 2026-11-12  # last game day\n" in path.read_text(encoding="utf-8")


def test_tested_refuses_to_move_last_tested_backwards(repo: Path, cli: Invoke) -> None:
    path = _write(repo, HAND_WRITTEN)
    before = path.read_bytes()
    result = cli("runbook", "tested", "checkout-5xx", "--at", "2026-11-01", "--now", NOW)
    assert result.code == 2
    assert result.err == (
        "error: runbook checkout-5xx was last tested on 2026-11-12; a drill that passed on "
        "2026-11-01 would move last_tested backwards\n"
        "  hint: check --at; an older drill that did not pass can be recorded with "
        "--result failed or partial\n"
    )
    assert path.read_bytes() == before


def test_tested_refuses_a_future_time(repo: Path, cli: Invoke) -> None:
    result = cli(
        "runbook", "tested", "example-service-5xx", "--at", "2026-11-28T09:00:00Z", "--now", NOW
    )
    assert result.code == 2
    assert "is in the future (now is 2026-11-27T16:00:00Z)" in result.err


def test_tested_unknown_runbook_suggests_the_closest(repo: Path, cli: Invoke) -> None:
    result = cli("runbook", "tested", "example-service-5yx", "--now", NOW)
    assert result.code == 2
    assert result.err == (
        "error: no runbook 'example-service-5yx' in runbooks/\n"
        "  hint: did you mean 'example-service-5xx'?\n"
    )
    result = cli("runbook", "tested", "../policies/sla", "--now", NOW)
    assert result.code == 2
    assert result.err.startswith("error: no runbook '../policies/sla' in runbooks/\n")


def test_tested_refuses_a_passed_drill_of_a_runbook_with_placeholders(
    repo: Path, cli: Invoke
) -> None:
    text = HAND_WRITTEN.replace("## Diagnosis\n", "## Diagnosis\nTODO: how to tell\n", 1)
    assert text != HAND_WRITTEN
    path = _write(repo, text)
    result = cli("runbook", "tested", "checkout-5xx", "--by", "@alice", "--now", NOW)
    assert result.code == 2
    line = text.split("\n").index("TODO: how to tell") + 1
    assert result.err.startswith(
        f"error: runbooks/checkout-5xx.md:{line}: runbook checkout-5xx still has TODO "
        "placeholders (placeholder left in '## Diagnosis': TODO: how to tell)"
    ), result.err
    assert "incidentctl validate lists every TODO" in result.err
    assert path.read_text(encoding="utf-8") == text
    # a drill that found the gap is still recorded
    failed = cli("runbook", "tested", "checkout-5xx", "--by", "@a", "--result", "failed",
                 "--now", NOW)  # fmt: skip
    assert failed.code == 0, failed.err
    # and once the TODO is written, a passed drill is
    _write(repo, text.replace("TODO: how to tell\n", "Check the 5xx dashboard.\n"))
    assert cli("runbook", "tested", "checkout-5xx", "--by", "@a", "--now", NOW).code == 0


def test_tested_dry_run_shows_the_diff_and_writes_nothing(repo: Path, cli: Invoke) -> None:
    before = (repo / EXAMPLE).read_bytes()
    result = cli("runbook", "tested", "example-service-5xx", "--dry-run", "--now", NOW)
    assert result.code == 0, result.err
    assert "-last_tested: null\n+last_tested: 2026-11-27\n" in result.out
    assert "+  - at: 2026-11-27T16:00:00Z\n" in result.out
    assert (repo / EXAMPLE).read_bytes() == before


def _book(**kw: object) -> Runbook:
    return Runbook.model_validate({"title": "t", "owner": "@o", "services": ["s"], **kw})


def test_record_drill_rules() -> None:
    now = parse_timestamp(NOW)
    book = _book(last_tested="2026-11-12")

    def drill(at: str, result: DrillResult = DrillResult.PASSED) -> Runbook:
        moment = date.fromisoformat(at) if len(at) == 10 else parse_timestamp(at)
        return record_drill(book, name="b", at=moment, now=now, by="@a", result=result, note=None)

    assert drill("2026-11-12").last_tested == date(2026, 11, 12)  # same day: fine
    assert drill("2026-11-20", DrillResult.PARTIAL).last_tested == date(2026, 11, 12)
    assert drill("2026-11-01", DrillResult.FAILED).drills[-1].result == DrillResult.FAILED
    assert drill("2026-11-27T16:04:00Z").last_tested == date(2026, 11, 27)  # clock drift
    with pytest.raises(IncidentctlError, match="in the future"):
        drill("2026-11-27T16:06:00Z")
    book = drill("2026-11-20T10:00:00.750Z")
    assert book.drills[-1].at == parse_timestamp("2026-11-20T10:00:00Z")  # as stored
    with pytest.raises(IncidentctlError, match="drills are recorded in time order"):
        drill("2026-11-19", DrillResult.FAILED)


# -- runbook link and list ---------------------------------------------------------------


def test_link_adds_the_runbook_to_the_incident_once(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    result = cli("runbook", "link", "example-service-5xx", incident_id)
    assert result.code == 0, result.err
    assert result.out == f"{incident_id} -> runbooks/example-service-5xx.md\n"
    assert Repo(repo).find(incident_id).incident.runbooks == ["example-service-5xx"]
    again = cli("runbook", "link", "example-service-5xx", incident_id)
    assert again.out == f"{incident_id} already links to example-service-5xx\n"
    missing = cli("runbook", "link", "example-srvice-5xx", incident_id)
    assert missing.code == 2
    assert "did you mean 'example-service-5xx'?" in missing.err


def test_list_shows_staleness_and_linked_incidents(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    cli("runbook", "link", "example-service-5xx", incident_id)
    _write(repo, HAND_WRITTEN.replace("2026-11-12", "2026-08-01"))
    result = cli("runbook", "list", "--now", NOW)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "NAME                 OWNER             LAST TESTED  AGE   STATE         INCIDENTS"
        "   SERVICES",
        "checkout-5xx         @org/payments     2026-08-01   118d  stale         0"
        "           example-service",
        "example-service-5xx  @example-org/sre  never        -     never tested  1 (1 open)"
        "  example-service",
    ]
    assert result.err == "2 runbook(s): 1 stale, 1 never tested as of 2026-11-27\n"
    data = json.loads(cli("runbook", "list", "--now", NOW, "--format", "json").out)
    first = data["runbooks"][0]
    assert first["name"] == "checkout-5xx"
    assert (first["state"], first["stale"], first["age_days"]) == ("stale", True, 118)
    assert first["due"] == "2026-10-31T00:00:00Z"
    assert data["runbooks"][1]["incidents"] == [incident_id]
    assert data["runbooks"][1]["open_incidents"] == [incident_id]
    fresh = cli("runbook", "list", "--now", "2026-08-15T00:00:00Z", "--format", "json")
    assert json.loads(fresh.out)["runbooks"][0]["state"] == "ok"
    only = json.loads(
        cli("runbook", "list", "--service", "nope", "--format", "json", "--now", NOW).out
    )
    assert only["runbooks"] == []


def test_every_runbook_command_has_examples(cli: Invoke) -> None:
    for command in ("new", "tested", "link", "list"):
        result = cli("runbook", command, "--help")
        assert result.code == 0
        assert "Examples:\n    incidentctl runbook " + command in result.out


# -- checks through validate -------------------------------------------------------------


def test_hand_written_runbook_is_valid(repo: Path, cli: Invoke) -> None:
    _write(repo, HAND_WRITTEN)
    assert _findings(cli) == []
    assert cli("validate").code == 0


def test_missing_and_empty_sections(repo: Path, cli: Invoke) -> None:
    text = HAND_WRITTEN.replace("## Diagnosis\n", "## Notes\n").replace(
        "## Escalation\nTier 2: @org/payments.\n", "## ESCALATION:\n<!-- who to call -->\n\n"
    )
    _write(repo, text)
    result = cli("validate")
    assert result.code == 1
    assert _brief(_findings(cli)) == [
        (26, "runbook-section", "error", "section '## Diagnosis' is missing"),
        (29, "runbook-section", "error", "section '## Escalation' is empty"),
    ]
    assert (
        "runbooks/checkout-5xx.md:26: error: [runbook-section] section '## Diagnosis' is "
        "missing\n  hint: a runbook has the sections ## Symptoms, ## Diagnosis, ## Mitigation, "
        "## Escalation and ## Prevention; `incidentctl runbook new` writes them\n"
    ) in result.out


def test_runbook_without_a_body_misses_every_section(repo: Path, cli: Invoke) -> None:
    _write(repo, HAND_WRITTEN[: HAND_WRITTEN.index("# Checkout: 5xx on /pay\n")])
    found = _brief(_findings(cli))
    assert [f[0] for f in found] == [13] * 5  # the closing fence
    assert [f[3] for f in found][:2] == [
        "section '## Symptoms' is missing",
        "section '## Diagnosis' is missing",
    ]


def test_a_repeated_section_is_a_warning(repo: Path, cli: Invoke) -> None:
    _write(
        repo, HAND_WRITTEN.replace("## Escalation\n", "## Diagnosis, again\nx\n\n## Escalation\n")
    )
    assert _brief(_findings(cli)) == [
        (
            29,
            "runbook-section",
            "warning",
            "section '## Diagnosis, again' repeats '## Diagnosis' (line 19); only the first is "
            "checked",
        )
    ]


def test_a_heading_inside_a_code_block_is_not_a_section(repo: Path, cli: Invoke) -> None:
    text = HAND_WRITTEN.replace("## Prevention\n", "```\n## Prevention\n```\n")
    _write(repo, text)
    assert _brief(_findings(cli)) == [
        (36, "runbook-section", "error", "section '## Prevention' is missing"),
    ]


def test_a_heading_inside_a_four_backtick_fence_is_code(repo: Path, cli: Invoke) -> None:
    """A ``` line inside a ```` fence does not close it: no `## Inside fence` section, and
    the template text quoted in the fence is not a placeholder."""
    quoted = "````markdown\n```\n## Inside fence\nTODO: quoted from the template\n```\n````\n"
    _write(repo, HAND_WRITTEN.replace("## Mitigation\nRoll back.\n", f"## Mitigation\n{quoted}"))
    assert _findings(cli) == []


def test_placeholders_in_body_and_symptoms(repo: Path, cli: Invoke) -> None:
    text = HAND_WRITTEN.replace("Roll back.\n", "Roll back.\n- TODO: add the commands\n").replace(
        "[Alert CheckoutErrors,", "[TODO name the alert,"
    )
    text = text.replace("1. Check the last deploy:", "1. Check the last deploy (`grep TODO`):")
    _write(repo, text)
    assert _brief(_findings(cli)) == [
        (8, "runbook-placeholder", "error", "placeholder left in symptoms: TODO name the alert"),
        (
            28,
            "runbook-placeholder",
            "error",
            "placeholder left in '## Mitigation': - TODO: add the commands",
        ),
    ]


def test_unknown_service_and_owner_that_is_not_a_handle(repo: Path, cli: Invoke) -> None:
    text = HAND_WRITTEN.replace("  - example-service   # the only one\n", "  - example-servise\n")
    _write(repo, text.replace("owner: '@org/payments'", "owner: payments team"))
    result = cli("validate", "--format", "json")
    assert result.code == 1
    found = json.loads(result.out)["findings"]
    assert [(f["line"], f["field"], f["severity"], f["message"], f["hint"]) for f in found] == [
        (
            4,
            "owner",
            "warning",
            "owner 'payments team' is not a GitHub user or team",
            "write @user or @org/team so reminders can mention the owner",
        ),
        (
            6,
            "services[0]",
            "error",
            "unknown service 'example-servise'",
            "did you mean 'example-service'?",
        ),
    ]


def test_owner_warning_alone_does_not_fail_validate(repo: Path, cli: Invoke) -> None:
    _write(repo, HAND_WRITTEN.replace("owner: '@org/payments'", "owner: payments@example.com"))
    result = cli("validate")
    assert result.code == 0
    assert "[runbook-reference] owner: owner 'payments@example.com' is not a GitHub" in result.out


def test_services_are_not_checked_when_the_policy_lists_none(repo: Path, cli: Invoke) -> None:
    (repo / "policies/components.yaml").write_text("components: []\n", encoding="utf-8")
    _write(repo, HAND_WRITTEN.replace("example-service   #", "anything-goes   #"))
    assert _findings(cli, "runbooks/checkout-5xx.md") == []


def test_last_tested_behind_a_passed_drill_is_a_warning(repo: Path, cli: Invoke) -> None:
    _write(repo, HAND_WRITTEN.replace("last_tested: 2026-11-12", "last_tested: 2026-10-01"))
    assert _brief(_findings(cli)) == [
        (
            7,
            "runbook-drill",
            "warning",
            "last_tested is 2026-10-01 but a drill passed on 2026-11-12",
        )
    ]


def test_schema_errors_in_a_runbook_are_located(repo: Path, cli: Invoke) -> None:
    _write(repo, HAND_WRITTEN.replace("        result: passed", "        result: skipped"))
    found = _findings(cli)
    assert [(f["line"], f["rule"], f["field"]) for f in found] == [
        (11, "schema", "drills[0].result")
    ]


def test_sample_runbooks_pass_every_check() -> None:
    store = Repo(ROOT)
    known = store.policy().known_services()
    paths = store.runbooks.files()
    assert [p.name for p in paths] == [
        "checkout-5xx.md",
        "database-failover.md",
        "notification-backlog.md",
    ]
    for path in paths:
        doc, book = store.runbooks.load(path)
        assert check_runbook(doc, book, known_services=known) == [], path


def test_scaffolded_example_runbook_passes_every_check(repo: Path, cli: Invoke) -> None:
    assert _findings(cli) == []
