"""`site build`: one scan of the repository, every page and document rendered in memory from
the public projections, then written to the output folder.

Deterministic: the same files and `now` give the same bytes (sorted inputs, no clock, no
random IDs). Incremental on disk: a file whose bytes did not change is not rewritten (a
changed one is replaced atomically), and a file an earlier build wrote that this build no
longer produces (an incident made private, say) is deleted. Into a new or empty folder each
page is created in place, exclusively (`_create`): there is nothing to compare or replace.
The folder's manifest (`.incidentctl-site`) records what the build owns; an output folder
holding other files is refused rather than cleaned.

The output folder may come from a pull request (a committed `_site/`), so nothing in it is
trusted: no symlink in it is followed, nothing is written or deleted outside it (checked on
real paths), a manifest entry that leaves the folder or passes through a symlink is ignored
with a warning, and an `--out` that is a symlink, or the repository or a folder above it,
is refused.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.core.lifecycle import as_of
from incidentctl.core.model import Pir
from incidentctl.disk.regular import regular_file
from incidentctl.site import feeds
from incidentctl.site.api import Api, dumps
from incidentctl.site.page import Page, resolve
from incidentctl.site.pages import Renderer
from incidentctl.site.status import (
    PublicIncident,
    PublicMaintenance,
    component_views,
    maybe_public,
    maybe_published,
    page_status,
    publish,
    publish_maintenance,
    published,
)
from incidentctl.store.collection import Glance
from incidentctl.store.files import create_new, write_atomic
from incidentctl.store.repo import Repo

MANIFEST = ".incidentctl-site"
RECENT_ON_INDEX = 10


@dataclass
class BuildResult:
    out: Path
    files: int = 0
    written: int = 0
    removed: int = 0
    incidents: int = 0
    published: int = 0
    maintenances: int = 0
    skipped: list[str] = field(default_factory=list)  # files that did not load
    warnings: list[str] = field(default_factory=list)  # what the output folder made us skip


@dataclass(frozen=True)
class Month:
    slug: str  # YYYY-MM
    label: str
    count: int


def _month_key(value: datetime) -> str:
    return _month_of(value.astimezone(UTC).date().replace(day=1))


@lru_cache(maxsize=1024)
def _month_of(first: date) -> str:
    """YYYY-MM of a month's first day (strftime once per month, not twice per incident)."""
    return first.strftime("%Y-%m")


