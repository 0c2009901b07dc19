"""Runbooks: the checks `validate` runs on them, drills, staleness, and what `runbook new` fills in.

Pure: takes documents, models, the policy and `now`; returns findings and new models. An
on-call engineer opens a runbook at 3 a.m., so a runbook must say how to recognise the
problem (Symptoms), find the cause (Diagnosis), stop the damage (Mitigation), get help
(Escalation) and keep it from coming back (Prevention), and none of it may still read TODO.
How long a runbook may go untested is the timers' business (rule runbook-untested).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from incidentctl.checks.incidents import Finding
from incidentctl.core.businessdays import advance
from incidentctl.core.documents import Document
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.markdown import (
    PLACEHOLDER,
    Line,
    Section,
    has_content,
    has_placeholder,
    placeholders,
    split_sections,
)
from incidentctl.core.model import (
    Drill,
    DrillResult,
    EventKind,
    HypothesisResult,
    Incident,
    Runbook,
    is_handle,
)
from incidentctl.core.policy import Policy
from incidentctl.core.timevalues import in_future
from incidentctl.deadlines.case import end_of_day
from incidentctl.render.context import plain_context

SECTIONS = ("Symptoms", "Diagnosis", "Mitigation", "Escalation", "Prevention")
NEVER, STALE, DUE_SOON, OK = "never tested", "stale", "due soon", "ok"

_SECTION_HINT = (
    "a runbook has the sections ## Symptoms, ## Diagnosis, ## Mitigation, ## Escalation and "
    "## Prevention; `incidentctl runbook new` writes them"
)


def _key(title: str) -> str:
    """'Diagnosis and triage:' -> 'diagnosis': the first word names the section."""
    words = re.sub(r"[^a-z0-9 ]+", " ", title.lower()).split()
    words = [w for w in words if not w.isdigit()]
    return words[0] if words else ""


def _parts(doc: Document) -> tuple[list[Line], list[Section]]:
    """The introduction (everything before the first `##` heading) and each `##` section.
    A `#` heading after a section starts an untitled one; one before is introduction."""
    parts = split_sections(doc.body, doc.body_line, depth=2)
    start = next((i for i, part in enumerate(parts) if part.level == 2), len(parts))
    intro = list(enumerate(doc.body.split("\n"), start=doc.body_line))
    if start < len(parts):
        intro = intro[: parts[start].line - doc.body_line]
    sections = [p if p.level == 2 else replace(p, title="") for p in parts[start:]]
    return intro, sections


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return close[0] if close else None


def unknown_services(services: list[str], known: set[str]) -> list[tuple[int, str, str | None]]:
    """(index, name, closest known name) for each service the policy does not list.
    A policy that lists no services does not restrict them."""
    if not known:
        return []
    return [(i, s, did_you_mean(s, known)) for i, s in enumerate(services) if s not in known]


def check_runbook(doc: Document, book: Runbook, *, known_services: set[str]) -> list[Finding]:
    """Every problem an on-call engineer would trip over, each with file and line."""
    intro, sections = _parts(doc)
    out = _sections(doc, sections)
    out += _placeholder_findings(doc, book, intro, sections)
    out += _references(doc, book, known_services)
    out += _drills(doc, book)
    if not Runbook.valid_name(doc.path.stem):
        out.append(
            Finding(
                str(doc.path),
                None,
                "runbook-name",
                f"runbook file name '{doc.path.name}' is not a lowercase slug",
                "incidents link to runbooks by file name: use lowercase letters, digits and '-'",
                severity="warning",
            )
        )
    return out


def placeholders_left(doc: Document, book: Runbook) -> list[Finding]:
    """The TODOs of the template nobody replaced: a runbook holding one was not exercised
    as written, so a drill of it cannot pass (`runbook tested` refuses it)."""
    intro, sections = _parts(doc)
    return _placeholder_findings(doc, book, intro, sections)


def _sections(doc: Document, sections: list[Section]) -> list[Finding]:
    """Each required section present once and not empty."""
    path = str(doc.path)
    required = [name.lower() for name in SECTIONS]
    out: list[Finding] = []
    found: dict[str, Section] = {}
    for section in sections:
        key = _key(section.title)
        if key not in required:
            continue
        if key in found:
            first = found[key]
            out.append(
                Finding(
                    path,
                    section.line,
                    "runbook-section",
                    f"section '## {section.title}' repeats '## {first.title}' (line "
                    f"{first.line}); only the first is checked",
                    "merge the two sections",
                    severity="warning",
                )
            )
            continue
        found[key] = section
    # where a missing section is reported when no later one exists: the body's last line,
    # or the closing fence of a runbook without a body
    last_line = doc.body_line + len(doc.body.rstrip("\n").split("\n")) - 1
    if not doc.body.strip():
        last_line = doc.body_line - 1
    for index, name in enumerate(SECTIONS):
        present = found.get(name.lower())
        if present is None:
            later = [found[n].line for n in required[index + 1 :] if n in found]
            message, hint = f"section '## {name}' is missing", _SECTION_HINT
            line = min(later) if later else last_line
        elif not has_content(present.lines):
            message, line = f"section '## {name}' is empty", present.line
            hint = f"write what the on-call engineer needs under ## {name}"
        else:
            continue
        out.append(Finding(path, line, "runbook-section", message, hint))
    return out


def _placeholder_findings(
    doc: Document, book: Runbook, intro: list[tuple[int, str]], sections: list[Section]
) -> list[Finding]:
    """Template text nobody replaced, in the body and in the front-matter's symptoms."""
    path = str(doc.path)
    out: list[Finding] = []
    parts = [("the introduction", intro)]
    parts += [(f"'## {s.title}'" if s.title else "the body", s.lines) for s in sections]
    for where, lines in parts:
        for number, text in placeholders(lines):
            out.append(
                Finding(
                    path,
                    number,
                    "runbook-placeholder",
                    f"placeholder left in {where}: {_short(text)}",
                    f"replace the {PLACEHOLDER} with the real content",
                )
            )
    for index, symptom in enumerate(book.symptoms):
        if has_placeholder(symptom):
            out.append(
                Finding.at(
                    doc,
                    "runbook-placeholder",
                    ("symptoms", index),
                    f"placeholder left in symptoms: {_short(symptom)}",
                    "name the alert or the report that leads here",
                )
            )
    return out


