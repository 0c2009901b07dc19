"""PIRs as the timers and metrics see them: read loosely, approved when git says so.

An approved PIR without a recorded `approved_at` (the normal case: approval is a reviewed PR)
was approved when the commit that set `status: approved` landed; one `git log` answers that
for every PIR, and only when some PIR needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from incidentctl.core.documents import Loaded, top_level
from incidentctl.core.errors import DocumentError, DocumentErrors
from incidentctl.core.model import Runbook
from incidentctl.core.policy import Policy
from incidentctl.deadlines import timers
from incidentctl.deadlines.case import loose_time
from incidentctl.store import git as vcs
from incidentctl.store.collection import Glance
from incidentctl.store.files import bulk_load
from incidentctl.store.pirs import PIR_FILE
from incidentctl.store.repo import Repo

Warn = Callable[[str], None]  # told what a reader should know (the CLI prints it on stderr)


class Approvals:
    """When each PIR was approved, from git: read once, and only if a PIR needs it."""

    def __init__(self, root: Path, warn: Warn) -> None:
        self.root = root
        self.warn = warn
        self._times: dict[str, datetime] | None = None

    def at(self, rel: str) -> datetime | None:
        if self._times is None:
            self._times = vcs.approval_times(self.root, "incidents", PIR_FILE)
            if vcs.is_shallow(self.root):
                self.warn(
                    "warning: shallow git clone: PIR approval times may be wrong "
                    "(check out with fetch-depth: 0)"
                )
        return self._times.get(rel)

    def timed(self, pir: timers.PirState | None, rel: str) -> timers.PirState | None:
        """`pir` (the review at `rel`, as its file says) with its approval time from git
        when it is approved and the file records none; else `pir` itself."""
        if pir is None or not pir.approved or pir.approved_at is not None:
            return pir
        return replace(pir, approved_at=self.at(rel))


def review_state(
    repo: Repo,
    loaded: Loaded,
    warn: Warn,
    approvals: Approvals | None = None,
    *,
    raw: bytes | None = None,
) -> timers.PirState | None:
    """The PIR beside incident.md, read loosely (None when there is none); its approval
    time from `approvals` when the file records none. A PIR that cannot be read is told
    to `warn` and counts as not approved. `raw`: the PIR's bytes, when read already."""
    pir = _written_review(repo, loaded.path, warn, raw)
    return pir if approvals is None else approvals.timed(pir, repo.rel(repo.pirs.path(loaded)))


def _written_review(
    repo: Repo, incident: Path, warn: Warn, raw: bytes | None
) -> timers.PirState | None:
    """`review_state` as the file says, without git: of the PIR beside `incident` (the
    incident.md's repository path)."""
    try:
        data = repo.pirs.front(incident, raw)
    except DocumentError as exc:
        warn(f"warning: PIR counted as not approved: {exc.render()}")
        return timers.PirState()
    return None if data is None else timers.pir_from_front(data)


def judged(
    repo: Repo, warn: Warn, *, detected_since: datetime | None = None
) -> Iterator[tuple[Loaded, Policy, timers.PirState | None]]:
    """Every readable incident with the policy it was declared under and its PIR (approval
    time from git); unreadable files are told to `warn` and skipped. `detected_since`: only
    the incidents detected from then on; the others' `detected_at` line (else their parsed
    front-matter) shows they were detected before, and they are not parsed (or get no
    model), nor is their PIR read."""

    def recent(front: dict[str, Any]) -> bool:
        detected = loose_time(front.get("detected_at"))
        return detected is None or detected_since is None or detected >= detected_since

    policies: dict[str | None, Policy] = {}  # one lookup per policy digest, not per incident
    approvals = Approvals(repo.root, warn)
    glance = None if detected_since is None else Glance(_DETECTION, recent)
    for item in repo.scan(wanted=None if detected_since is None else recent, glance=glance):
        if isinstance(item, DocumentErrors):
            warn(f"skipped: {item.errors[0].render()}")
            continue
        incident = item.incident
        if incident.policy not in policies:
            policies[incident.policy] = repo.policy_for(incident)
        yield item, policies[incident.policy], review_state(repo, item, warn, approvals)


_DETECTION = frozenset({"detected_at"})


