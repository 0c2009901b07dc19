"""The results cache makes validate and overdue faster, never different: a file that did not
change (nor the policies, nor the tool) is not parsed again; anything else is."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import NOW, Invoke, declare, incident_file


def _documents(seen: list[str]) -> list[str]:
    return [p for p in seen if p.endswith(("incident.md", "pir.md"))]


def _cache_file() -> Path:
    (found,) = Path(os.environ["INCIDENTCTL_CACHE_DIR"]).glob("*.json")
    return found


def test_unchanged_files_are_not_parsed_again(
    samples: Path, cli: Invoke, yaml_parses: list[str]
) -> None:
    first = cli("validate", "--format", "json")
    assert _documents(yaml_parses)
    yaml_parses.clear()
    again = cli("validate", "--format", "json")
    assert _documents(yaml_parses) == []  # every incident and PIR came from the cache
    assert (again.code, again.out) == (first.code, first.out)


def test_an_edited_file_is_parsed_afresh(repo: Path, cli: Invoke, yaml_parses: list[str]) -> None:
    incident_id = declare(cli)
    assert cli("validate").code == 0
    path = incident_file(repo, incident_id)
    path.write_text(path.read_text().replace("urgency: high", "urgency: hgh"))
    yaml_parses.clear()
    result = cli("validate")
    assert result.code == 1
    assert "urgency" in result.out
    assert _documents(yaml_parses) == [str(path.relative_to(repo))]
    yaml_parses.clear()
    assert cli("validate").out == result.out  # its findings cached too
    assert _documents(yaml_parses) == []


def test_a_policy_change_checks_every_file_again(
    samples: Path, cli: Invoke, yaml_parses: list[str]
) -> None:
    assert cli("validate").code == 0
    components = samples / "policies" / "components.yaml"
    components.write_text(components.read_text() + "\n# a comment changes the bytes\n")
    yaml_parses.clear()
    assert cli("validate").code == 0
    assert len(_documents(yaml_parses)) == len(list(samples.glob("incidents/*/*/*/*.md")))


def test_a_new_policy_file_counts_without_being_named(
    samples: Path, cli: Invoke, yaml_parses: list[str]
) -> None:
    assert cli("validate").code == 0
    (samples / "policies" / "future.yaml").write_text("# a policy file a later release reads\n")
    yaml_parses.clear()
    cli("validate")
    assert _documents(yaml_parses)


@pytest.mark.parametrize(
    "damage",
    [
        "{not json",
        '{"format": 3, "tool": "another", "root": "/", "results": {}}',
        "[]",
    ],
)
def test_a_damaged_or_foreign_cache_is_ignored(
    repo: Path, cli: Invoke, yaml_parses: list[str], damage: str
) -> None:
    declare(cli)
    assert cli("validate").code == 0
    _cache_file().write_text(damage)
    yaml_parses.clear()
    assert cli("validate").code == 0  # ignored, and rewritten
    assert len(_documents(yaml_parses)) == 1
    yaml_parses.clear()
    assert cli("validate").code == 0
    assert _documents(yaml_parses) == []


def test_a_tampered_entry_is_never_trusted(repo: Path, cli: Invoke) -> None:
    """An entry of the wrong shape is a miss: the file is checked again."""
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    path.write_text(path.read_text().replace("urgency: high", "urgency: hgh"))
    bad = cli("validate")
    assert bad.code == 1
    cache = _cache_file()
    stored = json.loads(cache.read_text())
    for entry in stored["results"].values():
        entry[1] = {"id": incident_id, "findings": [{"path": "x", "line": "1"}]}
    cache.write_text(json.dumps(stored))
    assert cli("validate").out == bad.out


def test_settled_incidents_cost_nothing_in_overdue(
    repo: Path, cli: Invoke, yaml_parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A closed P3 (no review owed) is settled from its closing on: the second run does not
    parse it; an earlier `--now`, before it closed, judges it in full again."""
    settled = declare(cli, "--impact", "low", "--urgency", "low", at="2026-11-27T09:00:00Z")
    for command in ("resolve", "close"):
        assert cli(command, settled, "--at", "2026-11-27T10:00:00Z", "--now", NOW).code == 0
    live = declare(cli)
    first = cli("overdue", "--now", NOW, "--format", "json")
    assert live in first.out
    yaml_parses.clear()
    again = cli("overdue", "--now", NOW, "--format", "json")
    assert (again.code, again.out, again.err) == (first.code, first.out, first.err)
    assert _documents(yaml_parses) == [str(incident_file(repo, live).relative_to(repo))]
    yaml_parses.clear()
    before = cli("overdue", "--now", "2026-11-27T09:30:00Z", "--format", "json")
    assert len(_documents(yaml_parses)) == 2  # not yet closed then: judged in full
    monkeypatch.setenv("INCIDENTCTL_CACHE", "off")
    assert cli("overdue", "--now", "2026-11-27T09:30:00Z", "--format", "json").out == before.out


