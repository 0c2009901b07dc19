"""Is a post-incident review complete, consistent and blameless? Each finding located.

Pure: takes the parsed pir.md, its incident and the review policy. Completeness findings
(rule `pir-incomplete`) are warnings while the PIR is a draft and errors once it is in review
or approved, so a draft can be merged while the analysis goes on, and the PR that asks for
approval is told precisely what is still missing. Inconsistencies (duplicate action IDs,
a due date before the incident, approval without approvers) are always errors. Blame language
is always a warning: a reviewer decides.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from incidentctl.checks.incidents import Finding
from incidentctl.core.diagnostics import field_name
from incidentctl.core.documents import Document
from incidentctl.core.markdown import (
    PLACEHOLDER,
    Section,
    has_content,
    has_placeholder,
    outline,
    placeholders,
)
from incidentctl.core.model import FISHBONE_GROUPS, Incident, Pir, PirStatus
from incidentctl.core.policy import Blameless, Review

INCOMPLETE = "pir-incomplete"
BLAME = "pir-blameless"
_HANDLE = re.compile(r"(?<![\w/])@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?![\w/-])")
_ALLOW_MARK = "blameless: ok"
# body sections the blameless check leaves alone: they report who did what, on purpose
_FACTUAL = {"timeline", "key times", "appendix", "runbooks", "investigation"}


def _filled(section: Section) -> tuple[bool, int | None]:
    """(has real content, line of the first placeholder if any)."""
    found = placeholders(section.lines)
    return has_content(section.lines), found[0][0] if found else None


def _is_placeholder(value: object) -> bool:
    return value is None or (
        isinstance(value, str) and (not value.strip() or has_placeholder(value))
    )


class _Report:
    def __init__(self, doc: Document, status: PirStatus) -> None:
        self.doc, self.status = doc, status
        self.out: list[Finding] = []

    def at(
        self,
        rule: str,
        loc: tuple[str | int, ...],
        message: str,
        hint: str | None = None,
        severity: str = "error",
    ) -> None:
        self.out.append(Finding.at(self.doc, rule, loc, message, hint, severity))

    def missing(
        self, loc: tuple[str | int, ...], message: str, hint: str, line: int | None = None
    ) -> None:
        """Something incomplete: a warning in a draft, an error once it is up for review."""
        severity = "warning" if self.status == PirStatus.DRAFT else "error"
        finding = Finding.at(self.doc, INCOMPLETE, loc, message, hint, severity)
        self.out.append(finding if line is None else replace(finding, line=line))


def check_pir(
    doc: Document,
    pir: Pir,
    incident: Incident | None,
    review: Review,
    *,
    folder_id: str | None,
    incident_exists: bool = True,
) -> list[Finding]:
    """Every finding for one pir.md. `folder_id` is the incident folder it sits in."""
    report = _Report(doc, pir.status)
    if folder_id is not None and pir.incident != folder_id:
        report.at(
            "pir-incident",
            ("incident",),
            f"this PIR sits in {folder_id}'s folder but names incident {pir.incident}",
            f"set `incident: {folder_id}`, or move the file beside its incident",
        )
    if incident is None and not incident_exists:
        report.at(
            "pir-incident",
            ("incident",),
            f"no incident {pir.incident} beside this PIR",
            "a PIR lives in its incident's folder: incidents/YYYY/MM/ID/pir.md",
        )
    sections = outline(doc.body, doc.body_line)  # one reading for every check of the body
    _sections(sections, review, report)
    _analysis(pir, review, report)
    _actions(pir, incident, report)
    _approval(pir, incident, report)
    if review.blameless.enabled:
        report.out += blame(doc, pir, incident, review.blameless, sections)
    return report.out


def _sections(sections: list[Section], review: Review, report: _Report) -> None:
    found = {s.title.casefold(): s for s in sections}
    for name in review.pir_sections:
        section = found.get(name.casefold())
        if section is None:
            report.missing(
                (),
                f"section '## {name}' is missing",
                "add it back (the PIR template has every section)",
            )
            continue
        filled, placeholder = _filled(section)
        if placeholder is not None:
            report.missing(
                (),
                f"section '{name}' still holds a {PLACEHOLDER} placeholder",
                f"replace the {PLACEHOLDER} with the review's findings",
                line=placeholder,
            )
        elif not filled:
            report.missing(
                (),
                f"section '{name}' is empty",
                "write it, or say why it is empty",
                line=section.line,
            )


def _analysis(pir: Pir, review: Review, report: _Report) -> None:
    for index, level in enumerate(pir.whys):
        for key in ("why", "because"):
            if _is_placeholder(getattr(level, key)):
                report.missing(
                    ("whys", index, key),
                    f"why #{index + 1}: '{key}' is not filled in",
                    "each answer becomes the next question",
                )
                break
    if len(pir.whys) < review.pir_min_whys:
        report.missing(
            ("whys",),
            f"the 5 whys go {len(pir.whys)} level(s) deep; "
            f"the review policy asks for {review.pir_min_whys}",
            "keep asking why until you reach a cause in the system, not a symptom",
        )
    if pir.root_cause is None:
        report.missing(
            ("root_cause",),
            "no root-cause key",
            "name the root cause with a short key such as missing-production-config; "
            "incidents sharing it count as recurrences",
        )
    for group in FISHBONE_GROUPS:
        factors = getattr(pir.contributing_factors, group)
        if not factors or all(_is_placeholder(f) for f in factors):
            report.missing(
                ("contributing_factors", group),
                f"contributing factors: the '{group}' group was not considered",
                'list at least one factor, or "none identified"',
            )
    for name in review.pir_impact:
        if getattr(pir.impact, name, None) is None:
            report.missing(
                ("impact", name),
                f"impact: {name} is not stated",
                "state the figure (0, none or an estimate)",
            )


def _actions(pir: Pir, incident: Incident | None, report: _Report) -> None:
    if not pir.actions:
        report.missing(
            ("actions",),
            "no preventive actions",
            "add them: incidentctl pir add-action ID --title ... --owner @who "
            "--horizon immediate|short-term|long-term",
        )
    counts = Counter(a.id for a in pir.actions)
    seen: set[str] = set()
    for index, action in enumerate(pir.actions):
        loc: tuple[str | int, ...] = ("actions", index)
        if counts[action.id] > 1 and action.id in seen:
            report.at(
                "pir-actions",
                (*loc, "id"),
                f"action ID {action.id} is used twice",
                "give each preventive action its own ID: issues are opened per ID",
            )
        seen.add(action.id)
        for key in ("owner", "horizon", "due"):
            if _is_placeholder(getattr(action, key)):
                report.missing(
                    (*loc, key),
                    f"action {action.id} has no {key}",
                    "every preventive action needs an owner, a horizon and a due date",
                )
        if _is_placeholder(action.title):
            report.missing((*loc, "title"), f"action {action.id} has no title", "say what to do")
        if (
            incident is not None
            and action.due is not None
            and action.due < incident.detected_at.date()
        ):
            report.at(
                "pir-actions",
                (*loc, "due"),
                f"action {action.id} is due {action.due}, before the incident "
                f"({incident.detected_at.date()})",
                "a preventive action is due after the incident; check the year",
            )


def _approval(pir: Pir, incident: Incident | None, report: _Report) -> None:
    if pir.status != PirStatus.APPROVED:
        return
    if not pir.approvers:
        report.at(
            "pir-approval",
            ("approvers",),
            "the PIR is approved but names no approvers",
            "list the reviewers who approved the pull request under `approvers:`",
        )
    if incident is not None and incident.is_open:
        report.at(
            "pir-approval",
            ("status",),
            f"the PIR is approved while incident {incident.id} is still {incident.status.value}",
            "approve the review after the incident is resolved",
            "warning",
        )


# -- blameless ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Phrases:
    """The blame phrases of one policy, compiled once for every PIR it judges."""

    pattern: re.Pattern[str] | None
    canonical: dict[str, str]  # casefolded phrase -> as the policy spells it
    # the phrases lowercased, when all are ASCII: in ASCII text the pattern can only match
    # where one of them is a substring of the lowercased text (a cheap test before it)
    lowered: tuple[str, ...] | None

    def may_match(self, text: str) -> bool:
        """False only where the pattern finds nothing in `text`."""
        if self.pattern is None:
            return False
        if self.lowered is None or not text.isascii():
            return self.pattern.search(text) is not None
        lowered = text.lower()
        return any(phrase in lowered for phrase in self.lowered)


def _phrases(policy: Blameless) -> _Phrases:
    return _compiled_phrases(tuple(policy.phrases), tuple(policy.allow))


@lru_cache(maxsize=32)
def _compiled_phrases(listed: tuple[str, ...], allow: tuple[str, ...]) -> _Phrases:
    allowed = {a.casefold() for a in allow}
    kept = {p for p in listed if p.casefold() not in allowed}
    lowered = tuple(p.lower() for p in kept) if all(p.isascii() for p in kept) else None
    return _Phrases(_phrase_pattern(kept), {p.casefold(): p for p in listed}, lowered)


def _phrase_pattern(kept: set[str]) -> re.Pattern[str] | None:
    """One alternation for every phrase (one search per line, not one per phrase)."""
    phrases = sorted(kept, key=len)
    if not phrases:
        return None
    alternatives = "|".join(re.escape(p) for p in reversed(phrases))  # longest first
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)", re.IGNORECASE)


def _people(incident: Incident | None) -> set[str]:
    """Individuals (not teams) named in the roles or the timeline."""
    if incident is None:
        return set()
    names = set(incident.roles.model_dump().values()) if incident.roles else set()
    names |= {e.by for e in incident.timeline} | {e.by for e in incident.escalations}
    return {n for n in names if n and n.startswith("@") and "/" not in n}


_Where = int | tuple[str | int, ...]  # a body line, or a front-matter key path


def _analysis_texts(
    pir: Pir, sections: list[Section]
) -> Iterator[tuple[str, Sequence[tuple[_Where, str]]]]:
    """(field, [(where, text)]) for every piece of analysis a person wrote: a front-matter
    value, or a section's lines (as the outline holds them, not copied). Front-matter lines
    are looked up only for a finding: composing the YAML again costs as much as parsing it."""
    for index, level in enumerate(pir.whys):
        for key in ("why", "because"):
            value = getattr(level, key)
            if isinstance(value, str):
                yield f"whys[{index}].{key}", [(("whys", index, key), value)]
    for group in FISHBONE_GROUPS:
        for index, factor in enumerate(getattr(pir.contributing_factors, group)):
            loc = ("contributing_factors", group, index)
            yield field_name(loc), [(loc, factor)]
    for section in sections:
        if section.level != 2 or section.title.casefold() in _FACTUAL:
            continue
        yield section.title, section.lines


def blame(
    doc: Document,
    pir: Pir,
    incident: Incident | None,
    policy: Blameless,
    sections: list[Section] | None = None,
) -> list[Finding]:
    """Blame language and named individuals in the analysis, as warnings with their lines.
    `sections`: the body's outline, if read already."""
    if sections is None:
        sections = outline(doc.body, doc.body_line)
    phrases = _phrases(policy)
    texts = list(_analysis_texts(pir, sections))
    # Most analyses hold neither: one test of all of it instead of one search per line. A
    # phrase or a handle found in a line is found in the lines joined by newlines too.
    whole = "\n".join([text for _, items in texts for _, text in items])
    named = policy.people and "@" in whole
    pattern = phrases.pattern if phrases.may_match(whole) else None
    if pattern is None and not named:
        return []
    canonical = phrases.canonical
    people = _people(incident) if named else set()
    out: list[Finding] = []
    hint = (
        "describe what in the system or process allowed it; a reviewer may keep the line "
        f"by adding '{_ALLOW_MARK}'"
    )

    def emit(where: _Where, field: str, message: str) -> None:
        line = where if isinstance(where, int) else doc.line_of(where)
        out.append(Finding(str(doc.path), line, BLAME, message, hint, field, "warning"))

    for field, items in texts:
        for where, text in items:
            if _ALLOW_MARK in text:
                continue
            if pattern is not None:
                seen: set[str] = set()
                for match in pattern.finditer(text):
                    phrase = canonical.get(match.group(0).casefold(), match.group(0))
                    if phrase not in seen:
                        seen.add(phrase)
                        emit(where, field, f"blame language: '{phrase}'")
            if people and "@" in text:
                for match in _HANDLE.finditer(text):
                    handle = "@" + match.group(1)
                    if handle in people:
                        emit(where, field, f"names an individual ({handle}) in the analysis")
    return out


def check_against_base(
    base: dict[str, Pir], current: dict[str, tuple[Document, Pir]]
) -> list[Finding]:
    """Approval happens in a reviewed pull request, and its time is the merge commit's: a
    change may not write `approved_at` by hand (it exists for imported reviews only)."""
    out: list[Finding] = []
    for rel, (doc, pir) in sorted(current.items()):
        before = base.get(rel)
        if pir.approved_at is not None and pir.approved_at != (
            before.approved_at if before else None
        ):
            out.append(
                Finding(
                    rel,
                    doc.line_of(("approved_at",)),
                    "pir-approval",
                    "approved_at is written by hand in this change",
                    "remove it: the approval time is the commit that merges the approved PR",
                    "approved_at",
                )
            )
    return out
