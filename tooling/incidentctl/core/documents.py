"""Markdown documents with YAML front-matter: split, parse fast, locate lines, edit minimally.

Bulk reads use libyaml (CSafeLoader): ten thousand files must validate in seconds. Line
numbers are only needed for files with a problem, so the node tree (with marks) is built
lazily. Edits are surgical text replacements at node marks, verified by re-parsing, so a
command touches only the keys it owns and every comment, quote and body byte survives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from incidentctl.core.errors import DocumentError
from incidentctl.core.model import Incident

MAX_BYTES = 1_000_000
_BOM = "\ufeff"
_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
_ANCHOR_HINT = re.compile(r"(?:^|[\s\[{,:\-?])[&*][^\s\]},]")

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc]
    """Safe loader that leaves timestamps as strings so the model judges them."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


class _Dumper(yaml.SafeDumper):
    """Safe dumper that writes timestamps plain, as the loader reads them back: strings."""


_Dumper.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}


@dataclass
class Document:
    """One file: its front-matter data and enough of its text to edit it in place."""

    path: Path
    data: dict[str, Any]
    front: str  # front-matter YAML text, LF line endings, no BOM
    body: str  # everything after the closing fence, LF line endings
    bom: bool = False
    crlf: bool = False
    _nodes: yaml.Node | None = field(default=None, repr=False)

    def text(self) -> str:
        """The document as it should be written back, BOM and line endings as found."""
        text = f"---\n{self.front}---\n{self.body}"
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return (_BOM if self.bom else "") + text

    @property
    def body_line(self) -> int:
        """Line (1-based, in the file) of the body's first line: after both fences."""
        return self.front.count("\n") + 3

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """Line (1-based, in the file) of the value at a key path, or its nearest parent."""
        if self._nodes is None:
            self._nodes = yaml.compose(self.front, Loader=_Loader)
        return _line_in(self._nodes, loc, offset=1)