def _references(doc: Document, book: Runbook, known_services: set[str]) -> list[Finding]:
    out: list[Finding] = []
    for index, name, close in unknown_services(book.services, known_services):
        out.append(
            Finding.at(
                doc,
                "runbook-reference",
                ("services", index),
                f"unknown service '{name}'",
                f"did you mean '{close}'?" if close else "add it to policies/components.yaml",
            )
        )
    if not is_handle(book.owner):
        out.append(
            Finding.at(
                doc,
                "runbook-reference",
                ("owner",),
                f"owner '{book.owner}' is not a GitHub user or team",
                "write @user or @org/team so reminders can mention the owner",
                severity="warning",
            )
        )
    return out


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _drills(doc: Document, book: Runbook) -> list[Finding]:
    passed = [d for d in book.drills if d.result == DrillResult.PASSED]
    if not passed:
        return []
    latest = max(_day(d.at) for d in passed)
    if book.last_tested is not None and book.last_tested >= latest:
        return []
    shown = "not set" if book.last_tested is None else f"{book.last_tested}"
    return [
        Finding.at(
            doc,
            "runbook-drill",
            ("last_tested",),
            f"last_tested is {shown} but a drill passed on {latest}",
            f"set last_tested: {latest} (`incidentctl runbook tested` records both)",
            severity="warning",
        )
    ]


def record_drill(
    book: Runbook,
    *,
    name: str,
    at: datetime | date,
    now: datetime,
    by: str | None,
    result: DrillResult,
    note: str | None,
) -> Runbook:
    """The runbook with one more drill; a passed drill also moves last_tested forward."""
    if isinstance(at, datetime):
        at = at.replace(microsecond=0)
        future = in_future(at, now)
    else:
        future = at > now.date()
    if future:
        raise IncidentctlError(
            f"drill time {_text(at)} is in the future (now is {_text(now)})",
            hint="--at records when the drill ran; leave it out to use the current time",
        )
    day = _day(at)
    if result == DrillResult.PASSED and book.last_tested is not None and day < book.last_tested:
        raise IncidentctlError(
            f"runbook {name} was last tested on {book.last_tested}; a drill that passed on "
            f"{day} would move last_tested backwards",
            hint="check --at; an older drill that did not pass can be recorded with "
            "--result failed or partial",
        )
    if book.drills and _before(at, book.drills[-1].at):
        raise IncidentctlError(
            f"runbook {name} already records a drill on {_text(book.drills[-1].at)}; drills "
            f"are recorded in time order, so {_text(at)} cannot follow it",
            hint="check --at; to backfill an older drill, add it to `drills:` by hand, in order",
        )
    drill = Drill(at=at, by=by, result=result, note=note)
    last_tested = book.last_tested
    if result == DrillResult.PASSED and (last_tested is None or day > last_tested):
        last_tested = day
    return book.model_copy(update={"drills": [*book.drills, drill], "last_tested": last_tested})


