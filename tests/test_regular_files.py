"""Only regular files inside the repository are read, and `site build` never leaves its output
folder: symlinks (to devices, to /etc/passwd, to private files, in loops), FIFOs, huge files
and symlinked folders, on real files in real git repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from incidentctl.cli.app import run
from incidentctl.disk.regular import NOT_REGULAR
from incidentctl.store import git as vcs
from incidentctl.store.files import create_new
from tests.conftest import NOW, Invoke, declare, git, incident_file

PASSWD = Path("/etc/passwd")


def _findings(cli: Invoke, *args: str) -> tuple[int, list[dict[str, Any]]]:
    result = cli("validate", "--format", "json", *args)
    assert result.code in (0, 1), result.err  # findings, never a crash or a usage error
    return result.code, json.loads(result.out)["findings"]


def _refused(findings: list[dict[str, Any]]) -> dict[str, str]:
    return {f["path"]: f["message"] for f in findings if f["rule"] == NOT_REGULAR}


def _validate_in_subprocess(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, its stdin a pipe that stays open: a read that followed
    /dev/stdin or opened a FIFO would block; the timeout is only a backstop for that bug."""
    read_end, write_end = os.pipe()
    try:
        return subprocess.run(
            [sys.executable, "-m", "incidentctl", "validate", "--format", "json", *args],
            cwd=repo,
            stdin=read_end,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(read_end)
        os.close(write_end)


def _replace_with_symlink(path: Path, target: str | Path) -> None:
    path.unlink()
    path.symlink_to(target)


# -- validate: every irregular path is a finding, and the rest is still checked ---------------
def test_incident_symlinked_to_dev_zero_is_a_finding(cli: Invoke, repo: Path) -> None:
    zero = declare(cli)
    other = declare(cli, "--title", "Search is slow")
    path = incident_file(repo, zero)
    _replace_with_symlink(path, "/dev/zero")
    code, findings = _findings(cli)
    rel = path.relative_to(repo).as_posix()
    assert code == 1
    assert _refused(findings) == {rel: _refused(findings)[rel]}  # reported once
    assert "a symlink to /dev/zero" in _refused(findings)[rel]
    assert cli("show", other).code == 0  # the other incident is untouched and still readable
    shown = cli("show", zero)
    assert shown.code == 2
    assert f"{rel}: not a regular file" in shown.err


@pytest.mark.skipif(not Path("/dev/stdin").exists(), reason="no /dev/stdin")
def test_incident_symlinked_to_stdin_does_not_hang(cli: Invoke, repo: Path) -> None:
    path = incident_file(repo, declare(cli))
    _replace_with_symlink(path, "/dev/stdin")
    done = _validate_in_subprocess(repo)
    assert done.returncode == 1, done.stderr
    (finding,) = json.loads(done.stdout)["findings"]
    assert finding["path"] == path.relative_to(repo).as_posix()
    assert finding["rule"] == NOT_REGULAR
    assert "a symlink to /dev/stdin" in finding["message"]


def test_fifo_is_a_finding_and_never_opened(cli: Invoke, repo: Path) -> None:
    path = incident_file(repo, declare(cli))
    path.unlink()
    os.mkfifo(path)
    (repo / "runbooks" / "pipe.md").unlink(missing_ok=True)
    os.mkfifo(repo / "runbooks" / "pipe.md")
    done = _validate_in_subprocess(repo)
    assert done.returncode == 1, done.stderr
    refused = _refused(json.loads(done.stdout)["findings"])
    assert set(refused) == {path.relative_to(repo).as_posix(), "runbooks/pipe.md"}
    assert all("a FIFO" in message for message in refused.values())


def test_symlink_loops_are_findings_not_tracebacks(cli: Invoke, repo: Path) -> None:
    path = incident_file(repo, declare(cli))
    _replace_with_symlink(path, "incident.md")  # itself
    month = path.parent.parent
    (month / "INC-20261127-LOOP").symlink_to("INC-20261127-LOOP")  # a folder loop
    (repo / "runbooks" / "a.md").symlink_to("b.md")
    (repo / "runbooks" / "b.md").symlink_to("a.md")
    code, findings = _findings(cli)
    refused = _refused(findings)
    assert code == 1
    assert set(refused) == {
        path.relative_to(repo).as_posix(),
        (month / "INC-20261127-LOOP").relative_to(repo).as_posix(),
        "runbooks/a.md",
        "runbooks/b.md",
    }
    listed = cli("list", "--now", NOW)
    assert listed.code != 3, listed.err


def test_symlinked_folder_under_incidents_is_not_entered(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    incident_id = declare(cli)
    folder = incident_file(repo, incident_id).parent
    outside = tmp_path / "private" / incident_id
    shutil.move(folder, outside)  # a valid incident, outside the repository
    folder.symlink_to(outside, target_is_directory=True)
    rel = folder.relative_to(repo).as_posix()
    code, findings = _findings(cli)
    assert code == 1
    assert _refused(findings) == {rel: _refused(findings)[rel]}
    assert f"a symlink to {outside}" in _refused(findings)[rel]
    shown = cli("show", incident_id)
    assert shown.code == 2
    assert f"{rel}: not a regular file" in shown.err
    assert "Checkout returns 502" not in shown.out
    updated = cli("update", incident_id, "-m", "Still looking", "--now", NOW)
    assert updated.code == 2
    assert rel in updated.err
    assert "Still looking" not in (outside / "incident.md").read_text()
    site = cli("site", "build", "--out", str(tmp_path / "site"), "--now", NOW)
    assert site.code == 0
    assert rel in site.err


def test_validating_a_named_symlink_reports_it_by_its_own_path(cli: Invoke, repo: Path) -> None:
    path = incident_file(repo, declare(cli))
    _replace_with_symlink(path, PASSWD)
    rel = path.relative_to(repo).as_posix()
    code, findings = _findings(cli, rel)
    assert code == 1
    assert rel in _refused(findings)
    code, findings = _findings(cli, str(path.parent.relative_to(repo)))
    assert code == 1
    assert rel in _refused(findings)


def test_symlinked_runbook_is_a_finding(cli: Invoke, repo: Path) -> None:
    (repo / "runbooks" / "passwd.md").symlink_to(PASSWD)
    code, findings = _findings(cli)
    assert code == 1
    assert "a symlink to /etc/passwd" in _refused(findings)["runbooks/passwd.md"]
    assert not any("root:" in f["message"] for f in findings)


def test_symlinked_policy_is_a_finding_and_an_error_for_commands(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    sla = repo / "policies" / "sla.yaml"
    outside = tmp_path / "sla.yaml"
    shutil.copy(sla, outside)  # a valid policy file, but outside the repository
    _replace_with_symlink(sla, outside)
    code, findings = _findings(cli)
    assert code == 1
    assert "policies/sla.yaml" in _refused(findings)
    declared = cli(
        "declare", "--title", "Checkout returns 502", "--impact", "high", "--urgency", "high",
        "--services", "example-service", "--now", NOW,
    )  # fmt: skip
    assert declared.code == 2
    assert "policies/sla.yaml: not a regular file" in declared.err


def test_huge_file_is_refused_before_it_is_read(cli: Invoke, repo: Path) -> None:
    path = incident_file(repo, declare(cli))
    with path.open("ab") as handle:
        handle.truncate(3 * 1024 * 1024)  # 3 MiB: sparse, but stat says so before any read
    code, findings = _findings(cli)
    (finding,) = [f for f in findings if f["path"] == path.relative_to(repo).as_posix()]
    assert code == 1
    assert finding["rule"] == "size"
    assert "over the 1,000,000-byte limit" in finding["message"]
    assert finding["hint"]


def test_irregular_templates_and_devices_anywhere_are_findings(cli: Invoke, repo: Path) -> None:
    (repo / "templates" / "notify").mkdir(parents=True)
    (repo / "templates" / "notify" / "initial-alert.md.j2").symlink_to(PASSWD)
    (repo / "maintenances").mkdir(exist_ok=True)
    (repo / "maintenances" / "MNT-20261201-AAAA.md").symlink_to("/dev/null")
    code, findings = _findings(cli)
    refused = _refused(findings)
    assert code == 1
    assert "a symlink to /etc/passwd" in refused["templates/notify/initial-alert.md.j2"]
    assert "a symlink to /dev/null" in refused["maintenances/MNT-20261201-AAAA.md"]


def test_symlinked_blob_at_the_base_is_not_read(cli: Invoke, repo: Path) -> None:
    path = incident_file(repo, declare(cli))
    rel = path.relative_to(repo).as_posix()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "declared")
    assert rel in vcs.files_at(repo, "HEAD", "incidents", "incident.md")
    _replace_with_symlink(path, PASSWD)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a symlink (mode 120000)")
    assert "120000" in git(repo, "ls-tree", "-r", "HEAD", "--", rel)
    assert vcs.files_at(repo, "HEAD", "incidents", "incident.md") == {}
    code, findings = _findings(cli, "--base", "HEAD")
    assert code == 1
    assert rel in _refused(findings)


# -- commands: a symlinked document or template is an error naming it --------------------------
def test_update_refuses_a_symlinked_incident_and_leaves_the_target_alone(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    outside = tmp_path / "elsewhere.md"
    shutil.copy(path, outside)
    before = outside.read_bytes()
    _replace_with_symlink(path, outside)
    result = cli("update", incident_id, "-m", "Rolled back", "--now", NOW)
    assert result.code == 2
    assert f"{path.relative_to(repo).as_posix()}: not a regular file" in result.err
    assert outside.read_bytes() == before
    assert path.is_symlink()


def test_declare_never_creates_a_file_through_a_symlinked_folder(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo / "incidents" / "2026").mkdir(parents=True, exist_ok=True)
    (repo / "incidents" / "2026" / "11").symlink_to(outside, target_is_directory=True)
    result = cli(
        "declare", "--title", "Checkout returns 502", "--impact", "high", "--urgency", "high",
        "--services", "example-service", "--at", "2026-11-27T15:00:00Z", "--now", NOW,
    )  # fmt: skip
    assert result.code == 2
    assert "incidents/2026/11: not a regular file (a symlink to" in result.err
    assert list(outside.iterdir()) == []


def test_report_template_symlinked_to_passwd_is_refused(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    declare(cli)
    (repo / "templates" / "report").mkdir(parents=True)
    (repo / "templates" / "report" / "index.html.j2").symlink_to(PASSWD)
    out = tmp_path / "report"
    result = cli("report", "--out", str(out), "--now", NOW)
    assert result.code == 2
    assert "templates/report/index.html.j2: not a regular file" in result.err
    assert not (out / "index.html").exists() or "root:" not in (out / "index.html").read_text()


def test_notify_template_symlinked_to_passwd_is_refused(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    folder = repo / "templates" / "notify"
    folder.mkdir(parents=True)
    (folder / "initial-alert.md.j2").symlink_to(PASSWD)
    result = cli("notify", incident_id, "--template", "initial-alert", "--now", NOW)
    assert result.code == 2
    assert "templates/notify/initial-alert.md.j2: not a regular file" in result.err
    assert "root:" not in result.out + result.err
    (folder / "initial-alert.md.j2").unlink()
    assert cli("notify", incident_id, "--template", "initial-alert", "--now", NOW).code == 0


def test_symlinked_template_folder_is_refused(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    incident_id = declare(cli)
    outside = tmp_path / "notify"
    outside.mkdir()
    (outside / "initial-alert.md.j2").write_text("Subject: from outside\n\nOUTSIDE\n")
    (repo / "templates").mkdir(exist_ok=True)
    (repo / "templates" / "notify").symlink_to(outside, target_is_directory=True)
    result = cli("notify", incident_id, "--template", "initial-alert", "--now", NOW)
    assert result.code == 2
    assert "templates/notify: not a regular file" in result.err
    assert "OUTSIDE" not in result.out


def test_pir_template_symlinked_to_passwd_is_refused(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    at = "2026-11-27T15:30:00Z"
    assert cli("resolve", incident_id, "--at", at, "--now", NOW).code == 0, "resolve"
    (repo / "templates").mkdir(exist_ok=True)
    (repo / "templates" / "pir.md.j2").symlink_to(PASSWD)
    result = cli("pir", "new", incident_id, "--now", NOW)
    assert result.code == 2
    assert "templates/pir.md.j2: not a regular file" in result.err
    assert not (incident_file(repo, incident_id).parent / "pir.md").exists()


def _public_incident(cli: Invoke) -> str:
    incident_id = declare(cli)
    done = cli(
        "update", incident_id, "-m", "We are investigating", "--public",
        "--status", "investigating", "--at", "2026-11-27T15:05:00Z", "--now", NOW,
    )  # fmt: skip
    assert done.code == 0, done.err
    return incident_id


def test_site_template_symlinked_to_passwd_is_refused(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    _public_incident(cli)
    (repo / "templates" / "site").mkdir(parents=True)
    (repo / "templates" / "site" / "index.html.j2").symlink_to(PASSWD)
    out = tmp_path / "site"
    result = cli("site", "build", "--out", str(out), "--now", NOW)
    assert result.code == 2
    assert "templates/site/index.html.j2: not a regular file" in result.err
    assert not out.exists() or not any("root:" in p.read_text() for p in out.rglob("*.html"))


def test_site_template_including_a_private_incident_is_refused(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    _public_incident(cli)
    private = declare(cli, "--title", "Card numbers exposed in logs")
    site = repo / "templates" / "site"
    site.mkdir(parents=True)
    (site / "leak.html").symlink_to(incident_file(repo, private))
    (site / "index.html.j2").write_text('{% extends "base.html.j2" %}{% block main %}'
                                        '{% include "leak.html" %}{% endblock %}')  # fmt: skip
    out = tmp_path / "site"
    result = cli("site", "build", "--out", str(out), "--now", NOW)
    assert result.code == 2
    assert "templates/site/leak.html: not a regular file" in result.err
    leaked = [p for p in out.rglob("*") if p.is_file() and b"Card numbers" in p.read_bytes()]
    assert leaked == []


@pytest.mark.parametrize("target", ["a copy outside", "nothing"])
def test_a_symlinked_review_is_refused_not_published(
    samples: Path, tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pir.md that is a symlink (to a review outside, or dangling) is not read: the site
    leaves its public summary off and says so."""
    pir = samples / "incidents/2026/11/INC-20261103-4K7Q/pir.md"
    outside = tmp_path / "outside-pir.md"
    if target == "a copy outside":
        shutil.copy(pir, outside)
    pir.unlink()
    pir.symlink_to(outside)
    assert run(["--repo", str(samples), "site", "build", "--out", str(tmp_path / "s"),
                "--now", NOW]) == 0  # fmt: skip
    assert "INC-20261103-4K7Q/pir.md: not valid, left off the site" in capsys.readouterr().err
    page = (tmp_path / "s/incidents/INC-20261103-4K7Q.html").read_text(encoding="utf-8")
    assert "Post-incident review" not in page


# -- site build: the output folder is not trusted ----------------------------------------------
def _build(cli: Invoke, out: str | Path) -> Any:
    return cli("site", "build", "--out", str(out), "--now", NOW)


def test_manifest_entry_through_a_symlink_does_not_delete_outside(cli: Invoke, repo: Path) -> None:
    _public_incident(cli)
    assert _build(cli, "_site").code == 0
    keep = repo / "keep.txt"
    keep.write_text("not the site's\n")
    manifest = repo / "_site" / ".incidentctl-site"
    manifest.write_text(manifest.read_text() + "h/keep.txt\n../keep.txt\n/etc/hostname\n")
    (repo / "_site" / "h").symlink_to("..")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a committed _site/ with a planted manifest entry")
    result = _build(cli, "_site")
    assert result.code == 0, result.err
    assert keep.read_text() == "not the site's\n"
    assert "entry 'h/keep.txt' ignored" in result.err
    assert "entry '../keep.txt' ignored" in result.err
    assert "entry '/etc/hostname' ignored" in result.err
    assert "h/keep.txt" not in manifest.read_text()  # the new manifest lists what it wrote


def test_symlinked_subfolder_gets_nothing_written_through_it(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    _public_incident(cli)
    out = tmp_path / "site"
    assert _build(cli, out).code == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(out / "api")
    (out / "api").symlink_to(outside, target_is_directory=True)
    result = _build(cli, out)
    assert result.code == 2
    assert "is a symlink" in result.err
    assert "never writes through a symlink" in result.err
    assert list(outside.iterdir()) == []


def test_symlinked_page_in_the_output_is_replaced_not_followed(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    _public_incident(cli)
    out = tmp_path / "site"
    assert _build(cli, out).code == 0
    target = tmp_path / "victim.html"
    target.write_text("mine\n")
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(target)
    (out / "history.atom").unlink()
    (out / "history.atom").symlink_to("/dev/zero")  # compared without being read
    assert _build(cli, out).code == 0
    assert target.read_text() == "mine\n"
    assert not (out / "index.html").is_symlink()
    assert not (out / "history.atom").is_symlink()


def test_rebuild_still_prunes_what_it_wrote_before(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    _public_incident(cli)
    out = tmp_path / "site"
    assert _build(cli, out).code == 0
    stale = out / "incidents" / "INC-20200101-GONE.html"
    stale.write_text("an incident made private since\n")
    manifest = out / ".incidentctl-site"
    manifest.write_text(manifest.read_text() + "incidents/INC-20200101-GONE.html\n")
    result = _build(cli, out)
    assert result.code == 0
    assert "1 removed" in result.out
    assert not stale.exists()
    assert ".incidentctl-site: entry" not in result.err  # nothing was ignored


def test_a_new_folder_gets_the_pages_a_rebuild_would_write(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    """Pages created in place in a new folder have write_atomic's mode whatever the umask,
    and the same bytes and files as a rebuild that rewrites every page."""
    _public_incident(cli)
    fresh, rewritten = tmp_path / "fresh", tmp_path / "rewritten"
    old = os.umask(0o077)
    try:
        assert _build(cli, fresh).code == 0
        assert _build(cli, rewritten).code == 0
        for page in rewritten.rglob("*"):
            if page.is_file() and page.name != ".incidentctl-site":
                page.write_text("an earlier build's page\n")
        assert _build(cli, rewritten).code == 0
    finally:
        os.umask(old)
    pages = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert pages == sorted(p.relative_to(rewritten) for p in rewritten.rglob("*") if p.is_file())
    for rel in pages:
        assert (fresh / rel).stat().st_mode & 0o777 == 0o644, rel
        assert (fresh / rel).read_bytes() == (rewritten / rel).read_bytes(), rel


def test_a_name_that_appears_during_a_new_build_is_not_written_through(tmp_path: Path) -> None:
    """A page is created only where no name exists: a symlink planted after the folder was
    found empty is left to the ordinary write, which replaces it."""
    victim = tmp_path / "victim.html"
    victim.write_text("mine\n")
    planted = tmp_path / "index.html"
    planted.symlink_to(victim)
    assert create_new(planted, b"<html>", durable=False) is False
    assert victim.read_text() == "mine\n"
    created = tmp_path / "new.html"
    strict = os.umask(0o077)
    try:
        assert create_new(created, b"<html>", durable=False) is True
        assert create_new(tmp_path / "kept.md", b"kept\n") is True  # fsynced
    finally:
        os.umask(strict)
    assert created.read_bytes() == b"<html>"
    assert (tmp_path / "kept.md").read_bytes() == b"kept\n"
    for made in (created, tmp_path / "kept.md"):  # the mode of `write_atomic`, whatever the umask
        assert made.stat().st_mode & 0o777 == 0o644


def test_out_that_is_a_symlink_or_the_repository_is_refused(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    result = _build(cli, tmp_path / "link")
    assert result.code == 2
    assert "a symlink" in result.err
    for out in (".", "..", str(repo / "incidents" / "..")):
        result = _build(cli, out)
        assert result.code == 2, out
        assert "the repository itself or a folder above it" in result.err
    assert list(real.iterdir()) == []


def test_a_kind_is_listed_in_path_order_where_string_order_differs(repo: Path) -> None:
    """Files come in the order of sorted Paths, part by part: `2026-old` after `2026`,
    although '-' sorts before '/' in the whole path's string."""
    from incidentctl.store.repo import Repo

    for folder in ("2026/11/INC-B", "2026-old/01/INC-A", "2026/1-1/INC-C", "2025/12/INC-D"):
        (repo / "incidents" / folder).mkdir(parents=True, exist_ok=True)
        for name in ("incident.md", "pir.md"):
            (repo / "incidents" / folder / name).write_text("---\n---\n", encoding="utf-8")
    store = Repo(repo)
    for kind in (store.incidents, store.pirs):
        listed = kind.files()
        assert listed == sorted(listed)
        assert listed == sorted((repo / "incidents").glob(f"*/*/*/{kind.glob.split('/')[-1]}"))
        names = [p.parent.name for p in listed]
        assert names.index("INC-B") < names.index("INC-A")  # 2026 before 2026-old


def test_a_run_lists_each_folder_once_and_sees_what_it_created(repo: Path) -> None:
    """One walk of runbooks/ serves the whole run, and a file the run creates is listed."""
    from incidentctl.store.repo import Repo

    store = Repo(repo)
    before = store.runbooks.files()
    assert store.source.entries(repo / "runbooks") is store.source.entries(repo / "runbooks")
    text = before[0].read_text(encoding="utf-8")
    store.runbooks.create("fresh-drill", text)
    assert store.runbooks.files() == sorted([*before, repo / "runbooks" / "fresh-drill.md"])


def test_a_bulk_load_keeps_its_folders_open_and_still_refuses_symlinks(tmp_path: Path) -> None:
    """The reads of one bulk load share open folders (`Folders`): every file of 30 folders
    (more than it keeps open) reads the same as alone, and a symlinked folder or file met
    during the batch is refused, its target never read."""
    from incidentctl.disk.regular import Folders, NotRegularFile, regular_file

    root = tmp_path / "repo"
    files = []
    for n in range(30):
        folder = root / "incidents" / f"{n % 3}" / f"INC-{n}"
        folder.mkdir(parents=True)
        for name in ("incident.md", "pir.md"):
            (folder / name).write_text(f"{n} {name}\n", encoding="utf-8")
            files.append(folder / name)
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "incident.md").write_text("secret\n", encoding="utf-8")
    (root / "incidents" / "0" / "linked").symlink_to(outside)
    (root / "incidents" / "1" / "INC-1" / "notes.md").symlink_to(outside / "incident.md")
    with Folders(root, keep=8) as folders:
        for path in files * 2:
            assert regular_file(path, root, folders=folders) == regular_file(path, root)
        for path in (
            root / "incidents" / "0" / "linked" / "incident.md",
            root / "incidents" / "1" / "INC-1" / "notes.md",
        ):
            with pytest.raises(NotRegularFile, match="symlink"):
                regular_file(path, root, folders=folders)
        assert regular_file(files[0], root, folders=folders) == b"0 incident.md\n"


def test_bulk_loads_leave_no_folder_open(samples: Path, cli: Invoke) -> None:
    """A long-running `watch` or receiver runs bulk loads for hours: validate, overdue, a
    full scan and a scan left half-read all close the folders they kept open."""
    from incidentctl.store.repo import Repo

    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    for command in (("validate",), ("overdue", "--now", NOW), ("metrics", "--now", NOW)):
        cli(*command)  # the first run imports what it needs
    before = open_files()
    for _ in range(5):
        for command in (("validate",), ("overdue", "--now", NOW), ("metrics", "--now", NOW)):
            assert cli(*command).code in (0, 1)
        store = Repo(samples)
        assert sum(1 for _ in store.scan()) > 1
        half = store.scan()
        next(half)
        half.close()
    assert open_files() == before