def line_in_yaml(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Line (1-based) of the value at a key path in a plain YAML file."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    return _line_in(node, loc, offset=0)


def _line_in(node: yaml.Node | None, loc: tuple[str | int, ...], *, offset: int) -> int:
    line = 1 + offset
    for key in loc:
        found = _child(node, key)
        if found is None:
            break
        key_node, node = found
        line = (key_node or node).start_mark.line + 1 + offset
    return line


def _child(node: yaml.Node | None, key: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    elif (
        isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value)
    ):
        return None, node.value[key]
    return None


def decode(path: Path, raw: bytes) -> tuple[str, bool, bool]:
    """Bytes to LF text; remembers a BOM and CRLF endings so a write keeps them."""
    if len(raw) > MAX_BYTES:
        raise DocumentError(
            path,
            f"file is {len(raw):,} bytes, over the {MAX_BYTES:,}-byte limit",
            hint="incident files are small; move logs and dumps elsewhere and link to them",
            rule="size",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DocumentError(
            path,
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            line=line,
            hint="save the file as UTF-8",
            rule="encoding",
        ) from None
    bom = text.startswith(_BOM)
    if bom:
        text = text[1:]
    crlf = "\r\n" in text
    if crlf:
        text = text.replace("\r\n", "\n")
    return text, bom, crlf


def parse(path: Path, raw: bytes, *, data: dict[str, Any] | None = None) -> Document:
    """Split and parse a document; every problem is a DocumentError with a line.

    `data`: the front-matter as parsed before from these very bytes (the parse cache)."""
    text, bom, crlf = decode(path, raw)
    refuse_conflict_markers(path, text)
    if not text.startswith("---"):
        raise DocumentError(
            path,
            "no YAML front-matter",
            line=1,
            hint="the file must start with a line '---', the YAML fields, then another '---'",
            rule="front-matter",
        )
    fences = list(_FENCE.finditer(text, 0))
    if not fences or fences[0].start() != 0 or len(fences) < 2:
        raise DocumentError(
            path,
            "front-matter is not closed",
            line=1,
            hint="end the YAML fields with a line containing only '---'",
            rule="front-matter",
        )
    first, second = fences[0], fences[1]
    front = text[first.end() + 1 : second.start()]
    body = text[second.end() + 1 :] if second.end() < len(text) else ""
    if data is None:
        data = load_yaml(path, front, line_offset=1)
    if not isinstance(data, dict):
        raise DocumentError(
            path,
            "front-matter must be a mapping of fields (key: value)",
            line=2,
            rule="front-matter",
        )
    return Document(path=path, data=data, front=front, body=body, bom=bom, crlf=crlf)


_CONFLICT_START = re.compile(r"^<{7}(?: |$)", re.MULTILINE)
_CONFLICT_MIDDLE = re.compile(r"^={7}$", re.MULTILINE)
_CONFLICT_END = re.compile(r"^>{7}(?: |$)", re.MULTILINE)


def refuse_conflict_markers(path: Path, text: str) -> None:
    """A file git could not merge holds its markers; say so instead of "malformed YAML".

    All three markers, in order, at the start of a line: a lone `=======` is a markdown
    heading underline."""
    if "<<<<<<<" not in text:
        return
    start = _CONFLICT_START.search(text)
    middle = _CONFLICT_MIDDLE.search(text, start.end()) if start else None
    end = _CONFLICT_END.search(text, middle.end()) if middle else None
    if start is None or end is None:
        return
    raise DocumentError(
        path,
        "unresolved merge conflict (<<<<<<<, =======, >>>>>>> markers)",
        line=text.count("\n", 0, start.start()) + 1,
        hint="keep the right lines of each side and delete the markers; the incidentctl merge "
        "driver merges timelines by itself (see the README: merging branches)",
        rule="merge-conflict",
    )


def load_yaml(path: Path, text: str, *, line_offset: int = 0) -> Any:
    """Parse YAML safely: no anchors or aliases (alias bombs), errors with lines."""
    if ("&" in text or "*" in text) and _ANCHOR_HINT.search(text):
        _refuse_aliases(path, text, line_offset)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise DocumentError(
            path,
            f"malformed YAML: {problem}{context}",
            line=line,
            hint="check indentation and quoting; values containing ': ' or '#' need quotes",
            rule="yaml",
        ) from None
    except yaml.YAMLError as exc:
        raise DocumentError(path, f"malformed YAML: {exc}", rule="yaml") from None


def _refuse_aliases(path: Path, text: str, line_offset: int) -> None:
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
                raise DocumentError(
                    path,
                    "YAML anchors and aliases (&name, *name) are not allowed",
                    line=token.start_mark.line + 1 + line_offset,
                    hint="write the value out in full; aliases can expand without bound",
                    rule="yaml",
                )
    except yaml.MarkedYAMLError:
        return  # the parser reports the syntax error with its line


def dump_scalar(value: Any, *, style: str | None = None) -> str:
    """One YAML scalar as it would appear after `key: ` (quoted in `style` if given)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    out = yaml.dump(text, Dumper=_Dumper, allow_unicode=True, width=1 << 30, default_style=style)
    out = out.removesuffix("\n").removesuffix("\n...").rstrip("\n")
    if "\n" in out:  # multi-line plain or quoted scalar: use a JSON-style quoted form
        import json

        out = json.dumps(text, ensure_ascii=False)
    return out


def dump_block(value: Any, indent: int) -> str:
    """A mapping or list as block YAML lines at `indent` spaces, ending with a newline."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:\n")
                lines.append(dump_block(item, indent + 2))
            elif isinstance(item, list):
                lines.append(f"{pad}{key}: []\n")
            elif isinstance(item, dict):
                lines.append(f"{pad}{key}: {{}}\n")
            else:
                lines.append(f"{pad}{key}: {dump_scalar(item)}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                inner = dump_block(item, indent + 2)
                lines.append(f"{pad}- " + inner[indent + 2 :])
            else:
                lines.append(f"{pad}- {dump_scalar(item)}\n")
    return "".join(lines)


@dataclass
class Loaded:
    """A parsed incident with the document it came from (for located errors and edits)."""

    doc: Document
    incident: Incident

    @property
    def path(self) -> Path:
        return self.doc.path
