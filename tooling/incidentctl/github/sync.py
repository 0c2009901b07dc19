"""Bring GitHub in step with the files: tracking issues, reminders, action issues, PR comment.

Uses the adapter in github.py (never PyGithub directly) and the specs in tracking.py. Each
operation is idempotent: objects are found again by their hidden marker, a create is preceded
by a lookup (and repeated only after another lookup), and a run ends by closing duplicate
issues and deleting duplicate comments that a concurrent run may have made at the same
moment (the lowest number survives, so concurrent runs agree on which one that is).

A comment's marker counts only when a trusted author wrote it (`GitHub.trusted_authors`):
a marker in anyone else's comment is ignored, never edited, deleted or taken as "posted".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from incidentctl.core.model import ActionStatus, Incident, Pir
from incidentctl.core.oncall import PAGE_BACKUP_AFTER
from incidentctl.deadlines.timers import OVERDUE, Reminder, reminder_key
from incidentctl.github.client import GitHub, Note, Ticket
from incidentctl.github.tracking import (
    ACTION_LABEL,
    INCIDENT_LABEL,
    LABEL_COLORS,
    PR_MARKER,
    IssueSpec,
    action_issue,
    incident_issue,
    marker,
    marker_of,
    reminder_body,
)


@dataclass
class Tracker:
    """The issues of one kind (tracking or action issues), indexed by marker value."""

    gh: GitHub
    kind: str  # INCIDENT_LABEL | "action"
    label: str
    _index: dict[str, list[Ticket]] | None = None
    created: int = 0
    labels_ready: set[str] = field(default_factory=set)

    def index(self, *, refresh: bool = False) -> dict[str, list[Ticket]]:
        if self._index is None or refresh:
            found: dict[str, list[Ticket]] = {}
            for ticket in self.gh.issues_labelled(self.label):
                mark = marker_of(ticket.body)
                if mark and mark[0] == self.kind and mark[1]:
                    found.setdefault(mark[1], []).append(ticket)
            for tickets in found.values():
                tickets.sort(key=lambda t: t.number)
            self._index = found
        return self._index

    def find(self, key: str) -> Ticket | None:
        tickets = self.index().get(key)
        return tickets[0] if tickets else None

    def _labels(self, names: Iterable[str]) -> None:
        missing = [n for n in names if n not in self.labels_ready]
        if missing:
            self.gh.ensure_labels(missing, LABEL_COLORS)
            self.labels_ready.update(missing)

    def ensure(self, spec: IssueSpec, *, push_state: bool = True) -> tuple[Ticket | None, str]:
        """The issue for `spec`, created or brought in step; and what was done."""
        looked = [False]

        def find() -> Ticket | None:
            if looked[0]:
                self.index(refresh=True)  # a create may have landed though its answer was lost
            looked[0] = True
            return self.find(spec.key)

        existing = find()
        assignees: list[str] = []
        if existing is None:
            self._labels(spec.labels)
            assignees = [a for a in spec.assignees if self.gh.can_assign(a)]
        ticket, created = (
            self.gh.create_issue(
                f"create issue for {spec.key}: {spec.title}",
                find,
                title=spec.title,
                body=spec.body,
                labels=list(spec.labels),
                assignees=assignees,
            )
            if existing is None
            else (existing, False)
        )
        if created:
            self.created += 1
            if ticket is not None:
                self.index().setdefault(spec.key, []).append(ticket)
                if spec.closed:
                    self.gh.edit_issue(
                        ticket, f"close #{ticket.number} ({spec.key})", state="closed"
                    )
            return ticket, "created" if ticket is not None else "would be created"
        assert ticket is not None
        changes: dict[str, object] = {}
        if ticket.title != spec.title:
            changes["title"] = spec.title
        if ticket.body.replace("\r\n", "\n") != spec.body:
            changes["body"] = spec.body
        labels = spec.labels_for(ticket.labels)
        if set(labels) != set(ticket.labels):
            self._labels(spec.labels)
            changes["labels"] = labels
        if push_state and (ticket.state == "closed") != spec.closed:
            changes["state"] = "closed" if spec.closed else "open"
        if not changes:
            return ticket, "unchanged"
        self.gh.edit_issue(
            ticket, f"update #{ticket.number} ({spec.key}): {', '.join(changes)}", **changes
        )
        verb = "would update " if self.gh.settings.dry_run else "updated "
        return ticket, verb + ", ".join(changes)

    def dedupe(self) -> int:
        """Close the duplicates a concurrent run made (keeping the lowest number); how many."""
        index = self.index(refresh=self.created > 0)
        closed = 0
        for key, tickets in index.items():
            keep = tickets[0]
            for extra in tickets[1:]:
                self.gh.edit_issue(
                    extra,
                    f"close duplicate #{extra.number} of #{keep.number} ({key})",
                    state="closed",
                    labels=["duplicate"],
                    body=f"Duplicate of #{keep.number} (made by a concurrent run; closed by "
                    "incidentctl).\n",
                )
                closed += 1
            index[key] = [keep]
        return closed


# -- tracking issues -------------------------------------------------------------------------
def sync_incidents(gh: GitHub, incidents: list[tuple[Incident, str]]) -> list[str]:
    """One tracking issue per incident, in step with its file. Returns one line per change."""
    tracker = Tracker(gh, INCIDENT_LABEL, INCIDENT_LABEL)
    out: list[str] = []
    for incident, rel in incidents:
        spec = incident_issue(incident, gh.settings.file_url(rel), rel)
        ticket, done = tracker.ensure(spec)
        where = f"#{ticket.number}" if ticket else "(new issue)"
        out.append(f"{incident.id} {where}: {done}")
    closed = tracker.dedupe()
    if closed:
        out.append(f"closed {closed} duplicate issue(s) made by a concurrent run")
    return out


# -- reminders -------------------------------------------------------------------------------
def post_reminders(
    gh: GitHub,
    findings: list[Reminder],
    incidents: dict[str, tuple[Incident, str]],
    now: datetime,
    *,
    repeat_seconds: int | None = None,
    backups: Callable[[Reminder], tuple[str, ...]] | None = None,
    blocked_after: int = PAGE_BACKUP_AFTER,
) -> list[str]:
    """Post each overdue finding once on its incident's tracking issue (found or created)."""
    tracker = Tracker(gh, INCIDENT_LABEL, INCIDENT_LABEL)
    out: list[str] = []
    by_incident: dict[str, list[Reminder]] = {}
    for f in findings:
        if f.state != OVERDUE:
            continue
        if f.incident not in incidents:
            why = "a runbook has" if f.rule == "runbook-untested" else "no incident, so"
            out.append(f"{f.incident} {f.rule}: not posted ({why} no tracking issue)")
            continue
        by_incident.setdefault(f.incident, []).append(f)
    posted_on: list[Ticket] = []
    count = 0
    for incident_id, found in by_incident.items():
        incident, rel = incidents[incident_id]
        spec = incident_issue(incident, gh.settings.file_url(rel), rel)
        ticket, _ = tracker.ensure(spec)
        notes = _ours(gh, gh.comments(ticket), ticket, "reminder") if ticket else []
        posted = _keys(notes, "reminder")
        for f in found:
            key = reminder_key(f, now, repeat_seconds)
            if key in posted:
                continue
            where = f"#{ticket.number}" if ticket else "the new tracking issue"
            if ticket is None:
                gh.say(f"would comment on {where}: {f.rule} {f.message}")
                continue
            _note, created = gh.create_comment(
                ticket,
                f"remind on {where}: {f.rule} {f.message}",
                _finder(gh, ticket, "reminder", key),
                reminder_body(
                    f,
                    key,
                    now,
                    earlier=_earlier(posted, key),
                    backups=backups(f) if backups else (),
                    blocked_after=blocked_after,
                ),
            )
            posted.add(key)
            if created:
                count += 1
                if ticket not in posted_on:
                    posted_on.append(ticket)
    for ticket in posted_on:
        _dedupe_comments(gh, ticket, "reminder")
    tracker.dedupe()
    overdue = sum(len(found) for found in by_incident.values())
    if not gh.settings.dry_run:
        out.append(f"posted {count} of {overdue} overdue reminder(s); the rest were posted before")
    return out