def _months_between(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def _label(slug: str) -> str:
    return datetime.strptime(slug + "-01", "%Y-%m-%d").strftime("%B %Y")


def load(
    repo: Repo, now: datetime, result: BuildResult
) -> tuple[list[PublicIncident], list[PublicMaintenance]]:
    """Every publishable incident (newest first) and maintenance, from one scan."""
    components = repo.policy().components
    incidents: list[PublicIncident] = []

    def counted(test: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
        def wanted(front: dict[str, Any]) -> bool:
            if test(front):
                return True
            result.incidents += 1  # read; nothing of it can reach the site: no model built
            return False

        return wanted

    glance = Glance(frozenset({"public"}), counted(maybe_public))
    for item in repo.scan(wanted=counted(maybe_published), glance=glance):
        if isinstance(item, DocumentErrors):
            result.skipped.extend(sorted({e.path for e in item.errors}))
            continue
        result.incidents += 1
        if item.incident.detected_at > now or not item.incident.public:
            continue
        incident = as_of(item.incident, now)  # a replay shows only what was known then
        if not published(incident):
            continue  # nothing of it reaches the site, so its PIR is not read
        pir: Pir | None = None
        if not incident.is_open:
            try:
                pir = repo.pirs.public(item)
            except (DocumentErrors, DocumentError):
                result.skipped.append(repo.rel(repo.pirs.path(item)))
        public = publish(incident, pir, components)
        if public is not None:
            incidents.append(public)
    incidents.sort(key=lambda i: (i.started_at, i.id), reverse=True)
    maintenances: list[PublicMaintenance] = []
    for entry in repo.maintenances.scan():
        if isinstance(entry, DocumentErrors):
            result.skipped.extend(sorted({e.path for e in entry.errors}))
            continue
        shown = publish_maintenance(entry[1], now)
        if shown is not None:
            maintenances.append(shown)
    maintenances.sort(key=lambda m: (m.scheduled_for, m.id), reverse=True)
    result.published = len(incidents)
    result.maintenances = len(maintenances)
    return incidents, maintenances


def render_site(repo: Repo, *, page: Page, result: BuildResult) -> dict[str, str]:
    """Relative path -> content of every file of the site."""
    policy = repo.policy()
    now, name = page.now, page.name
    incidents, maintenances = load(repo, now, result)
    views = component_views(policy.components, incidents, maintenances, now)
    level, level_text = page_status(views, incidents, maintenances)
    names = {c.id: c.name for c in policy.components}
    files: dict[str, str] = {}
    renderer = Renderer(repo.root)
    common = {"page": page, "names": names}

    groups: list[tuple[str | None, list[object]]] = []
    for view in views:
        if groups and groups[-1][0] == view.group:
            groups[-1][1].append(view)
        else:
            groups.append((view.group, [view]))
    current = [m for m in maintenances if m.status != "completed"]
    current.sort(key=lambda m: (m.status == "scheduled", m.scheduled_for, m.id))
    files["index.html"] = renderer.render(
        "index.html.j2",
        **common,
        root="",
        path="",
        section="status",
        indicator=level,
        indicator_text=level_text,
        active=[i for i in incidents if i.is_open],
        current_maintenances=current,
        groups=groups,
        recent=[i for i in incidents if not i.is_open][:RECENT_ON_INDEX],
    )
    for inc in incidents:
        rel = f"incidents/{inc.id}.html"
        files[rel] = renderer.render(
            "incident.html.j2",
            **common,
            root="../",
            path=rel,
            section="history",
            inc=inc,
            month=_month_key(inc.started_at),
        )
    files.update(_history(renderer, common, incidents, now))
    finished = [m for m in maintenances if m.status == "completed"]
    files["maintenance.html"] = renderer.render(
        "maintenance.html.j2",
        **common,
        root="",
        path="maintenance.html",
        section="maintenance",
        sections=[
            ("In progress", [m for m in current if m.status != "scheduled"]),
            ("Upcoming", [m for m in current if m.status == "scheduled"]),
            ("Completed", finished),
        ],
    )
    api = Api(page, views, incidents, maintenances, (level, level_text))
    for rel, data in api.documents().items():
        files[rel] = dumps(data)
    files["history.atom"] = feeds.atom(
        page, title=f"{name} status: incidents", feed_path="history.atom", incidents=incidents,
        prefix="",
    )  # fmt: skip
    by_component: dict[str, list[PublicIncident]] = defaultdict(list)
    for inc in incidents:
        for cid in inc.components:
            by_component[cid].append(inc)
    files["badges/overall.svg"] = feeds.badge(name, level_text.lower(), level)
    for view in views:
        files[f"feeds/{view.id}.atom"] = feeds.atom(
            page,
            title=f"{name} status: {view.name}",
            feed_path=f"feeds/{view.id}.atom",
            incidents=by_component[view.id],
            prefix="../",
        )
        files[f"badges/{view.id}.svg"] = feeds.component_badge(view.name, view.status)
    css = resources.files("incidentctl") / "site" / "static" / "style.css"
    files["static/style.css"] = css.read_text(encoding="utf-8")
    files[".nojekyll"] = ""
    return files


def _history(
    renderer: Renderer, common: dict[str, object], incidents: list[PublicIncident], now: datetime
) -> dict[str, str]:
    """history/index.html (every month, newest first) and one page per month."""
    by_month: dict[str, list[PublicIncident]] = defaultdict(list)
    for inc in incidents:
        by_month[_month_key(inc.started_at)].append(inc)
    last = _month_key(now)
    first = min([*by_month, last])
    slugs = list(reversed(_months_between(first, last)))
    months = [Month(s, _label(s), len(by_month.get(s, []))) for s in slugs]
    files = {
        "history/index.html": renderer.render(
            "history.html.j2",
            **common,
            root="../",
            path="history/index.html",
            section="history",
            heading="Incident history",
            months=months,
        )
    }
    for index, month in enumerate(months):
        rel = f"history/{month.slug}.html"
        files[rel] = renderer.render(
            "history.html.j2",
            **common,
            root="../",
            path=rel,
            section="history",
            heading=f"Incidents in {month.label}",
            incidents=by_month.get(month.slug, []),
            newer=months[index - 1] if index > 0 else None,
            older=months[index + 1] if index + 1 < len(months) else None,
        )
    return files


MANIFEST_LIMIT = 64 * 1024 * 1024  # the manifest of a very large site; never read past it


def check_out(out: Path, root: Path) -> None:
    """Refuse an output folder that is a symlink, or the repository or a folder above it
    (pruning there could delete the repository's own files)."""
    if out.is_symlink():
        raise IncidentctlError(
            f"--out {out}: a symlink; site build writes only into a real folder",
            hint="pass the folder itself, e.g. --out _site",
        )
    real, home = Path(os.path.realpath(out)), Path(os.path.realpath(root))
    if real == home or real in home.parents:
        raise IncidentctlError(
            f"--out {out}: the repository itself or a folder above it",
            hint="build into a folder of its own, e.g. --out _site",
        )


def _unsafe(out: Path, rel: str) -> str | None:
    """Why the file `rel` must not be written or deleted inside `out`, or None: it leaves
    the folder, or one of its folders is a symlink or not a folder. Checked component by
    component with lstat (nothing is followed), then on the real path."""
    parts = Path(rel).parts
    if not rel or Path(rel).is_absolute() or ".." in parts or "\0" in rel:
        return "outside the output folder"
    folder = out
    for part in parts[:-1]:
        folder = folder / part
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            break  # created below as a real folder
        if stat.S_ISLNK(mode):
            return f"{folder} is a symlink"
        if not stat.S_ISDIR(mode):
            return f"{folder} is not a folder"
    home = os.path.realpath(out)  # the file itself may be a symlink: replaced, not followed
    if os.path.commonpath([os.path.realpath((out / rel).parent), home]) != home:
        return "outside the output folder"
    return None


def _unchanged(out: Path, rel: str, data: bytes) -> bool:
    """Whether `out/rel` is a regular file holding exactly `data` (a symlink or a file of
    another size is never read: it is replaced)."""
    try:
        return regular_file(out / rel, out, limit=len(data)) == data
    except (OSError, IncidentctlError):
        return False


def write_site(out: Path, files: dict[str, str], result: BuildResult) -> None:
    """Write what changed, delete what an earlier build wrote and this one did not."""
    manifest = out / MANIFEST
    previous: set[str] = set()
    if out.is_symlink():
        raise IncidentctlError(f"--out {out}: a symlink; site build writes only into a real folder")
    if out.exists() and not out.is_dir():
        raise IncidentctlError(f"--out {out}: not a folder")
    fresh = not (out.is_dir() and any(out.iterdir()))  # a new or empty folder
    if not fresh:
        if not os.path.lexists(manifest):
            raise IncidentctlError(
                f"--out {out} holds files that `incidentctl site build` did not write",
                hint="choose an empty or new folder (an earlier build's folder is fine)",
            )
        raw = regular_file(manifest, out, limit=MANIFEST_LIMIT)  # a symlink is refused
        previous = set(raw.decode("utf-8", "replace").splitlines())
    ordered = sorted(files)
    for rel in {_folder_of(rel): rel for rel in ordered}.values():  # one per folder
        why = _unsafe(out, rel)
        if why is not None:
            raise IncidentctlError(
                f"--out {out}: cannot write {rel}: {why}",
                hint="site build never writes through a symlink; delete it and build again",
            )
    out.mkdir(parents=True, exist_ok=True)
    made: set[str] = {""}  # the folders this loop made or found, relative to `out`
    for rel in ordered:
        data = files[rel].encode("utf-8")
        folder = _folder_of(rel)
        if folder not in made:
            (out / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        # a new folder's pages are created in place; a name that appeared meanwhile is
        # written the ordinary way. A build that stops midway leaves no manifest, so the
        # next build refuses the folder.
        if fresh and create_new(out / rel, data, durable=False):
            result.written += 1
            continue
        if _unchanged(out, rel, data):
            continue
        _replace(out / rel, data)  # a symlink at `target` is replaced, never written through
        result.written += 1
    for rel in sorted(previous - set(files)):
        why = _unsafe(out, rel)
        if why is not None:
            result.warnings.append(f"{MANIFEST}: entry {rel!r} ignored: {why}")
            continue
        stale = out / rel
        try:
            if stat.S_ISREG(os.lstat(stale).st_mode):
                stale.unlink()
                result.removed += 1
        except FileNotFoundError:
            pass
    _replace(manifest, ("\n".join(sorted(files)) + "\n").encode("utf-8"))
    result.files = len(files)


def _folder_of(rel: str) -> str:
    """The folder of a file's relative path, on the string ("" at the top)."""
    return rel.rpartition("/")[0]


def _replace(path: Path, data: bytes) -> None:
    """A page, atomically; no fsync: the site is rebuilt from the repository at will."""
    write_atomic(path, data, durable=False)


def build(
    repo: Repo,
    out: Path,
    *,
    now: datetime,
    name: str | None = None,
    base_url: str | None = None,
    repository: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Render the whole site into `out`. `name` and `base_url` override the policy's
    `page:`; `repository` (owner/name) is given in GitHub Actions for the defaults."""
    check_out(out, repo.root)
    result = BuildResult(out=out)
    page, warnings = resolve(
        repo.policy().page, now=now, name=name, base_url=base_url, repository=repository
    )
    result.warnings.extend(warnings)
    files = render_site(repo, page=page, result=result)
    if progress is not None:
        progress(f"rendered {len(files)} files; writing {out}")
    write_site(out, files, result)
    return result