class Judged(NamedTuple):
    """An incident as one turn of `watch` judged it, for the next turn (`Turns`)."""

    subject: timers.Subject
    path: str  # its file, as `paths` holds it
    settled: datetime | None  # `timers.settled_since` of the subject


class Turns:
    """What a long-running `watch` keeps between its turns: each incident it built a model
    of, under its file's and its PIR's content hashes and the policies' fingerprint (the
    results cache's key). A turn reuses the model of a file whose bytes did not change
    instead of parsing and validating it again (at 10,000 incidents, 3,100 of them each
    turn); anything else is read afresh. Only with the results cache on (the hashes come
    from it); never for a review whose approval time comes from git, or one with a
    problem to tell, which every turn works out and says again."""

    def __init__(self) -> None:
        self.kept: dict[str, Judged] = {}
        self.reused = 0  # in the last turn


def overdue(
    repo: Repo,
    now: datetime,
    warn: Warn,
    *,
    include_due_soon: bool = True,
    turns: Turns | None = None,
) -> tuple[list[timers.Reminder], list[timers.Subject], dict[str, str]]:
    """Everything overdue (and due soon) at `now`, most urgent first, the incidents judged
    (settled ones left out: they cost nothing, see `live`) and each incident's and
    runbook's file: what `overdue`, its reminder job and `watch` report, one function so
    they agree. `turns`: a watcher's models from its previous turn."""
    subjects, paths = live(repo, now, warn, turns)
    runbooks: list[tuple[str, Runbook]] = []
    for path in repo.runbooks.files():
        try:
            runbooks.append((path.stem, repo.runbooks.load(path)[1]))
            paths.setdefault(path.stem, repo.rel(path))
        except (DocumentError, DocumentErrors) as exc:
            warn(f"skipped: {exc.render()}")
    found = timers.findings(
        subjects, runbooks, repo.policy(), now, include_due_soon=include_due_soon
    )
    repo.save_cache()
    return found, subjects, paths