def _earlier(posted: set[str], key: str) -> int:
    breach = key.rsplit("|", 1)[0] + "|"
    return sum(1 for k in posted if k.startswith(breach))


def _ours(gh: GitHub, notes: list[Note], ticket: Ticket, kind: str | None = None) -> list[Note]:
    """The comments by a trusted author: anyone who can comment could otherwise paste a
    marker and silence a reminder, or have the PR summary adopted and edited. With `kind`,
    each ignored comment carrying that kind's marker is said once."""
    ours = [n for n in notes if gh.trusts(n.author)]
    if kind is not None:
        for note in notes:
            mark = marker_of(note.body)
            if mark and mark[0] == kind and not gh.trusts(note.author):
                gh.say(
                    f"#{ticket.number}: ignored the {kind} marker in comment {note.id} by "
                    f"{note.author or 'a deleted user'} (not a trusted author; trusted: "
                    f"{', '.join(sorted(gh.trusted_authors))}; add more with "
                    "INCIDENTCTL_TRUSTED_AUTHORS)"
                )
    return ours


def _keys(notes: list[Note], kind: str) -> set[str]:
    out: set[str] = set()
    for note in notes:
        mark = marker_of(note.body)
        if mark and mark[0] == kind and mark[1]:
            out.add(mark[1])
    return out


def _finder(gh: GitHub, ticket: Ticket, kind: str, key: str | None) -> Callable[[], Note | None]:
    looked = [False]

    def find() -> Note | None:
        if not looked[0]:  # the caller has just listed the comments
            looked[0] = True
            return None
        for note in _ours(gh, gh.comments(ticket), ticket):
            if marker_of(note.body) == (kind, key):
                return note
        return None

    return find


