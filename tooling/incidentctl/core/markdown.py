"""The markdown bodies of PIRs and runbooks: their sections, and the TODO placeholders left in them.

One reading for every check, so a PIR and a runbook agree on where a section starts and what
is still a placeholder. Headings and code fences follow CommonMark (ATX headings, fences of
three or more backticks or tildes indented at most three spaces); a heading inside a fence is
code. Not a full markdown parser: containers (lists, block quotes) are not tracked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

PLACEHOLDER = "TODO"
# The word, not a substring: TODOS or TODO_LIST in a log excerpt are not placeholders.
_PLACEHOLDER = re.compile(rf"\b{PLACEHOLDER}\b")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?=[ \t]|$)(.*)$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+$")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_CODE_SPAN = re.compile(r"(`+).+?\1")

Line = tuple[int, str]  # (line in the file, text)


@dataclass(frozen=True)
class Section:
    """A heading and the lines under it (the heading's own line is not among them)."""

    title: str
    level: int
    line: int  # of the heading, in the file
    lines: list[Line]


def has_placeholder(text: str) -> bool:
    """Whether a value (a front-matter field, a line) still holds the template's TODO."""
    return PLACEHOLDER in text and _PLACEHOLDER.search(text) is not None


def heading(text: str) -> tuple[int, str] | None:
    """(level, title) of an ATX heading line, None for any other line (fences not considered)."""
    match = _HEADING.match(text)
    if match is None:
        return None
    title = match.group(2).strip(" \t")
    if title.endswith("#"):  # closing hashes can only be there then
        title = _CLOSING_HASHES.sub("", title).strip(" \t")
    return len(match.group(1)), title


def in_code(texts: list[str]) -> Iterator[bool]:
    """For each line, whether it belongs to a fenced code block (its fence lines included).

    A fence closes only with a line of the same character, at least as long as the opening
    run, and nothing but spaces after it; a backtick fence's info string holds no backtick.
    A fence left open runs to the end."""
    fence: str | None = None
    for text in texts:
        if fence is not None:
            closing = _FENCE_CLOSE.match(text) if fence[0] in text else None
            if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
                fence = None
            yield True
            continue
        opening = _FENCE_OPEN.match(text) if ("```" in text or "~~~" in text) else None
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = opening.group(1)
            yield True
        else:
            yield False


def _fenced(text: str) -> bool:
    """Whether any line of `text` could open a fence (no line of it is code otherwise)."""
    return "```" in text or "~~~" in text


def _headings(body: str, texts: list[str]) -> list[tuple[int, int, str]]:
    """(index, level, title) of every heading outside code; `texts` is `body`'s lines."""
    out: list[tuple[int, int, str]] = []
    if "#" not in body:
        return out
    if not _fenced(body):  # no code: only the lines with a '#' can be headings
        for index in [i for i, text in enumerate(texts) if "#" in text]:
            found = heading(texts[index])
            if found is not None:
                out.append((index, *found))
        return out
    for index, (text, code) in enumerate(zip(texts, in_code(texts), strict=True)):
        found = None if code or "#" not in text else heading(text)
        if found is not None:
            out.append((index, *found))
    return out


def _lines(texts: list[str], first_line: int, start: int, end: int) -> list[Line]:
    """(line in the file, text) of texts[start:end]."""
    return list(enumerate(texts[start:end], first_line + start))


def outline(body: str, first_line: int) -> list[Section]:
    """Every section of a body; one runs to the next heading of its level or above, so a
    section holds its sub-sections' lines too. `first_line` is the body's first line in
    the file."""
    texts = body.split("\n")
    heads = _headings(body, texts)
    # each section ends at the next heading of its level or above: the open ones form a
    # stack of rising levels, closed by the first heading at or above their level
    ends = [len(texts)] * len(heads)
    open_: list[int] = []
    for position, (index, level, _) in enumerate(heads):
        while open_ and heads[open_[-1]][1] >= level:
            ends[open_.pop()] = index
        open_.append(position)
    return [
        Section(title, level, first_line + index, _lines(texts, first_line, index + 1, end))
        for (index, level, title), end in zip(heads, ends, strict=True)
    ]


def split_sections(body: str, first_line: int, depth: int) -> list[Section]:
    """Each heading of level `depth` or above with the lines up to the next one: deeper
    headings are lines of their section. What precedes the first is left to the caller."""
    texts = body.split("\n")
    heads = [h for h in _headings(body, texts) if h[1] <= depth]
    out: list[Section] = []
    for position, (index, level, title) in enumerate(heads):
        end = heads[position + 1][0] if position + 1 < len(heads) else len(texts)
        out.append(
            Section(title, level, first_line + index, _lines(texts, first_line, index + 1, end))
        )
    return out


def prose(lines: list[Line]) -> list[Line]:
    """The lines a reader sees as prose: HTML comments blanked, fenced code left out."""
    return _prose(lines, "\n".join([t for _, t in lines]))


def _prose(lines: list[Line], text: str) -> list[Line]:
    """`prose` of lines already joined into `text`."""
    if not lines:  # no lines join into "", which splits into one
        return []
    if "<!--" in text:
        text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    visible = text.split("\n")
    if not _fenced(text):
        return [(number, line) for (number, _), line in zip(lines, visible, strict=True)]
    return [
        (number, line)
        for (number, _), line, code in zip(lines, visible, in_code(visible), strict=True)
        if not code
    ]


def placeholders(lines: list[Line]) -> list[Line]:
    """(line, text) of every TODO a reader would see: one in code (a fence or a `span`) or in
    an HTML comment is an example or a note to the author, not a placeholder."""
    text = "\n".join([t for _, t in lines])
    # a TODO can only show once a comment or a code span between its letters is taken out
    if PLACEHOLDER not in text and "<!--" not in text and "`" not in text:
        return []
    return [
        (number, line.strip())
        for number, line in _prose(lines, text)
        if (PLACEHOLDER in line or "`" in line) and has_placeholder(_CODE_SPAN.sub("", line))
    ]


def has_content(lines: list[Line]) -> bool:
    """Anything but blank lines, comments and sub-headings (a code block counts)."""
    text = "\n".join([t for _, t in lines])
    if "<!--" in text:
        text = _COMMENT.sub("", text)
    return any(line.strip() and heading(line) is None for line in text.split("\n"))