def _before(a: datetime | date, b: datetime | date) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a < b
    return _day(a) < _day(b)


def _text(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%dT%H:%M:%SZ}"
    return value.isoformat()


@dataclass(frozen=True)
class Freshness:
    """How a runbook stands against policy.review.runbook_max_untested at `now`."""

    state: str  # ok, due soon, stale, never tested
    due: datetime | None  # when it becomes stale; None: never tested, or no limit
    age_days: int | None  # whole days since last_tested

    @property
    def stale(self) -> bool:
        return self.state in (STALE, NEVER)


def freshness(book: Runbook, policy: Policy, now: datetime) -> Freshness:
    """The same arithmetic as the runbook-untested timer, for `runbook list`."""
    limit = policy.review.runbook_max_untested
    age = None if book.last_tested is None else (now.date() - book.last_tested).days
    if book.last_tested is None:
        return Freshness(NEVER if limit is not None else OK, None, None)
    if limit is None:
        return Freshness(OK, None, age)
    due = advance(end_of_day(book.last_tested), limit, policy.sla.business_days)
    lead = policy.sla.due_soon.timedelta if policy.sla.due_soon else timedelta(0)
    if now > due:
        state = STALE
    elif due - lead <= now:
        state = DUE_SOON
    else:
        state = OK
    return Freshness(state, due, age)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def new_context(
    *,
    name: str,
    title: str,
    owner: str,
    services: list[str],
    policy: Policy,
    incident: Incident | None = None,
    incident_link: str | None = None,
) -> dict[str, Any]:
    """Everything `templates/runbook.md.j2` may use.

    name, title, owner, services: as given. symptoms: what the incident's title and user
    impact say (empty without an incident). contacts: per service, the tier-2 and tier-3
    primary and backup from the escalation policy. incident: None, or its id, title,
    priority, link (relative to runbooks/), user_impact, summary, mitigation, causes and
    confirmed hypotheses, for a runbook written after an incident.
    """
    symptoms: list[str] = []
    incident_data: dict[str, Any] | None = None
    if incident is not None:
        for text in (incident.user_impact, incident.title):
            if text and _one_line(text) not in symptoms:
                symptoms.append(_one_line(text))
        mitigation = None
        if incident.mitigation is not None:
            mitigation = incident.mitigation.strategy.value
            if incident.mitigation.description:
                mitigation += ": " + _one_line(incident.mitigation.description)
        timeline = incident.timeline
        incident_data = {
            "id": incident.id,
            "title": _one_line(incident.title),
            "priority": incident.priority.value,
            "link": incident_link,
            "user_impact": _one_line(incident.user_impact or "") or None,
            "summary": _one_line(incident.summary or "") or None,
            "mitigation": mitigation,
            "causes": [_one_line(e.text) for e in timeline if e.kind == EventKind.CAUSE and e.text],
            "hypotheses": [
                _one_line(e.text)
                for e in timeline
                if e.kind == EventKind.HYPOTHESIS
                and e.result == HypothesisResult.CONFIRMED
                and e.text
            ],
        }
    contacts = []
    for service in services:
        for level in ("tier-2", "tier-3"):
            contact = policy.contact(service, level)
            if contact is not None and (contact.primary or contact.backup):
                contacts.append(
                    {
                        "service": service,
                        "level": level,
                        "primary": contact.primary,
                        "backup": contact.backup,
                    }
                )
    values: dict[str, Any] = {
        "name": name,
        "title": _one_line(title),
        "owner": owner,
        "services": services,
        "symptoms": symptoms,
        "contacts": contacts,
        "incident": incident_data,
        "placeholder": PLACEHOLDER,
        "max_untested": str(policy.review.runbook_max_untested or ""),
    }
    return plain_context(values)