def test_without_a_cache_settled_incidents_are_never_validated(
    repo: Path,
    cli: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    yaml_parses: list[str],
    models_built: list[str],
) -> None:
    """A fresh checkout (cache off): `overdue` reads the few lines of a settled incident
    that tell (`documents.top_level`), neither parses it in full nor builds its model, and
    says exactly what it says when every incident is judged in full; at a `--now` before
    the closing it is judged in full."""
    from incidentctl.deadlines import timers

    monkeypatch.setenv("INCIDENTCTL_CACHE", "off")
    settled = declare(cli, "--impact", "low", "--urgency", "low", at="2026-11-27T09:00:00Z")
    for command in ("resolve", "close"):
        assert cli(command, settled, "--at", "2026-11-27T10:00:00Z", "--now", NOW).code == 0
    live = declare(cli)
    built = models_built
    built.clear()
    yaml_parses.clear()
    now = cli("overdue", "--now", NOW, "--format", "json")
    assert built == [str(incident_file(repo, live).relative_to(repo))]
    assert _documents(yaml_parses) == built  # the settled one not even parsed
    built.clear()
    before = cli("overdue", "--now", "2026-11-27T09:30:00Z", "--format", "json")
    assert len(built) == 2
    assert settled in before.out
    monkeypatch.setattr(timers, "settled_as_written", lambda *_: None)  # no pre-scan
    built.clear()
    full = cli("overdue", "--now", NOW, "--format", "json")
    assert len(built) == 2
    assert (full.code, full.out, full.err) == (now.code, now.out, now.err)
    assert settled not in now.out
    assert live in now.out


def test_deleted_files_are_forgotten(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli, at="2026-11-27T10:00:00Z")
    assert cli("resolve", incident_id, "--at", "2026-11-27T11:00:00Z", "--now", NOW).code == 0
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    cli("validate")
    assert "pir.md" in _cache_file().read_text()
    (incident_file(repo, incident_id).parent / "pir.md").unlink()
    cli("validate")
    assert "pir.md" not in _cache_file().read_text()  # a full scan forgets files that are gone


def test_off_in_ci_unless_asked_for(
    repo: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, yaml_parses: list[str]
) -> None:
    declare(cli)
    folder = Path(os.environ["INCIDENTCTL_CACHE_DIR"])
    monkeypatch.setenv("CI", "true")  # a fresh runner: nothing to reuse, so nothing written
    assert cli("validate").code == 0
    assert list(folder.glob("*.json")) == []
    monkeypatch.setenv("INCIDENTCTL_CACHE", "on")  # what the workflows say
    assert cli("validate").code == 0
    yaml_parses.clear()
    assert cli("validate").code == 0
    assert _documents(yaml_parses) == []


@pytest.fixture
def file_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The repository files whose bytes were read."""
    from incidentctl.store import files

    seen: list[str] = []
    real = files.regular_file

    def counting(path: Path, root: Path, **kwargs: object) -> bytes:
        seen.append(str(path.relative_to(root)))
        return real(path, root, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "regular_file", counting)
    return seen


def test_a_file_known_by_its_stat_is_not_read_and_any_write_is_seen(
    repo: Path, cli: Invoke, file_reads: list[str]
) -> None:
    """An unchanged file (device, inode, size, mtime, ctime as when it was hashed) is not even
    read again; a rewrite of the same size with its mtime set back is still seen (ctime)."""
    import time

    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    rel = str(path.relative_to(repo))
    time.sleep(2.1)  # a stat is trusted only once it is older than the clock's tick margin
    assert cli("validate").code == 0  # hashed, stat remembered
    file_reads.clear()
    assert cli("validate").code == 0
    assert rel not in file_reads
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    broken = text.replace("urgency: high", "urgency: hgh_")
    assert len(broken) == len(text)
    path.write_text(broken, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    result = cli("validate")
    assert result.code == 1
    assert "urgency" in result.out
    assert rel in file_reads


@pytest.mark.parametrize("swapped", ["incident.md", "its folder"])
def test_a_file_known_by_its_stat_is_refused_once_a_symlink_leads_to_it(
    repo: Path, cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swapped: str
) -> None:
    """A remembered stat only ever finds the same regular file again: once the incident, or
    its folder, is moved out and symlinked back (the very same file, stat and all), the
    warm `validate` refuses it as the cold one does."""
    import time

    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    time.sleep(2.1)
    assert cli("validate").code == 0  # hashed, stat remembered
    moved = path if swapped == "incident.md" else path.parent
    outside = tmp_path / "outside" / moved.name
    outside.parent.mkdir()
    moved.rename(outside)
    moved.symlink_to(outside)
    shown = str(moved.relative_to(repo))
    for cache in ("on", "off"):
        monkeypatch.setenv("INCIDENTCTL_CACHE", cache)
        result = cli("validate")
        assert result.code == 1, result.out
        assert shown in result.out
        assert "not a regular file" in result.out


def test_a_young_file_is_hashed_every_time(repo: Path, cli: Invoke, file_reads: list[str]) -> None:
    """A file written within the last two seconds may be written again within the same tick
    of the file system's clock (same size, same times): it is read until its stat is old."""
    incident_id = declare(cli)
    rel = str(incident_file(repo, incident_id).relative_to(repo))
    assert cli("validate").code == 0
    file_reads.clear()
    assert cli("validate").code == 0
    assert rel in file_reads
    stored = json.loads(_cache_file().read_text(encoding="utf-8"))["results"]
    assert f"stat:{rel}" not in stored