def _dedupe_comments(gh: GitHub, ticket: Ticket, kind: str) -> None:
    seen: set[str | None] = set()
    for note in sorted(_ours(gh, gh.comments(ticket), ticket), key=lambda n: n.id):
        mark = marker_of(note.body)
        if not mark or mark[0] != kind:
            continue
        if mark[1] in seen:
            gh.delete_comment(note, f"delete duplicate comment {note.id} on #{ticket.number}")
        seen.add(mark[1])


# -- preventive actions ----------------------------------------------------------------------
@dataclass(frozen=True)
class ReadBack:
    """What an action's issue says, to be recorded in its PIR (--write-back)."""

    pir: str  # repository path of pir.md
    action: str
    index: int  # position in the PIR's `actions` list
    issue: str  # "#12"
    done_at: date | None  # set when the issue is closed and the PIR still says open
    status: str = "done"  # or "cancelled" for an issue closed as not planned


def _own_issue(gh: GitHub, ref: str) -> int | None:
    """The number of `#12`, or of a URL of an issue in this repository; None otherwise."""
    ref = ref.strip()
    if ref.startswith("#") and ref[1:].isdigit():
        return int(ref[1:])
    own = f"{gh.settings.server_url.rstrip('/')}/{gh.settings.repository}/issues/"
    tail = ref.removeprefix(own)
    return int(tail) if tail != ref and tail.isdigit() else None


def sync_actions(
    gh: GitHub, pirs: list[tuple[str, Pir]], now: datetime
) -> tuple[list[str], list[ReadBack]]:
    """One issue per preventive action; and what to write back into each PIR."""
    tracker = Tracker(gh, "action", ACTION_LABEL)
    out: list[str] = []
    back: list[ReadBack] = []
    for rel, pir in pirs:
        for index, action in enumerate(pir.actions):
            spec = action_issue(pir.incident, action, gh.settings.file_url(rel), rel)
            settled = action.status in (ActionStatus.DONE, ActionStatus.CANCELLED)
            ticket: Ticket | None = tracker.find(spec.key)
            if ticket is None and action.issue:
                # tracked already: an issue of ours (read it back) or one elsewhere (leave it)
                number = _own_issue(gh, action.issue)
                if number is None:
                    out.append(f"{spec.key}: tracked elsewhere ({action.issue})")
                    continue
                ticket = gh.issue(number)
            elif ticket is None and settled:
                out.append(f"{spec.key}: {action.status.value}, no issue needed")
                continue
            done = "found"
            if ticket is None or marker_of(ticket.body) == ("action", spec.key):
                ticket, done = tracker.ensure(spec, push_state=False)
            if ticket is None:
                out.append(f"{spec.key}: {done}")
                continue
            if settled and ticket.state != "closed":
                reason = "completed" if action.status == ActionStatus.DONE else "not_planned"
                gh.edit_issue(
                    ticket,
                    f"close #{ticket.number} ({spec.key}: {action.status.value} in the PIR)",
                    state="closed",
                    state_reason=reason,
                )
                done = f"closed ({action.status.value} in the PIR)"
            done_at: date | None = None
            status = ActionStatus.DONE
            if ticket.state == "closed" and not settled:
                done_at = (ticket.closed_at or now).date()
                if ticket.state_reason == "not_planned":
                    status = ActionStatus.CANCELLED
                done = f"issue closed {done_at}: action {status.value}"
            issue = f"#{ticket.number}"
            known = action.issue is not None and _own_issue(gh, action.issue) == ticket.number
            if done_at is not None or not known:
                back.append(ReadBack(rel, action.id, index, issue, done_at, status.value))
            out.append(f"{spec.key} #{ticket.number}: {done}")
    closed = tracker.dedupe()
    if closed:
        out.append(f"closed {closed} duplicate issue(s) made by a concurrent run")
    return out, back


# -- the sticky pull-request comment -----------------------------------------------------------
def pr_comment(gh: GitHub, number: int, body: str) -> str:
    """Create or update the one summary comment on pull request `number` (ours: a trusted
    author's; a summary marker in anyone else's comment is left alone)."""
    ticket = gh.issue(number)
    text = f"{PR_MARKER}\n{body}"
    notes = [
        n
        for n in _ours(gh, gh.comments(ticket), ticket, "pr-summary")
        if marker_of(n.body) == ("pr-summary", None)
    ]
    notes.sort(key=lambda n: n.id)
    if not notes:
        _note, created = gh.create_comment(
            ticket,
            f"comment the summary on #{number}",
            _finder(gh, ticket, "pr-summary", None),
            text,
        )
        _dedupe_comments(gh, ticket, "pr-summary")
        return f"#{number}: summary {'posted' if created else 'found'}"
    keep = notes[0]
    for extra in notes[1:]:
        gh.delete_comment(extra, f"delete duplicate summary {extra.id} on #{number}")
    if keep.body.replace("\r\n", "\n") == text:
        return f"#{number}: summary unchanged"
    gh.edit_comment(keep, f"update the summary on #{number}", text)
    return f"#{number}: summary updated"


__all__ = ["ReadBack", "Tracker", "marker", "post_reminders", "pr_comment", "sync_actions"]