def live(
    repo: Repo, now: datetime, warn: Warn, turns: Turns | None = None
) -> tuple[list[timers.Subject], dict[str, str]]:
    """What `overdue` (and its reminder job, `overdue --post`) and `watch` judge at `now`:
    every readable incident with its policy and PIR, and its file by ID, except those
    settled by `now` (nothing can be due: not kept, so memory follows the open ones), which
    the results cache knows without a parse.

    An incident is settled when no rule can fall due any more (`timers.settled_since`); it
    stays settled, so the instant is kept under the hash of the incident, its PIR and the
    policies. A PIR approved without a recorded time is settled from its approval in git,
    looked up on every run, never cached. Without a cache entry, an incident that its PIR
    and the few lines that tell (`documents.top_level`; else its parsed front-matter) show
    settled (`timers.settled_as_written`, which answers only when sure) is not parsed in
    full, or gets no model: a fresh checkout validates only the incidents that may still
    fall due, so what else is wrong with a settled one is `validate`'s to say. Files
    that do not parse are told to `warn` and skipped, and never cached, so every run says
    so again."""
    subjects: list[timers.Subject] = []
    paths: dict[str, str] = {}
    policies: dict[str | None, Policy] = {}
    approvals = Approvals(repo.root, warn)
    cache = repo.source.results
    key = repo.policies.fingerprint() if cache.enabled else ""
    earlier = turns.kept if turns is not None and cache.enabled else {}
    kept: dict[str, Judged] = {}

    def read(path: Path) -> tuple[str, bytes | None]:
        """A file's hash (only the cache needs it: not computed without) and its bytes."""
        return repo.source.digest(path) if cache.enabled else ("", repo.source.raw(path))

    def declared(digest: str | None) -> Policy:
        """The policy an incident's `policy` field names, looked up once per digest."""
        if digest not in policies:
            policies[digest] = repo.policies.declared(digest)
        return policies[digest]

    def settles(
        front: dict[str, Any],
        pir: timers.PirState | None,
        written: timers.PirState | None,
        entry: tuple[str, str] | None,
    ) -> bool:
        """Whether the incident's front-matter values `front`, with its PIR (`pir`: with
        git's approval time; `written`: as the file says), surely settled it by `now`; if so
        the settled instant as written is kept in the cache under `entry` (name, key)."""
        named = front.get("policy")  # as parsed: not a digest's string names no policy
        policy = declared(named) if named is None or isinstance(named, str) else None
        surely = timers.settled_as_written(front, pir, policy)
        if surely is None or surely > now:
            return False
        from_git = pir is not written
        since = timers.settled_as_written(front, written, policy) if from_git else surely
        if entry is not None and since is not None:
            cache.put(*entry, {"since": since.isoformat(), "git": from_git})
        return True

    with bulk_load(), repo.source.batch():
        for path in repo.incident_files():
            rel = repo.rel(path)
            review = path.with_name(PIR_FILE)
            raw: bytes | None = None
            review_raw: bytes | None = None
            content: str | None = None
            reviewed: str | None = "-"
            # no pir.md: not in the listing just made, or the read failed (no second look)
            unreviewed = repo.pirs.listed_beside(path) is False
            try:
                content, raw = read(path)
                try:
                    if not unreviewed:
                        reviewed, review_raw = read(review)
                except FileNotFoundError:
                    unreviewed = True
            except DocumentError:
                content = reviewed = None  # read again below, where its error is told
            name = f"settled:{rel}"
            entry_key = f"{content}:{reviewed}:{key}" if content is not None else ""
            memo = f"{rel}|{entry_key}" if turns is not None else ""  # for a watcher
            if reviewed is not None and cache.enabled:
                since = _settled_at(cache.get(name, entry_key), approvals, repo.rel(review))
                if since is not None and since <= now:
                    continue  # settled: it costs nothing
                judged = earlier.get(memo)
                if judged is not None:  # the same bytes and policies as the last turn
                    kept[memo] = judged
                    paths[judged.subject.incident.id] = judged.path
                    if judged.settled is None or judged.settled > now:
                        subjects.append(judged.subject)
                    continue
            try:
                raw = raw or repo.source.raw(path)
            except DocumentError as exc:
                warn(f"skipped: {exc.render()}")
                continue
            told: list[str] = []  # told once the incident is known to be readable
            written = (  # as the file says
                None if unreviewed else _written_review(repo, Path(rel), told.append, review_raw)
            )
            pir = approvals.timed(written, repo.rel(review))
            from_git = pir is not written
            entry = (name, entry_key) if cache.enabled and reviewed is not None else None
            top = None if told else top_level(raw, timers.SETTLING_FIELDS)
            if top is not None and settles(top, pir, written, entry):
                continue  # settled, as the few lines that tell show: not even parsed
            try:
                doc = repo.incidents.parsed(path, raw)
            except DocumentError as exc:
                warn(f"skipped: {exc.render()}")
                continue
            if top is None and not told and settles(doc.data, pir, written, entry):
                continue  # settled: no model built
            try:
                incident = repo.incidents.validated(doc)
            except DocumentErrors as exc:
                warn(f"skipped: {exc.errors[0].render()}")
                continue
            doc.data = {}
            for message in told:
                warn(message)
            subject = timers.Subject(incident, declared(incident.policy), pir)
            paths[incident.id] = str(doc.path)
            settled = timers.settled_since(subject)
            if cache.enabled and not told and reviewed is not None:  # as written, for later
                since = (
                    timers.settled_since(timers.Subject(incident, subject.policy, written))
                    if from_git
                    else settled
                )
                if since is not None:
                    cache.put(name, entry_key, {"since": since.isoformat(), "git": from_git})
            if settled is None or settled > now:  # a settled one is not kept: nothing is due
                subjects.append(subject)
            # a review told about or timed from git is worked out again every turn
            reusable = cache.enabled and reviewed is not None and not told and not from_git
            if turns is not None and reusable:
                kept[memo] = Judged(subject, paths[incident.id], settled)
    if turns is not None:
        turns.reused = sum(1 for k in kept if k in earlier)
        turns.kept = kept
    return subjects, paths


def _settled_at(value: Any, approvals: Approvals, review: str) -> datetime | None:
    """The cached "settled since" instant (with the PIR's approval time from git when it
    records none), if the entry has exactly the shape written; else None."""
    if not isinstance(value, dict) or set(value) != {"since", "git"}:
        return None
    since, from_git = value["since"], value["git"]
    if not isinstance(since, str) or not isinstance(from_git, bool):
        return None
    try:
        at = datetime.fromisoformat(since)
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    if from_git:
        approved = approvals.at(review)
        if approved is not None:
            at = max(at, approved)
    return at