def test_a_missing_pir_is_known_from_the_listing_not_from_a_failed_read(
    repo: Path, cli: Invoke, file_reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """7,000 of 10,000 incidents have no pir.md: `overdue` and `metrics` learn that from the
    listing they made, and read only the PIRs that are there; a PIR written since is read
    by the next run."""
    monkeypatch.setenv("INCIDENTCTL_CACHE", "off")
    reviewed = declare(cli, at="2026-11-27T10:00:00Z")
    assert cli("resolve", reviewed, "--at", "2026-11-27T11:00:00Z", "--now", NOW).code == 0
    assert cli("pir", "new", reviewed, "--now", NOW).code == 0
    bare = declare(cli)
    for command in (("overdue", "--now", NOW), ("metrics", "--now", NOW)):
        file_reads.clear()
        assert cli(*command).code in (0, 1)
        pirs = [p for p in file_reads if p.endswith("pir.md")]
        assert pirs == [str(incident_file(repo, reviewed).parent.relative_to(repo) / "pir.md")]
    assert cli("resolve", bare, "--at", "2026-11-27T15:10:00Z", "--now", NOW).code == 0
    assert cli("pir", "new", bare, "--now", NOW).code == 0
    file_reads.clear()
    assert bare in cli("overdue", "--now", NOW, "--format", "json").out
    assert len([p for p in file_reads if p.endswith("pir.md")]) == 2


def test_a_watcher_reuses_the_models_of_unchanged_incidents_between_turns(
    repo: Path, cli: Invoke, yaml_parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each turn of `watch` reads the repository afresh, but an incident whose file, PIR and
    policies have the same bytes as at the last turn is not parsed again, and the findings
    are those a fresh read gives. A changed file, a policy change or no cache: read afresh."""
    from datetime import timedelta

    from incidentctl.core.timevalues import parse_timestamp
    from incidentctl.deadlines.timers import Reminder
    from incidentctl.store import reviews
    from incidentctl.store.repo import Repo

    acked, other = declare(cli), declare(cli, "--impact", "low", "--urgency", "low")
    now = parse_timestamp(NOW) + timedelta(hours=1)
    turns = reviews.Turns()

    def turn() -> tuple[list[Reminder], list[str]]:
        """One turn's findings and the incidents it parsed; checked against a fresh read."""
        yaml_parses.clear()
        found, _, paths = reviews.overdue(Repo(repo), now, print, turns=turns)
        parsed = [p for p in yaml_parses if p.endswith("incident.md")]
        assert (found, paths) == reviews.overdue(Repo(repo), now, print)[::2]
        return found, parsed

    def rel(incident_id: str) -> str:
        return str(incident_file(repo, incident_id).relative_to(repo))

    found, parsed = turn()
    assert (turns.reused, sorted(parsed)) == (0, sorted([rel(acked), rel(other)]))
    assert {f.rule for f in found if f.incident == acked} >= {"acknowledge"}
    assert turn() == (found, [])  # nothing changed: nothing parsed
    assert turns.reused == 2
    assert cli("ack", acked, "--now", NOW).code == 0
    found, parsed = turn()
    assert (turns.reused, parsed) == (1, [rel(acked)])  # only the edited one is read
    assert "acknowledge" not in {f.rule for f in found if f.incident == acked}
    people = repo / "policies" / "people.yaml"
    people.write_text(people.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
    assert len(turn()[1]) == 2  # the policies changed: every model is built again
    monkeypatch.setenv("INCIDENTCTL_CACHE", "off")
    turn()
    assert len(turn()[1]) == 2  # without the cache's hashes, nothing is kept
    assert turns.reused == 0
