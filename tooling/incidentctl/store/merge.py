"""The merge driver on disk: git's three versions of a file in, the merged document out.

git runs `incidentctl merge-driver %O %A %B %P` for each incident.md (and pir.md) that both
branches changed, as `.gitattributes` says. The rules are `core.merge`; this module parses the
three versions, writes the merged fields into OURS' text as minimal edits (so its comments and
layout survive), marks what conflicts the way git does, and falls back to git's own line merge
when a version does not parse (a file that was already broken is merged no worse than git would).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from incidentctl.core import merge as rules
from incidentctl.core.documents import Document, parse
from incidentctl.core.errors import DocumentError, DocumentErrors
from incidentctl.store import edits
from incidentctl.store import git as vcs
from incidentctl.store.collection import validated
from incidentctl.store.files import write_atomic
from incidentctl.store.incidents import INCIDENT_FILE
from incidentctl.store.pirs import PIR_FILE

# what enables the driver in a clone (init's .gitattributes names the files it merges)
ENABLE_COMMAND = 'git config merge.incidentctl.driver "incidentctl merge-driver %O %A %B %P"'
LABELS = ("ours", "base", "theirs")  # the names on the conflict markers
_KINDS = {INCIDENT_FILE: rules.INCIDENT, PIR_FILE: rules.PIR}


def merge_files(base: Path, ours: Path, theirs: Path, path: str) -> list[str]:
    """Merge THEIRS and BASE into the file OURS, in place, as git's merge-driver contract
    asks. Returns what conflicts (field names, "body", or "the whole file"); empty: merged."""
    raw = [p.read_bytes() for p in (base, ours, theirs)]
    kind = _KINDS.get(Path(path).name)
    try:
        if kind is None:
            raise DocumentError(Path(path), "not an incident or a PIR")
        docs = [parse(Path(path), data) if data or i else None for i, data in enumerate(raw)]
        sides = [
            None if doc is None else rules.Side(doc.data, validated(kind.model, doc), doc.body)
            for doc in docs
        ]
        base_side, ours_side, theirs_side = sides
        mine, yours = docs[1], docs[2]
        if ours_side is None or theirs_side is None or mine is None or yours is None:
            raise DocumentError(Path(path), "empty")  # only the base may be empty (both added)
        merged = rules.merge(kind, base_side, ours_side, theirs_side)
    except (DocumentError, DocumentErrors, rules.MergeError):
        return _merge_lines(raw, ours)
    conflicts = list(merged.conflicts)
    body = merged.body
    if body is None:
        base_body = docs[0].body if docs[0] is not None else ""
        body, clean = vcs.merge_text(base_body, mine.body, yours.body, LABELS)
        if not clean:
            conflicts.append("body")
    front = _apply(mine.front, merged.changes, inserts=True)
    if merged.conflicts:
        front = _mark(front, yours.front, merged.conflicts)
    elif not _reads_as(kind.model, mine, front, body, merged.model):
        front = _apply(mine.front, merged.changes, inserts=False)
        if not _reads_as(kind.model, mine, front, body, merged.model):
            front = _block(mine.front, yours.front)  # an edit went wrong: a person decides
            conflicts.append("the front-matter")
    out = Document(path=mine.path, data={}, front=front, body=body, bom=mine.bom, crlf=mine.crlf)
    write_atomic(ours, out.text())
    return conflicts


def _apply(front: str, changes: list[rules.Change], *, inserts: bool) -> str:
    for change in changes:
        if inserts and change.inserts is not None:
            for index, item in change.inserts:
                front = edits.insert_item(front, change.key, index, item)
        else:
            front = edits.set_key(front, change.key, change.value)
    return front


def _reads_as(model: Any, mine: Document, front: str, body: str, expected: Any) -> bool:
    """The edited text parses back into exactly the merged document."""
    text = Document(path=mine.path, data={}, front=front, body=body).text()
    try:
        return bool(validated(model, parse(mine.path, text.encode("utf-8"))) == expected)
    except (DocumentError, DocumentErrors):
        return False


def _block(ours: str, theirs: str) -> str:
    return f"<<<<<<< {LABELS[0]}\n{ours}=======\n{theirs}>>>>>>> {LABELS[2]}\n"


def _mark(front: str, theirs: str, keys: list[str]) -> str:
    """Each conflicting entry between git's markers: OURS' lines, then THEIRS'."""
    spans: list[tuple[int, int, str]] = []
    tail = ""
    for key in keys:
        mine, yours = edits.entry_span(front, key), edits.entry_span(theirs, key)
        theirs_text = theirs[yours[0] : yours[1]] if yours else ""
        if mine is None:
            tail += _block("", theirs_text)
        else:
            spans.append((mine[0], mine[1], theirs_text))
    for start, end, theirs_text in sorted(spans, reverse=True):
        front = front[:start] + _block(front[start:end], theirs_text) + front[end:]
    if tail and not front.endswith("\n"):
        front += "\n"
    return front + tail


def _merge_lines(raw: list[bytes], ours: Path) -> list[str]:
    """git's line merge, for a version that is not a valid document."""
    texts = [data.decode("utf-8", "surrogateescape") for data in raw]
    text, clean = vcs.merge_text(texts[0], texts[1], texts[2], LABELS)
    write_atomic(ours, text.encode("utf-8", "surrogateescape"))
    return [] if clean else ["the whole file"]
